/**
 * `installNativeLibrary()`: for users without npm's platform packages (JSR),
 * downloads this exact version's prebuilt library for the platform, checks
 * its SHA-256 against the digests that ship inside the module, and only then
 * stores it in a cache directory, where the loader then finds it. Never at
 * import, never implicitly.
 *
 * @module
 */
import { LIBRARY_DIGESTS } from "./library_digests.ts";
import { LIBRARY_FILE, NativeLibraryError, useInstalledLibrary } from "./load.ts";
import { VERSION } from "./version.ts";

/** Where releases are downloaded from by default: `<url>/v<version>/<file>`. */
export const RELEASE_DOWNLOAD_URL = "https://github.com/rustls-sockets/tls/releases/download";

/** Options of {@link installNativeLibrary}. */
export interface InstallNativeLibraryOptions {
  /** The release download URL (a mirror): `<url>/v<version>/librustls_sockets-<platform>.so`. */
  url?: string;
  /** The cache directory (default `$XDG_CACHE_HOME` or `~/.cache`, then `rustls-sockets`). */
  cacheDir?: string;
}

/** The platform key of the digests, e.g. `linux-x64-gnu`. */
function platformKey(): string {
  const proc = (globalThis as { process?: { platform?: string; arch?: string } }).process;
  if (proc?.platform === "linux" && proc.arch === "x64") return "linux-x64-gnu";
  if (proc?.platform === "linux" && proc.arch === "arm64") return "linux-arm64-gnu";
  throw new NativeLibraryError(
    `no prebuilt rustls-sockets library exists for ${proc?.platform}/${proc?.arch}: build it ` +
      "from a clone of the repository (bash scripts/build-rustls-ffi.sh)",
  );
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const { createHash } = await import("node:crypto");
  return createHash("sha256").update(bytes).digest("hex");
}

async function defaultCacheDir(): Promise<string> {
  const { homedir } = await import("node:os");
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  return `${proc?.env.XDG_CACHE_HOME || `${homedir()}/.cache`}/rustls-sockets`;
}

/**
 * Downloads, verifies and caches the native library of this version for this
 * platform, and makes the loader use it; resolves with its path. A cached
 * copy whose digest still matches is used without a download. A download
 * whose SHA-256 differs from the digest shipped in the module is refused
 * (`NativeLibraryError`) and nothing is stored.
 *
 * @example
 * ```ts
 * import { installNativeLibrary, connectTls } from "jsr:@rustls-sockets/tls";
 * await installNativeLibrary(); // once; then the library loads from the cache
 * ```
 */
export async function installNativeLibrary(
  options: InstallNativeLibraryOptions = {},
): Promise<string> {
  const platform = platformKey();
  const expected = LIBRARY_DIGESTS.version === VERSION
    ? LIBRARY_DIGESTS.libraries[platform]
    : undefined;
  if (expected === undefined) {
    throw new NativeLibraryError(
      `this copy of rustls-sockets ${VERSION} ships no digest for a ${platform} library (it was ` +
        "not made by a release): build the library from a clone of the repository " +
        "(bash scripts/build-rustls-ffi.sh)",
    );
  }
  const { mkdir, readFile, rename, writeFile } = await import("node:fs/promises");
  const dir = `${options.cacheDir ?? await defaultCacheDir()}/${VERSION}/${platform}`;
  const path = `${dir}/${LIBRARY_FILE}`;
  try {
    if (await sha256(await readFile(path)) === expected) {
      useInstalledLibrary(path);
      return path;
    }
  } catch {
    // not cached yet
  }
  const url = `${options.url ?? RELEASE_DOWNLOAD_URL}/v${VERSION}/librustls_sockets-${platform}.so`;
  let bytes: Uint8Array;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    throw new NativeLibraryError(`downloading ${url} failed: ${error}`, [], error);
  }
  const actual = await sha256(bytes);
  if (actual !== expected) {
    throw new NativeLibraryError(
      `the library downloaded from ${url} has SHA-256 ${actual}, not the ${expected} this ` +
        "module ships for it: refused, nothing was stored",
    );
  }
  await mkdir(dir, { recursive: true });
  const partial = `${path}.${Date.now()}.partial`;
  await writeFile(partial, bytes, { mode: 0o644 });
  await rename(partial, path);
  useInstalledLibrary(path);
  return path;
}
