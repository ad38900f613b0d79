/**
 * `listenTls` and `TlsListener`: a non-blocking listening socket whose
 * accepted connections are `TlsConn`s with a deferred handshake.
 *
 * @module
 */
import { serverStarter } from "./accept.ts";
import { TlsConn } from "./conn.ts";
import { errnoError, TlsError } from "../core/errors.ts";
import { FdTransport } from "../transports/fd_transport.ts";
import { listenSocket } from "../sockets/socket.ts";
import { SocketListener } from "../sockets/socket_listener.ts";
import { keyLogSink } from "../config/keylog.ts";
import { checkOptionKeys } from "../config/option_keys.ts";
import { native, type NativeLibrary } from "../core/native.ts";
import { ServerSetup } from "../config/server_config.ts";
import {
  checkIdleTimeout,
  checkTimeout,
  LONGEST_TIMER_MS,
  SERVER_HANDSHAKE_TIMEOUT_MS,
} from "../core/timeout.ts";
import type { ListenTlsOptions, NetAddr, ServerCertificates, UnixAddr } from "../core/types.ts";

/** What a listener applies to each connection it accepts. */
export interface AcceptedConnLimits {
  /** `handshakeTimeout`, checked. */
  handshakeTimeout: number | undefined;
  /** `idleTimeout`, checked. */
  idleTimeout: number | undefined;
  /** `maxConnections`, checked. */
  maxConnections: number | undefined;
  /** `verifyPeer`. */
  verifyPeer: ListenTlsOptions["verifyPeer"];
  /** Where key log lines go. */
  keyLog: ((line: string) => void) | undefined;
}

