/**
 * The client side shaped like `node:tls`: `connect()` returns a
 * `TlsNodeSocket` at once and emits `secureConnect`; `createSocket()`
 * makes one that a library connects itself (pg's `stream` option);
 * `postgresSslRequest` is PostgreSQL's upgrade step for `negotiate`.
 *
 * @module
 */
import { connectTls } from "../api/connect.ts";
import { startTls } from "../api/starttls.ts";
import type { TlsConn } from "../api/conn.ts";
import { TlsError } from "../core/errors.ts";
import { connect as connectPlain } from "../sockets/plain.ts";
import type { PlainConn } from "../sockets/plain.ts";
import type { NodeSocketLike } from "../transports/carriers.ts";
import { type ClientPlan, clientPlan, type NodeConnectOptions } from "./options.ts";
import {
  connectingSocket,
  type ConnectTarget,
  type TlsNodeSocket,
  unconnectedSocket,
} from "./socket.ts";

/** Resolves once a `node:net` socket that is still connecting is connected. */
function connected(socket: NodeSocketLike): Promise<void> {
  const pending = (socket as { connecting?: boolean }).connecting === true;
  if (!pending) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const done = (error?: unknown): void => {
      socket.off("connect", done);
      socket.off("error", done);
      if (error instanceof Error) reject(error);
      else resolve();
    };
    socket.on("connect", done);
    socket.on("error", done);
  });
}

/** Opens the connection `plan` describes. */
async function open(plan: ClientPlan): Promise<TlsConn> {
  if (plan.socket !== undefined) {
    await connected(plan.socket);
    return await startTls(plan.socket, { ...plan.tls, serverName: plan.serverName });
  }
  if (plan.negotiate !== undefined) {
    const plain: PlainConn = await connectPlain(
      plan.path !== undefined ? { path: plan.path } : { hostname: plan.host, port: plan.port! },
    );
    try {
      await plan.negotiate(plain);
    } catch (error) {
      plain.close();
      throw error;
    }
    return await startTls(plain, { ...plan.tls, serverName: plan.serverName });
  }
  if (plan.path !== undefined) {
    return await connectTls({ ...plan.tls, path: plan.path, serverName: plan.serverName });
  }
  return await connectTls({ ...plan.tls, hostname: plan.host, port: plan.port! });
}

/** A socket whose connection `plan` opens, with `timeout` applied. */
function socketFor(plan: ClientPlan, listener?: () => void): TlsNodeSocket {
  const socket = connectingSocket(open(plan), { allowHalfOpen: plan.allowHalfOpen });
  if (plan.timeout !== undefined) socket.setTimeout(plan.timeout);
  if (listener) socket.once("secureConnect", listener);
  return socket;
}

/**
 * Connects like `tls.connect`: returns the socket at once; it emits
 * `connect` and `secureConnect` once the handshake is done, or `error`
 * (Node's code, the `TlsError` as `cause`) and `close`. Takes Node's option
 * names (`host`, `port`, `servername`, `ca`, `cert`, `key`,
 * `ALPNProtocols`, `minVersion`, `maxVersion`, `rejectUnauthorized`,
 * `checkServerIdentity`, `socket`, `timeout`) and every option of
 * `connectTls` (`pinnedPublicKeys`, `verifyPeer`, `crls`, `ech`, ...). An
 * option neither knows throws `ERR_INVALID_ARG_VALUE`.
 *
 * @example
 * ```ts
 * import { connect } from "@rustls-sockets/tls/node";
 *
 * const socket = connect({ host: "example.com", port: 443, ALPNProtocols: ["http/1.1"] }, () => {
 *   console.log(socket.getProtocol(), socket.alpnProtocol, socket.authorized);
 *   socket.end("GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n");
 * });
 * socket.on("data", (chunk) => console.log(chunk.toString()));
 * ```
 */
export function connect(options: NodeConnectOptions, listener?: () => void): TlsNodeSocket;
/** Connects to `port` on `host` (default `localhost`), as `tls.connect(port, host, options)`. */
export function connect(
  port: number,
  host?: string,
  options?: NodeConnectOptions,
  listener?: () => void,
): TlsNodeSocket;
export function connect(
  first: NodeConnectOptions | number,
  second?: string | (() => void),
  third?: NodeConnectOptions,
  fourth?: () => void,
): TlsNodeSocket {
  if (typeof first === "number") {
    const host = typeof second === "string" ? second : undefined;
    return socketFor(clientPlan({ ...third, port: first, host: host ?? third?.host }), fourth);
  }
  return socketFor(clientPlan(first), typeof second === "function" ? second : undefined);
}

/**
 * An unconnected `TlsNodeSocket` for libraries that make a socket and call
 * its `connect(port, host)` (or `connect(path)`) themselves, as pg does with
 * its `stream` option. `options` are `connect`'s, without the address; the
 * address given to `socket.connect()` wins.
 *
 * @example pg over this module's TLS
 * ```ts
 * import pg from "pg";
 * import { createSocket, postgresSslRequest } from "@rustls-sockets/tls/node";
 *
 * const client = new pg.Client({
 *   host: "db.internal", user, password, database,
 *   stream: () => createSocket({ ca: [ca], negotiate: postgresSslRequest }),
 * });
 * await client.connect();
 * ```
 */
export function createSocket(options: Omit<NodeConnectOptions, "port"> = {}): TlsNodeSocket {
  // Checked now, so a bad option throws here rather than at connect().
  clientPlan({ ...options, port: 1 });
  return unconnectedSocket((target: ConnectTarget) => {
    const where = target.path !== undefined
      ? { path: target.path }
      : { host: target.host ?? options.host ?? options.hostname, port: target.port };
    const merged: NodeConnectOptions = { ...options, ...where };
    if (where.path !== undefined) delete merged.port;
    if (merged.host === undefined) delete merged.host;
    if ("host" in where && where.host !== undefined) delete merged.hostname;
    let plan: ClientPlan;
    try {
      plan = clientPlan(merged);
    } catch (error) {
      return Promise.reject(error);
    }
    return open(plan);
  }, { allowHalfOpen: options.allowHalfOpen === true });
}

/** PostgreSQL's SSLRequest code (protocol 1234.5679). */
const SSL_REQUEST = Uint8Array.of(0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f);

/**
 * PostgreSQL's upgrade to TLS, for `negotiate`: sends SSLRequest and reads
 * the one-byte answer; `S` goes on to the handshake, `N` (no TLS on that
 * server) rejects with `PEER_INCOMPATIBLE`.
 */
export async function postgresSslRequest(plain: PlainConn): Promise<void> {
  await plain.write(SSL_REQUEST);
  const answer = new Uint8Array(1);
  const n = await plain.read(answer);
  if (n === 1 && answer[0] === 0x53) return; // "S"
  if (n === 1 && answer[0] === 0x4e) { // "N"
    throw new TlsError(
      "PEER_INCOMPATIBLE",
      "the PostgreSQL server does not accept TLS (it answered N to SSLRequest: set ssl = on)",
    );
  }
  throw new TlsError(
    "PEER_MISBEHAVED",
    n === 1
      ? `the PostgreSQL server answered SSLRequest with ${answer[0]}, not S or N`
      : "the PostgreSQL server closed the connection instead of answering SSLRequest",
  );
}
