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
export { listenTls, TlsListener } from "./lib/api/listener.ts";
export { SocketListener } from "./lib/sockets/socket_listener.ts";
export { acceptTls } from "./lib/api/starttls.ts";
export type { AcceptTlsOptions, TlsCarrier } from "./lib/api/starttls.ts";
export { TlsConn } from "./lib/api/conn.ts";
export { TlsError } from "./lib/core/errors.ts";
export type { TlsErrorCode } from "./lib/core/errors.ts";
export type {
  Addr,
  CertificateAndKey,
  ClientAuthOptions,
  ClientHelloInfo,
  HandshakeInfo,
  ListenTlsOptions,
  NetAddr,
  ServerCertificates,
  TlsServerOptions,
  TlsVersion,
  UnixAddr,
} from "./lib/core/types.ts";
