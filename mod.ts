/**
 * TLS sockets for Deno and Bun on rustls: rustls-ffi, built into one shared
 * library, loaded through each runtime's own FFI, driving raw non-blocking
 * sockets without ever blocking the event loop.
 *
 * @example
 * ```ts
 * import { connectTls } from "./mod.ts";
 *
 * const conn = await connectTls({ hostname: "example.com", port: 443, alpnProtocols: ["http/1.1"] });
 * const info = await conn.handshake();
 * console.log(info.protocol, info.cipherSuite, info.keyExchangeGroup);
 * conn.close();
 * ```
 *
 * @module
 */
export * from "./client.ts";
export * from "./server.ts";
export * from "./transports.ts";
export * from "./certificate.ts";
export { liveNativeObjects } from "./lib/core/native.ts";
export type { LiveObjects } from "./lib/core/native.ts";
export { LIBRARY_PATH_VARIABLE, NativeLibraryError } from "./ffi/load.ts";
export type { LibraryAttempt } from "./ffi/load.ts";
export { installNativeLibrary, RELEASE_DOWNLOAD_URL } from "./ffi/install.ts";
export type { InstallNativeLibraryOptions } from "./ffi/install.ts";
