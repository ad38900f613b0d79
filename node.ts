/**
 * Node-shaped sockets over this module's TLS, for the libraries Deno and
 * Bun users reach databases and HTTP with: `toNodeSocket(conn)` turns a
 * `TlsConn` into a `node:stream` `Duplex` shaped like `tls.TLSSocket`;
 * `connect` and `createServer` are shaped like `tls.connect` and
 * `tls.createServer`; `createFetch` makes a `fetch` whose TLS is this
 * module's. Recipes for `node:http`, `node:http2`, pg, ioredis and
 * `createFetch`: docs/node.md.
 *
 * @example `node:http` over this module's TLS
 * ```ts
 * import http from "node:http";
 * import { createServer, serveHttp } from "@rustls-sockets/tls/node";
 *
 * const tls = createServer({ cert, key, ALPNProtocols: ["http/1.1"] });
 * serveHttp(tls, http.createServer((req, res) => res.end("hello\n")));
 * tls.listen(8443);
 * ```
 *
 * @module
 */
export { TlsNodeSocket, toNodeSocket } from "./lib/node/socket.ts";
export type {
  CipherNameAndProtocol,
  ConnectTarget,
  SocketAddressInfo,
  TlsNodeSocketOptions,
} from "./lib/node/socket.ts";
export { connect, createSocket, postgresSslRequest } from "./lib/node/connect.ts";
export { createServer, serveHttp, TlsNodeServer } from "./lib/node/server.ts";
export type { ConnectionTaker, NodeListenOptions } from "./lib/node/server.ts";
export type { NodeConnectOptions, NodeServerOptions, Pem } from "./lib/node/options.ts";
export { toNodeError } from "./lib/node/errors.ts";
export type { NodeTlsError } from "./lib/node/errors.ts";
export type { DetailedPeerCertificate, PeerCertificate } from "./lib/node/certificate.ts";
export { createFetch } from "./lib/node/fetch.ts";
export type { CreateFetchOptions, TlsFetch } from "./lib/node/fetch.ts";
// The module's own types these signatures mention.
export { TlsConn } from "./lib/api/conn.ts";
export type { OperationOptions } from "./lib/api/conn.ts";
export { TlsListener } from "./lib/api/listener.ts";
export { SocketListener } from "./lib/sockets/socket_listener.ts";
export { PlainConn } from "./lib/sockets/plain.ts";
export { TlsError } from "./lib/core/errors.ts";
export type { TlsErrorCode } from "./lib/core/errors.ts";
export type { NodeSocketLike } from "./lib/transports/carriers.ts";
export type {
  Addr,
  CertificateAndKey,
  ClientAuthOptions,
  ClientHelloInfo,
  HandshakeInfo,
  ListenTlsOptions,
  NetAddr,
  ServerCertificates,
  StreamAddr,
  TlsClientOptions,
  TlsServerOptions,
  TlsVersion,
  UnixAddr,
} from "./lib/core/types.ts";
