/**
 * The server side alone: `listenTls` (TCP or Unix-domain socket) and
 * `acceptTls` (serve TLS over an existing connection), with their types.
 *
 * @example
 * ```ts
 * import { listenTls } from "@rustls-sockets/tls/server";
 *
 * const listener = await listenTls({ port: 8443, cert, key });
 * for await (const conn of listener) {
 *   conn.handshake().then(() => conn.close(), () => conn.close());
 * }
 * ```
 *
 * @module
 */
export { listenTls, TlsListener } from "./lib/listener.ts";
export { SocketListener } from "./lib/socket_listener.ts";
export { acceptTls } from "./lib/starttls.ts";
export type { AcceptTlsOptions, TlsCarrier } from "./lib/starttls.ts";
export { TlsConn } from "./lib/conn.ts";
export { TlsError } from "./lib/errors.ts";
export type { TlsErrorCode } from "./lib/errors.ts";
export type {
  Addr,
  CertificateAndKey,
  ClientAuthOptions,
  ClientHelloInfo,
  HandshakeInfo,
  ListenTlsOptions,
  NetAddr,
  TlsServerOptions,
  TlsVersion,
  UnixAddr,
} from "./lib/types.ts";
