/**
 * Finds and opens the native library once per process, with the loader of
 * the runtime we run in. Nothing happens at import time.
 *
 * Search order: the `RUSTLS_SOCKETS_LIB` environment variable (a file path),
 * then `native/build/librustls_sockets.so` next to this module (where
 * `scripts/build-rustls-ffi.sh` puts it).
 *
 * @module
 */
import type { NativeLibrary } from "./symbols.ts";

/** The environment variable that overrides the library path. */
export const LIBRARY_PATH_VARIABLE = "RUSTLS_SOCKETS_LIB";

let loading: Promise<NativeLibrary> | undefined;

function readEnv(name: string): string | undefined {
  try {
    const deno = (globalThis as { Deno?: { env: { get(n: string): string | undefined } } }).Deno;
    if (deno) return deno.env.get(name);
    const proc = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
    return proc?.env[name];
  } catch {
    return undefined; // no permission to read the environment: use the default path
  }
}

function defaultPath(): string {
  const url = new URL("../native/build/librustls_sockets.so", import.meta.url);
  if (url.protocol !== "file:") {
    // Imported from JSR or another server: no native file comes with the code.
    throw new NativeLibraryError(
      url.href,
      new Error(`the module was imported from ${url.origin}, not from disk`),
    );
  }
  return decodeURIComponent(url.pathname);
}

/** Error thrown when the native library cannot be found or opened. */
export class NativeLibraryError extends Error {
  /** Creates the error; `cause` is the loader's own failure. */
  constructor(path: string, cause: unknown) {
    super(
      `cannot load the rustls-sockets native library from ${path}: build it with ` +
        `scripts/build-rustls-ffi.sh (from a clone of the repository) and set ` +
        `${LIBRARY_PATH_VARIABLE} to the built file's path`,
      { cause },
    );
    this.name = "NativeLibraryError";
  }
}

/** The loaded native library (loaded on first use). */
export function loadNative(): Promise<NativeLibrary> {
  loading ??= (async () => {
    let path: string;
    try {
      path = readEnv(LIBRARY_PATH_VARIABLE) || defaultPath();
    } catch (error) {
      loading = undefined;
      throw error;
    }
    try {
      if ("Bun" in globalThis) {
        const { openBun } = await import("./bun.ts");
        return await openBun(path);
      }
      const { openDeno } = await import("./deno.ts");
      return openDeno(path);
    } catch (error) {
      loading = undefined;
      throw new NativeLibraryError(path, error);
    }
  })();
  return loading;
}
