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
export { connectTls } from "./lib/connect.ts";
export { TlsConn } from "./lib/conn.ts";
export type { OperationOptions } from "./lib/conn.ts";
export { listenTls, TlsListener } from "./lib/listener.ts";
export { SocketListener } from "./lib/socket_listener.ts";
export { acceptTls, startTls } from "./lib/starttls.ts";
export type { AcceptTlsOptions, StartTlsOptions, TlsCarrier } from "./lib/starttls.ts";
export { connect, listen, PlainConn, PlainListener } from "./lib/plain.ts";
export { webSocketStreams } from "./lib/websocket.ts";
export type { WebSocketLike } from "./lib/websocket.ts";
export type { ConnectOptions, ListenOptions } from "./lib/plain.ts";
export type {
  BunSocketHandlers,
  BunSocketLike,
  ConnLike,
  NodeSocketLike,
  StreamPair,
} from "./lib/channel.ts";
export { TlsError } from "./lib/errors.ts";
export { describeCertificate } from "./lib/certificate.ts";
export { liveNativeObjects } from "./lib/native.ts";
export type { LiveObjects } from "./lib/native.ts";
export type { TlsErrorCode, TlsErrorDetails } from "./lib/errors.ts";
export type {
  Addr,
  CertificateAndKey,
  CertificateSummary,
  ClientAuthOptions,
  ClientHelloInfo,
  ConnectTlsOptions,
  ConnectUnixTlsOptions,
  HandshakeInfo,
  ListenTlsOptions,
  NetAddr,
  StreamAddr,
  TlsClientOptions,
  TlsServerOptions,
  TlsVersion,
  UnixAddr,
} from "./lib/types.ts";
export { LIBRARY_PATH_VARIABLE, NativeLibraryError } from "./ffi/load.ts";
