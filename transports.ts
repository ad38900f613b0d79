/**
 * STARTTLS and TLS over any transport: plaintext connections that upgrade
 * (`connect`, `listen`, `PlainConn`), `startTls` / `acceptTls`, and
 * `webSocketStreams` to run TLS through a WebSocket.
 *
 * @example
 * ```ts
 * import { connect, startTls } from "@rustls-sockets/tls/transports";
 *
 * const plain = await connect({ hostname: "mail.example.com", port: 587 });
 * // ... EHLO, STARTTLS, "220" over plain.read / plain.write ...
 * const conn = await startTls(plain, { serverName: "mail.example.com" });
 * ```
 *
 * @module
 */
export { connect, listen, PlainConn, PlainListener } from "./lib/sockets/plain.ts";
export { SocketListener } from "./lib/sockets/socket_listener.ts";
export type { ConnectOptions, ListenOptions } from "./lib/sockets/plain.ts";
export { acceptTls, startTls } from "./lib/api/starttls.ts";
export type { AcceptTlsOptions, StartTlsOptions, TlsCarrier } from "./lib/api/starttls.ts";
export { webSocketStreams } from "./lib/transports/websocket.ts";
export type { WebSocketLike } from "./lib/transports/websocket.ts";
export type {
  BunSocketHandlers,
  BunSocketLike,
  ConnLike,
  NodeSocketLike,
  StreamPair,
} from "./lib/transports/carriers.ts";
