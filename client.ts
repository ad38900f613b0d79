/**
 * The client side alone: `connectTls` (TCP or Unix-domain socket) and
 * `startTls` (upgrade an existing connection), with their types.
 *
 * @example
 * ```ts
 * import { connectTls } from "@rustls-sockets/tls/client";
 *
 * await using conn = await connectTls({ hostname: "example.com", port: 443 });
 * console.log((await conn.handshake()).protocol);
 * ```
 *
 * @module
 */
export { connectTls } from "./lib/api/connect.ts";
export { startTls } from "./lib/api/starttls.ts";
export type { StartTlsOptions, TlsCarrier } from "./lib/api/starttls.ts";
export { TlsConn } from "./lib/api/conn.ts";
export type { OperationOptions } from "./lib/api/conn.ts";
export { TlsError } from "./lib/core/errors.ts";
export type { TlsErrorCode, TlsErrorDetails } from "./lib/core/errors.ts";
export type {
  Addr,
  ConnectTlsOptions,
  ConnectUnixTlsOptions,
  HandshakeInfo,
  NetAddr,
  StreamAddr,
  TlsClientOptions,
  TlsVersion,
  UnixAddr,
} from "./lib/core/types.ts";
