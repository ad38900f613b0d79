/**
 * Finds and opens the native library once per process, with the loader of
 * the runtime we run in. Nothing happens at import time.
 *
 * Search order: the `RUSTLS_SOCKETS_LIB` environment variable (a file path);
 * a path set by `installNativeLibrary()`; the installed platform package
 * (`@rustls-sockets/tls-linux-x64-gnu` and its siblings, npm's
 * `optionalDependencies`); then `native/build/librustls_sockets.so` next to
 * this module (a clone of the repository, built with
 * `scripts/build-rustls-ffi.sh`). A library of another version than this
 * module's is refused.
 *
 * @module
 */
import type { NativeLibrary } from "./symbols.ts";
import { VERSION } from "./version.ts";

/** The environment variable that overrides the library path. */
export const LIBRARY_PATH_VARIABLE = "RUSTLS_SOCKETS_LIB";

/** The library's file name, in the platform packages and the repository's build. */
export const LIBRARY_FILE = "librustls_sockets.so";

/** How to get a library, said in every error that found none that fits. */
const REMEDY = "install the platform package with npm or Bun (it comes as an optional " +
  "dependency), call installNativeLibrary() (JSR), or build it from a clone of the " +
  "repository: bash scripts/build-rustls-ffi.sh";

/** One place the loader looked, and why it did not load from there. */
export interface LibraryAttempt {
  /** The path, or what the place is when there is no path. */
  readonly where: string;
  /** Why nothing was loaded from it. */
  readonly problem: string;
}

/** Error thrown when the native library cannot be found, opened, or is of another version. */
export class NativeLibraryError extends Error {
  /** Where the loader looked, in order. */
  readonly attempts: readonly LibraryAttempt[];

  /** Creates the error; `cause` is the loader's own failure, if any. */
  constructor(message: string, attempts: readonly LibraryAttempt[] = [], cause?: unknown) {
    const tried = attempts.map((a) => `\n  - ${a.where}: ${a.problem}`).join("");
    super(tried === "" ? message : `${message}; tried:${tried}`, { cause });
    this.name = "NativeLibraryError";
    this.attempts = attempts;
  }
}

let loading: Promise<NativeLibrary> | undefined;
let installed: string | undefined;

/** @internal Makes the loader use `path` (what `installNativeLibrary` verified). */
export function useInstalledLibrary(path: string): void {
  installed = path;
}

interface DenoLike {
  env: { get(name: string): string | undefined };
  permissions: {
    querySync(descriptor: { name: string; variable?: string; path?: string }): { state: string };
  };
}

function deno(): DenoLike | undefined {
  return "Bun" in globalThis ? undefined : (globalThis as { Deno?: DenoLike }).Deno;
}

/** `RUSTLS_SOCKETS_LIB`, or an error when Deno may not read it: never a silent fallback. */
function pathFromEnvironment(): string | undefined {
  const d = deno();
  if (d) {
    const state = d.permissions.querySync({ name: "env", variable: LIBRARY_PATH_VARIABLE }).state;
    if (state !== "granted") {
      throw new NativeLibraryError(
        `Deno needs --allow-env=${LIBRARY_PATH_VARIABLE} (or --allow-env) so that the ` +
          `rustls-sockets native library's path can be read from ${LIBRARY_PATH_VARIABLE}; ` +
          "without it the library it names would be ignored",
      );
    }
    return d.env.get(LIBRARY_PATH_VARIABLE) || undefined;
  }
  const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  return proc?.env[LIBRARY_PATH_VARIABLE] || undefined;
}

/** The npm package holding the prebuilt library for this machine, if there is one. */
export function platformPackageName(): string | undefined {
  const proc = (globalThis as { process?: { platform?: string; arch?: string } }).process;
  if (proc?.platform !== "linux") return undefined;
  if (proc.arch === "x64") return "@rustls-sockets/tls-linux-x64-gnu";
  if (proc.arch === "arm64") return "@rustls-sockets/tls-linux-arm64-gnu";
  return undefined;
}

