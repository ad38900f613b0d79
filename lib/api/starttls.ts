/**
 * STARTTLS and TLS over any transport: `startTls` (client) and `acceptTls`
 * (server) upgrade a connection that already exists — a `PlainConn` of this
 * module, an adopted fd, a `Deno.Conn`, a `node:net` socket (Node's API in
 * Bun and Deno), or a `{ readable, writable }` Web Streams pair — into a
 * `TlsConn` with the same options, results and errors as `connectTls` and
 * `listenTls`.
 *
 * @module
 */
import { serverStarter } from "./accept.ts";
import {
  bunSocketChannel,
  type BunSocketLike,
  connChannel,
  type ConnLike,
  isBunSocketLike,
  isConnLike,
  isNodeSocketLike,
  isStreamPair,
  nodeSocketChannel,
  type NodeSocketLike,
  type StreamPair,
  streamPairChannel,
} from "../transports/carriers.ts";
import { releaseConfig } from "../config/client_config.ts";
import { handshaken, TlsConn } from "./conn.ts";
import { markUnverified } from "./unverified.ts";
import { clientPlan } from "./client_plan.ts";
import {
  checkIdleTimeout,
  checkTimeout,
  SERVER_HANDSHAKE_TIMEOUT_MS,
  timeLeft,
} from "../core/timeout.ts";
import { errnoError, TlsError } from "../core/errors.ts";
import { FdTransport } from "../transports/fd_transport.ts";
import { keyLogSink } from "../config/keylog.ts";
import { checkOptionKeys } from "../config/option_keys.ts";
import { native, type NativeLibrary } from "../core/native.ts";
import { PlainConn } from "../sockets/plain.ts";
import { isIpLiteral } from "../sockets/resolve.ts";
import { ServerSetup } from "../config/server_config.ts";
import { TlsSession } from "../tls/session.ts";
import { StreamTransport } from "../transports/stream_transport.ts";
import type { TlsTransport } from "../transports/transport.ts";
import type { TlsClientOptions, TlsServerOptions } from "../core/types.ts";

/**
 * What can carry TLS: a plaintext connection of this module, an adopted
 * connected socket `{ fd }` (this module owns it afterwards), a
 * `Deno.Conn`-like connection (a `TlsConn` too: TLS inside TLS), a
 * `node:net` socket, a Bun socket (`Bun.connect`; its handlers are
 * replaced), or a Web Streams pair.
 */
export type TlsCarrier =
  | PlainConn
  | { fd: number }
  | ConnLike
  | NodeSocketLike
  | BunSocketLike
  | StreamPair;

/** Options of {@link startTls}: those of `connectTls` without the address. */
export interface StartTlsOptions extends TlsClientOptions {
  /**
   * The name sent as SNI and verified against the server's certificate (an
   * IP address is verified against IP SANs). This or `hostname` is
   * required: the carrier does not say whom it reaches.
   */
  serverName?: string;
  /** The name to verify when `serverName` is absent (`Deno.startTls`' spelling). */
  hostname?: string;
}

/** Options of {@link acceptTls}: those of `listenTls` without the address. */
export interface AcceptTlsOptions extends TlsServerOptions {
  /**
   * Milliseconds the client has to complete its handshake, callbacks
   * included (`TIMED_OUT`). Default 10 000; `Infinity` removes the deadline.
   */
  handshakeTimeout?: number;
  /** Aborts the handshake (rejects with `ABORTED`). */
  signal?: AbortSignal;
}

/** The transport for `carrier`, which it takes over. */
function transportFor(lib: NativeLibrary, carrier: TlsCarrier): TlsTransport {
  if (carrier instanceof PlainConn) {
    const { fd, prefix } = carrier.detachForTls();
    return new FdTransport(lib, fd, prefix);
  }
  if (carrier === null || typeof carrier !== "object") {
    throw new TlsError("INVALID_CONFIG", "the transport must be an object");
  }
  if (isConnLike(carrier)) return new StreamTransport(lib, connChannel(carrier));
  if (isNodeSocketLike(carrier)) return new StreamTransport(lib, nodeSocketChannel(carrier));
  if (isBunSocketLike(carrier)) return new StreamTransport(lib, bunSocketChannel(carrier));
  if (isStreamPair(carrier)) return new StreamTransport(lib, streamPairChannel(carrier));
  const fd = (carrier as { fd?: unknown }).fd;
  if (typeof fd === "number") {
    if (!Number.isInteger(fd) || fd < 0) {
      throw new TlsError("INVALID_CONFIG", `fd must be a file descriptor number, not ${fd}`);
    }
    const errno = lib.symbols.rustls_sockets_socket_set_nonblocking(fd);
    if (errno !== 0) throw errnoError(errno, `adopting socket ${fd}`);
    return new FdTransport(lib, fd);
  }
  throw new TlsError(
    "INVALID_CONFIG",
    "unsupported transport: give a PlainConn, { fd }, a Deno.Conn, a node:net socket, " +
      "a Bun socket or { readable, writable } Web Streams",
  );
}

