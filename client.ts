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
export { connectTls } from "./lib/connect.ts";
export { startTls } from "./lib/starttls.ts";
export type { StartTlsOptions, TlsCarrier } from "./lib/starttls.ts";
export { TlsConn } from "./lib/conn.ts";
export type { OperationOptions } from "./lib/conn.ts";
export { TlsError } from "./lib/errors.ts";
export type { TlsErrorCode, TlsErrorDetails } from "./lib/errors.ts";
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
} from "./lib/types.ts";