/** The installed platform package's library, or why there is none. */
async function platformPackagePath(): Promise<{ path?: string; problem?: string }> {
  const name = platformPackageName();
  if (name === undefined) return { problem: "no platform package is built for this machine" };
  if (!import.meta.url.startsWith("file:")) return { problem: `${name}: not on disk` };
  try {
    const { createRequire } = await import("node:module");
    const manifest = createRequire(import.meta.url).resolve(`${name}/package.json`);
    return { path: manifest.replace(/package\.json$/, LIBRARY_FILE) };
  } catch {
    return { problem: `${name} is not installed` };
  }
}

/** The repository's own build next to this module, or why there is none. */
function repositoryBuildPath(): { path?: string; problem?: string } {
  const url = new URL(`../native/build/${LIBRARY_FILE}`, import.meta.url);
  if (url.protocol !== "file:") {
    return { problem: `the module was imported from ${url.origin}, not from disk` };
  }
  return { path: decodeURIComponent(url.pathname) };
}

async function exists(path: string): Promise<boolean> {
  try {
    const { stat } = await import("node:fs/promises");
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Opens `path` with the runtime's loader. */
async function open(path: string): Promise<NativeLibrary> {
  const d = deno();
  if (d) {
    if (d.permissions.querySync({ name: "ffi", path }).state !== "granted") {
      throw new NativeLibraryError(
        `Deno needs --allow-ffi (or --allow-ffi=${path}) to load the rustls-sockets native ` +
          `library from ${path}`,
      );
    }
    const { openDeno } = await import("./deno.ts");
    return openDeno(path);
  }
  const { openBun } = await import("./bun.ts");
  return await openBun(path);
}

/** The library's own version, read through the library. */
function versionOf(lib: NativeLibrary): string {
  const buf = new Uint8Array(64);
  const n = new BigUint64Array(1);
  lib.symbols.rustls_sockets_version(buf, buf.length, n);
  return new TextDecoder().decode(buf.subarray(0, Number(n[0])));
}

/** Opens `path` and checks it is this module's version; errors say how to get the right one. */
async function openChecked(path: string): Promise<NativeLibrary> {
  let lib: NativeLibrary;
  try {
    lib = await open(path);
  } catch (error) {
    if (error instanceof NativeLibraryError) throw error;
    const text = String((error as Error)?.message ?? error);
    const symbol = /symbol[^a-z_]*"?([a-z][a-z0-9_]+)"?/i.exec(text)?.[1];
    throw new NativeLibraryError(
      symbol === undefined
        ? `cannot load the rustls-sockets native library from ${path} (${text}): ${REMEDY}`
        : `the native library at ${path} lacks the function ${symbol}: it is not the library ` +
          `of rustls-sockets ${VERSION}; ${REMEDY}`,
      [],
      error,
    );
  }
  const version = versionOf(lib);
  if (version !== VERSION) {
    throw new NativeLibraryError(
      `the native library at ${path} is version ${version}, this module is ${VERSION}; ${REMEDY}`,
    );
  }
  return lib;
}

/** Finds the library by the search order above. */
async function find(): Promise<string> {
  const fromEnvironment = pathFromEnvironment();
  if (fromEnvironment !== undefined) {
    if (!(await exists(fromEnvironment))) {
      throw new NativeLibraryError(
        `${LIBRARY_PATH_VARIABLE} names ${fromEnvironment}, which is not a file`,
      );
    }
    return fromEnvironment;
  }
  const attempts: LibraryAttempt[] = [{ where: LIBRARY_PATH_VARIABLE, problem: "not set" }];
  if (installed !== undefined) return installed;
  const candidates = [await platformPackagePath(), repositoryBuildPath()];
  for (const [i, candidate] of candidates.entries()) {
    const kind = i === 0 ? "platform package" : "repository build";
    if (candidate.path === undefined) {
      attempts.push({ where: kind, problem: candidate.problem! });
    } else if (await exists(candidate.path)) {
      return candidate.path;
    } else {
      attempts.push({ where: candidate.path, problem: "no such file" });
    }
  }
  throw new NativeLibraryError(`no rustls-sockets native library found: ${REMEDY}`, attempts);
}

/** The loaded native library (loaded on first use). */
export function loadNative(): Promise<NativeLibrary> {
  loading ??= (async () => {
    try {
      return await openChecked(await find());
    } catch (error) {
      loading = undefined;
      throw error;
    }
  })();
  return loading;
}