/** A listening TLS socket. Iterate it, or call `accept()`, to get connections. */
export class TlsListener<A extends NetAddr | UnixAddr = NetAddr>
  extends SocketListener<TlsConn, A> {
  readonly #lib: NativeLibrary;
  readonly #setup: ServerSetup;
  readonly #limits: AcceptedConnLimits;
  /**
   * Accepted connections not yet closed, held weakly: one dropped unclosed
   * is still freed by the garbage collector, and leaves this map then.
   */
  readonly #open = new Map<number, WeakRef<TlsConn>>();
  #nextId = 0;
  /** Resolves the waits of {@link shutdown} once the last connection closed. */
  #drained: (() => void)[] = [];

  /** @internal Use {@link listenTls}. */
  constructor(
    lib: NativeLibrary,
    fd: number,
    setup: ServerSetup,
    limits: AcceptedConnLimits,
    path?: string,
  ) {
    super(lib, fd, path, () => setup.close());
    this.#lib = lib;
    this.#setup = setup;
    this.#limits = limits;
  }

  /** Accepted connections not closed yet (whether their handshake finished or not). */
  get activeConnections(): number {
    return this.#open.size;
  }

  /** A new connection is refused beyond `maxConnections`. */
  protected override admits(): boolean {
    const max = this.#limits.maxConnections;
    return max === undefined || this.#open.size < max;
  }

  /**
   * Graceful stop: stops accepting at once (pending `accept()`s reject with
   * `CLOSED`, as with {@link close}), then waits until every connection it
   * accepted is closed. With `timeout` (ms), those still open after it are
   * closed (their pending operations reject with `CLOSED`). Resolves when
   * none is left.
   *
   * @example
   * ```ts
   * Deno.addSignalListener("SIGTERM", () => listener.shutdown({ timeout: 10_000 }));
   * ```
   */
  async shutdown(options?: { timeout?: number }): Promise<void> {
    const timeout = checkTimeout(options?.timeout, undefined, "timeout");
    this.close();
    if (this.#open.size === 0) return;
    const drained = new Promise<void>((resolve) => this.#drained.push(resolve));
    const timer = timeout === undefined || timeout > LONGEST_TIMER_MS
      ? undefined
      : setTimeout(() => {
        for (const ref of [...this.#open.values()]) ref.deref()?.close();
      }, timeout);
    try {
      await drained;
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }

  /**
   * Replaces the default certificate (`cert`/`key`, with its `ocspResponse`)
   * and/or the whole `sni` table for handshakes that start from now on;
   * handshakes and connections under way keep what they have. A bad PEM, a
   * key that does not match or a bad entry is `INVALID_CONFIG` and changes
   * nothing. Call it again with each renewal.
   *
   * @example
   * ```ts
   * listener.setCertificates({ cert: await Deno.readTextFile("fullchain.pem"), key });
   * ```
   */
  setCertificates(certificates: ServerCertificates): void {
    this.#setup.setCertificates(certificates);
  }

  #connClosed(id: number): void {
    this.#open.delete(id);
    if (this.#open.size > 0) return;
    const waiters = this.#drained;
    this.#drained = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * The connection, as soon as its TCP connection exists; its handshake runs
   * on `handshake()` or its first read or write (one slow client never
   * delays the others).
   */
  protected wrap(fd: number): TlsConn {
    const lib = this.#lib;
    const transport = new FdTransport(lib, fd);
    const limits = this.#limits;
    const id = this.#nextId++;
    const conn = new TlsConn(serverStarter(lib, transport, this.#setup), transport, {
      timeout: limits.handshakeTimeout,
      idleTimeout: limits.idleTimeout,
      verify: limits.verifyPeer,
      keyLog: limits.keyLog,
      exporter: this.#setup.exporter,
      onClose: () => this.#connClosed(id),
    });
    this.#open.set(id, new WeakRef(conn));
    return conn;
  }

  /** The configurations live on until accepted connections no longer need them. */
  protected override onClose(): void {
    this.#setup.close();
  }
}

/**
 * Listens for TLS connections.
 *
 * @example
 * ```ts
 * const listener = await listenTls({ port: 8443, cert, key, alpnProtocols: ["http/1.1"] });
 * for await (const conn of listener) {
 *   (async () => {
 *     const info = await conn.handshake();
 *     await conn.write(new TextEncoder().encode(`hello ${info.serverName}\n`));
 *     await conn.closeWrite();
 *     conn.close();
 *   })().catch(() => {});
 * }
 * ```
 */
export function listenTls(
  options: ListenTlsOptions & { path: string },
): Promise<TlsListener<UnixAddr>>;
/** Listens for TLS connections on TCP (see the overload above for the example). */
export function listenTls(options: ListenTlsOptions): Promise<TlsListener<NetAddr>>;
export async function listenTls(
  options: ListenTlsOptions,
): Promise<TlsListener<NetAddr> | TlsListener<UnixAddr>> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "listenTls needs an options object");
  }
  checkOptionKeys(options, "listenTls");
  const timeout = checkTimeout(options.handshakeTimeout, SERVER_HANDSHAKE_TIMEOUT_MS);
  const idleTimeout = checkIdleTimeout(options.idleTimeout);
  const maxConnections = checkMaxConnections(options.maxConnections);
  if (options.reusePort !== undefined && typeof options.reusePort !== "boolean") {
    throw new TlsError("INVALID_CONFIG", "reusePort must be a boolean");
  }
  if (options.reusePort && (options.path !== undefined || options.fd !== undefined)) {
    throw new TlsError(
      "INVALID_CONFIG",
      "reusePort is for TCP listeners made here (not path or fd)",
    );
  }
  const lib = await native();
  const setup = new ServerSetup(lib, options);
  let fd: number;
  try {
    fd = options.fd !== undefined
      ? adopt(lib, options.fd)
      : listenSocket(lib, options.path !== undefined ? { path: options.path } : options);
  } catch (error) {
    setup.free();
    throw error;
  }
  try {
    if (options.verifyPeer !== undefined && typeof options.verifyPeer !== "function") {
      throw new TlsError("INVALID_CONFIG", "verifyPeer must be a function");
    }
    return new TlsListener<NetAddr | UnixAddr>(lib, fd, setup, {
      handshakeTimeout: timeout,
      idleTimeout,
      maxConnections,
      verifyPeer: options.verifyPeer,
      keyLog: keyLogSink(options.keyLog),
    }, options.path) as TlsListener<NetAddr>;
  } catch (error) {
    lib.symbols.rustls_sockets_socket_close(fd);
    setup.free();
    throw error;
  }
}

/** The `maxConnections` option, checked. */
function checkMaxConnections(max: unknown): number | undefined {
  if (max === undefined) return undefined;
  if (typeof max !== "number" || !Number.isInteger(max) || max < 1) {
    throw new TlsError("INVALID_CONFIG", "maxConnections must be a positive integer");
  }
  return max;
}

function adopt(lib: NativeLibrary, fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new TlsError("INVALID_CONFIG", `fd must be a file descriptor number, not ${fd}`);
  }
  const errno = lib.symbols.rustls_sockets_socket_set_nonblocking(fd);
  if (errno !== 0) throw errnoError(errno, `adopting listening socket ${fd}`);
  return fd;
}
