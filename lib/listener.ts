/**
 * `listenTls` and `TlsListener`: a non-blocking listening socket whose
 * accepted connections are `TlsConn`s with a deferred handshake.
 *
 * @module
 */
import { serverStarter } from "./accept.ts";
import { TlsConn } from "./conn.ts";
import { closedError, errnoError, TlsError } from "./errors.ts";
import { FdTransport, socketAddress } from "./fd_transport.ts";
import { listenSocket, removeSocketFile } from "./plain.ts";
import { keyLogSink } from "./keylog.ts";
import { native, type NativeLibrary } from "./native.ts";
import { READABLE, readiness, type Watch } from "./readiness.ts";
import { ServerSetup } from "./server_config.ts";
import type { ListenTlsOptions, NetAddr, UnixAddr } from "./types.ts";

const EAGAIN = 11;
const EINTR = 4;
const ECONNABORTED = 103;

/** The safety net for listeners dropped without `close()`. */
const droppedListeners = new FinalizationRegistry<() => void>((close) => close());

/** A listening TLS socket. Iterate it, or call `accept()`, to get connections. */
export class TlsListener<A extends NetAddr | UnixAddr = NetAddr>
  implements AsyncIterable<TlsConn>, AsyncDisposable {
  /** The address it listens on (with the real port when `0` was asked for). */
  readonly addr: A;
  readonly #lib: NativeLibrary;
  readonly #fd: number;
  readonly #watch: Watch;
  readonly #setup: ServerSetup;
  readonly #handshakeTimeout: number | undefined;
  readonly #verifyPeer: ListenTlsOptions["verifyPeer"];
  readonly #path: string | undefined;
  readonly #keyLog: ((line: string) => void) | undefined;
  #closed = false;

  /** @internal Use {@link listenTls}. */
  constructor(
    lib: NativeLibrary,
    fd: number,
    setup: ServerSetup,
    handshakeTimeout: number | undefined,
    verifyPeer?: ListenTlsOptions["verifyPeer"],
    path?: string,
    keyLog?: (line: string) => void,
  ) {
    this.#lib = lib;
    this.#path = path;
    this.#keyLog = keyLog;
    this.#verifyPeer = verifyPeer;
    this.#fd = fd;
    this.#setup = setup;
    this.#handshakeTimeout = handshakeTimeout;
    this.#watch = readiness(lib).watch(fd);
    this.addr = socketAddress(lib, fd, false) as A;
    const watch = this.#watch;
    droppedListeners.register(this, () => {
      watch.forget();
      lib.symbols.rustls_sockets_socket_close(fd);
      setup.close();
    }, this);
  }

  /**
   * Resolves with the next connection as soon as its TCP connection exists;
   * its handshake runs on `handshake()` or its first read or write. Rejects
   * with `CLOSED` once the listener is closed.
   */
  async accept(): Promise<TlsConn> {
    const fdCell = new Int32Array(1);
    for (;;) {
      if (this.#closed) throw closedError("listener");
      const errno = this.#lib.symbols.rustls_sockets_tcp_accept(this.#fd, fdCell);
      if (errno === 0) return this.#wrap(fdCell[0]);
      if (errno === EAGAIN) {
        await this.#watch.wait(READABLE);
        continue;
      }
      if (errno === EINTR || errno === ECONNABORTED) continue;
      throw errnoError(errno, "accepting a connection");
    }
  }

  #wrap(fd: number): TlsConn {
    const lib = this.#lib;
    const transport = new FdTransport(lib, fd);
    return new TlsConn(serverStarter(lib, transport, this.#setup), transport, {
      timeout: this.#handshakeTimeout,
      verify: this.#verifyPeer,
      keyLog: this.#keyLog,
    });
  }

  /** Yields connections until the listener is closed. */
  async *[Symbol.asyncIterator](): AsyncIterator<TlsConn> {
    for (;;) {
      try {
        yield await this.accept();
      } catch (error) {
        if (error instanceof TlsError && error.code === "CLOSED") return;
        throw error;
      }
    }
  }

  /**
   * Stops listening: pending `accept()`s reject with `CLOSED`; connections
   * already accepted stay usable (even before their handshake). Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    droppedListeners.unregister(this);
    this.#watch.forget();
    this.#lib.symbols.rustls_sockets_socket_close(this.#fd);
    if (this.#path !== undefined) removeSocketFile(this.#path);
    this.#setup.close();
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
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
  const timeout = options.handshakeTimeout;
  if (timeout !== undefined && (typeof timeout !== "number" || !(timeout > 0))) {
    throw new TlsError("INVALID_CONFIG", "handshakeTimeout must be a positive number of ms");
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
    return new TlsListener<NetAddr | UnixAddr>(
      lib,
      fd,
      setup,
      timeout,
      options.verifyPeer,
      options.path,
      keyLogSink(options.keyLog),
    ) as TlsListener<NetAddr>;
  } catch (error) {
    lib.symbols.rustls_sockets_socket_close(fd);
    setup.free();
    throw error;
  }
}

function adopt(lib: NativeLibrary, fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new TlsError("INVALID_CONFIG", `fd must be a file descriptor number, not ${fd}`);
  }
  const errno = lib.symbols.rustls_sockets_socket_set_nonblocking(fd);
  if (errno !== 0) throw errnoError(errno, `adopting listening socket ${fd}`);
  return fd;
}