/**
 * Client side: runs a TLS handshake over an existing connection and
 * returns the `TlsConn` (which owns the carrier from now on). Bytes the
 * server sent after the upgrade point stay in the carrier and go to TLS.
 *
 * @example PostgreSQL's SSLRequest
 * ```ts
 * const plain = await connect({ hostname: "127.0.0.1", port: 5432 });
 * await plain.write(new Uint8Array([0, 0, 0, 8, 4, 210, 22, 47]));
 * const answer = new Uint8Array(1);
 * await plain.read(answer); // 0x53 "S": the server speaks TLS now
 * const conn = await startTls(plain, { serverName: "db.internal", caCerts: [ca] });
 * ```
 */
export async function startTls(carrier: TlsCarrier, options: StartTlsOptions): Promise<TlsConn> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "startTls needs an options object");
  }
  checkOptionKeys(options, "startTls");
  const serverName = options.serverName ?? options.hostname;
  if (typeof serverName !== "string" || serverName === "") {
    throw new TlsError(
      "INVALID_CONFIG",
      "startTls needs serverName (or hostname): the name to verify",
    );
  }
  const timeout = checkTimeout(options.handshakeTimeout);
  const idleTimeout = checkIdleTimeout(options.idleTimeout);
  // Counted from the call, as in connectTls: building the configuration counts too.
  // The handshake's own timer enforces it (its connection owns the carrier and
  // closes it on TIMED_OUT or ABORTED, as it does later in the handshake).
  const started = performance.now();
  const lib = await native();
  const { config, verify, keyLog, exporter } = await clientPlan(
    lib,
    { ...options, serverName },
    `starttls:${serverName}`,
  );
  let session: TlsSession;
  try {
    session = await TlsSession.clientOffThread(lib, config, serverName, isIpLiteral(serverName));
  } finally {
    releaseConfig(lib, config); // clientPlan's loan
  }
  let transport: TlsTransport;
  try {
    transport = transportFor(lib, carrier);
  } catch (error) {
    session.free();
    throw error;
  }
  const conn = new TlsConn(session, transport, {
    verify,
    keyLog,
    exporter,
    signal: options.signal,
    timeout: timeLeft(timeout, started),
    timeoutAsGiven: timeout,
    idleTimeout,
  });
  if (options.dangerouslyDisableVerification === true) markUnverified(conn);
  return await handshaken(conn);
}

/**
 * Server side: reads the ClientHello from an existing connection, runs the
 * handshake and returns the `TlsConn` (which owns the carrier from now on).
 * Certificates are chosen as by `listenTls` (`cert`/`key`, `sni`,
 * `resolveCertificate`); `clientAuth` and `verifyPeer` apply too.
 *
 * @example A line protocol's STARTTLS
 * ```ts
 * for await (const plain of await listen({ port: 2525 })) {
 *   // ... read "STARTTLS\r\n", answer "220 ready\r\n", then:
 *   const conn = await acceptTls(plain, { cert, key });
 * }
 * ```
 */
export async function acceptTls(carrier: TlsCarrier, options: AcceptTlsOptions): Promise<TlsConn> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "acceptTls needs an options object");
  }
  checkOptionKeys(options, "acceptTls");
  const timeout = checkTimeout(options.handshakeTimeout, SERVER_HANDSHAKE_TIMEOUT_MS);
  const idleTimeout = checkIdleTimeout(options.idleTimeout);
  if (options.verifyPeer !== undefined && typeof options.verifyPeer !== "function") {
    throw new TlsError("INVALID_CONFIG", "verifyPeer must be a function");
  }
  const lib = await native();
  const setup = new ServerSetup(lib, options);
  let conn: TlsConn;
  try {
    const transport = transportFor(lib, carrier);
    conn = new TlsConn(serverStarter(lib, transport, setup), transport, {
      timeout,
      signal: options.signal,
      verify: options.verifyPeer,
      keyLog: keyLogSink(options.keyLog),
      exporter: setup.exporter,
      idleTimeout,
    });
  } finally {
    // The starter holds the configurations until the session exists.
    setup.close();
  }
  return await handshaken(conn);
}
