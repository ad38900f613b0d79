/**
 * Plaintext connections on the module's own non-blocking sockets, for
 * protocols that start in the clear and upgrade (PostgreSQL's SSLRequest,
 * SMTP/IMAP/XMPP STARTTLS): `connect` and `listen` give {@link PlainConn}s,
 * which `startTls` / `acceptTls` turn into `TlsConn`s on the same socket.
 *
 * @module
 */
import { ERRNO, INTEREST } from "../../ffi/constants.ts";
import { closedError, errnoError, TlsError } from "../core/errors.ts";
import {
  checkPort,
  connectTcpSocket,
  connectUnixSocket,
  listenSocket,
  socketAddress,
} from "./socket.ts";
import { native, type NativeLibrary, outCell, u32Length } from "../core/native.ts";
import { readiness, type Watch } from "../runtime/readiness.ts";
import { SocketListener } from "./socket_listener.ts";
import { resolveHost } from "./resolve.ts";
import { TurnBudget } from "../runtime/fairness.ts";
import type { Addr, NetAddr, UnixAddr } from "../core/types.ts";

/** Where `connect` goes: TCP (`hostname`, `port`) or a Unix-domain socket (`path`). */
export type ConnectOptions =
  | {
    /** DNS name or IP literal. Default `"127.0.0.1"`. */
    hostname?: string;
    /** TCP port. */
    port: number;
    /** Aborts connecting. */
    signal?: AbortSignal;
  }
  | {
    /** Filesystem path of a Unix-domain socket. */
    path: string;
    /** Aborts connecting. */
    signal?: AbortSignal;
  };

/** Where `listen` listens: TCP (`hostname`, `port`) or a Unix-domain socket (`path`). */
export type ListenOptions =
  | {
    /** IP address to listen on. Default `"0.0.0.0"`. */
    hostname?: string;
    /** TCP port; `0` picks a free one. */
    port?: number;
  }
  | {
    /** Filesystem path for the socket (must not exist; removed on `close()`). */
    path: string;
  };

/** The safety net for plaintext sockets dropped without `close()`. */
const droppedSockets = new FinalizationRegistry<() => void>((close) => close());

/**
 * A plaintext connection on a non-blocking socket of this module. Read and
 * write the protocol's plaintext part, then hand it to `startTls` (client)
 * or `acceptTls` (server): the socket moves into the `TlsConn`, together
 * with any bytes given back with {@link unread}.
 */
export class PlainConn implements AsyncDisposable, Disposable {
  readonly #lib: NativeLibrary;
  #fd: number;
  #watch: Watch | undefined;
  /** Fairness: this connection's operations in the event loop's current turn (`lib/runtime/fairness.ts`). */
  readonly #budget = new TurnBudget();
  #pending: Uint8Array[] = [];
  #closed = false;
  #reading = false;
  #writing = false;
  #localAddr?: Addr;
  #remoteAddr?: Addr;

  /** @internal Made by `connect` and `PlainListener.accept`. */
  constructor(lib: NativeLibrary, fd: number) {
    this.#lib = lib;
    this.#fd = fd;
    this.#watch = readiness(lib).watch(fd);
    droppedSockets.register(this, () => {
      lib.symbols.rustls_sockets_socket_close(fd);
    }, this);
  }

  /** Local address. */
  get localAddr(): Addr {
    this.#ensureOpen();
    return this.#localAddr ??= socketAddress(this.#lib, this.#fd, false);
  }

  /** Remote address. */
  get remoteAddr(): Addr {
    this.#ensureOpen();
    return this.#remoteAddr ??= socketAddress(this.#lib, this.#fd, true);
  }

  #ensureOpen(): void {
    if (this.#closed) throw closedError("plaintext connection");
  }

  /**
   * Reads into `buf`: the count, or `null` at end of stream. Bytes given
   * back with {@link unread} come first. One read at a time.
   */
  async read(buf: Uint8Array): Promise<number | null> {
    this.#ensureOpen();
    if (this.#reading) throw new TlsError("INVALID_CONFIG", "a read is already running");
    this.#reading = true;
    try {
      if (buf.length === 0) return 0;
      const first = this.#pending[0];
      if (first) {
        const n = Math.min(first.length, buf.length);
        buf.set(first.subarray(0, n));
        if (n === first.length) this.#pending.shift();
        else this.#pending[0] = first.subarray(n);
        return n;
      }
      const pause = this.#budget.pauseDue();
      if (pause) await pause;
      const got = outCell();
      for (;;) {
        this.#ensureOpen();
        const errno = this.#lib.symbols.rustls_sockets_socket_recv(
          this.#fd,
          buf,
          u32Length(buf.length),
          got,
        );
        if (errno === 0) return got[0] === 0n ? null : Number(got[0]);
        if (errno === ERRNO.EINTR) continue;
        if (errno !== ERRNO.EAGAIN) throw errnoError(errno, "reading the plaintext connection");
        await this.#watch!.wait(INTEREST.READABLE);
      }
    } finally {
      this.#reading = false;
    }
  }

  /**
   * Gives bytes back: the next reads return them first, and `startTls` /
   * `acceptTls` pass them to TLS (e.g. a ClientHello that arrived in the
   * same read as a STARTTLS command).
   */
  unread(bytes: Uint8Array): void {
    this.#ensureOpen();
    if (bytes.length > 0) this.#pending.unshift(bytes.slice());
  }

  /** Writes all of `data`; resolves with its length. One write at a time. */
  async write(data: Uint8Array): Promise<number> {
    this.#ensureOpen();
    if (this.#writing) throw new TlsError("INVALID_CONFIG", "a write is already running");
    this.#writing = true;
    try {
      const pause = this.#budget.pauseDue();
      if (pause) await pause;
      const sent = outCell();
      let at = 0;
      while (at < data.length) {
        this.#ensureOpen();
        const errno = this.#lib.symbols.rustls_sockets_socket_send(
          this.#fd,
          data.subarray(at),
          u32Length(data.length - at),
          sent,
        );
        if (errno === 0) at += Number(sent[0]);
        else if (errno === ERRNO.EAGAIN) await this.#watch!.wait(INTEREST.WRITABLE);
        else if (errno !== ERRNO.EINTR) throw errnoError(errno, "writing the plaintext connection");
      }
      return data.length;
    } finally {
      this.#writing = false;
    }
  }

  /** Shuts down the sending direction. */
  closeWrite(): Promise<void> {
    this.#ensureOpen();
    const errno = this.#lib.symbols.rustls_sockets_socket_shutdown(this.#fd, 1);
    if (errno !== 0) return Promise.reject(errnoError(errno, "shutting down the write side"));
    return Promise.resolve();
  }

  /** Closes the socket; pending reads and writes reject with `CLOSED`. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#detach();
    this.#lib.symbols.rustls_sockets_socket_close(this.#fd);
  }

  /** Same as {@link close}. */
  [Symbol.asyncDispose](): Promise<void> {
    this.close();
    return Promise.resolve();
  }

  /** Same as {@link close} (for `using`). */
  [Symbol.dispose](): void {
    this.close();
  }

  /** Lets the process exit while this connection's reads or writes wait (undone by {@link ref}). */
  unref(): void {
    this.#watch?.setRef(false);
  }

  /** Makes this connection's waits keep the process alive again (the default). */
  ref(): void {
    this.#watch?.setRef(true);
  }

  #detach(): void {
    this.#closed = true;
    droppedSockets.unregister(this);
    this.#watch?.forget();
    this.#watch = undefined;
  }

  /**
   * @internal Gives up the socket for a TLS upgrade, with the bytes read
   * and given back (`unread`) that belong to TLS; this connection is closed
   * afterwards (the socket lives on, owned by the caller).
   */
  detachForTls(): { fd: number; prefix: Uint8Array | undefined } {
    this.#ensureOpen();
    if (this.#reading || this.#writing) {
      throw new TlsError(
        "INVALID_CONFIG",
        "finish the plaintext connection's read or write before the TLS upgrade",
      );
    }
    const pending = this.#pending;
    let prefix: Uint8Array | undefined;
    if (pending.length === 1) prefix = pending[0];
    else if (pending.length > 1) {
      prefix = new Uint8Array(pending.reduce((n, p) => n + p.length, 0));
      let at = 0;
      for (const p of pending) {
        prefix.set(p, at);
        at += p.length;
      }
    }
    this.#detach();
    return { fd: this.#fd, prefix };
  }
}

/**
 * Opens a plaintext connection (TCP, or a Unix-domain socket with `path`),
 * to be upgraded later with `startTls`.
 *
 * @example
 * ```ts
 * const plain = await connect({ hostname: "db.example.com", port: 5432 });
 * await plain.write(sslRequest);
 * const answer = new Uint8Array(1);
 * await plain.read(answer); // "S"
 * const conn = await startTls(plain, { serverName: "db.example.com" });
 * ```
 */
export async function connect(options: ConnectOptions): Promise<PlainConn> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "connect needs an options object");
  }
  const lib = await native();
  let fd: number;
  if ("path" in options) {
    fd = await connectUnixSocket(lib, options.path, options.signal);
  } else {
    const hostname = options.hostname ?? "127.0.0.1";
    const port = checkPort(options.port);
    const addresses = await resolveHost(hostname);
    let last: unknown;
    let made: number | undefined;
    for (const address of addresses) {
      try {
        made = await connectTcpSocket(lib, address, port, options.signal);
        break;
      } catch (error) {
        last = error;
      }
    }
    if (made === undefined) throw last;
    fd = made;
  }
  return new PlainConn(lib, fd);
}

/** A listening plaintext socket whose connections can be upgraded with `acceptTls`. */
export class PlainListener<A extends NetAddr | UnixAddr = NetAddr>
  extends SocketListener<PlainConn, A> {
  readonly #lib: NativeLibrary;

  /** @internal Use {@link listen}. */
  constructor(lib: NativeLibrary, fd: number, path?: string) {
    super(lib, fd, path);
    this.#lib = lib;
  }

  /** A plaintext connection on the accepted socket. */
  protected wrap(fd: number): PlainConn {
    return new PlainConn(this.#lib, fd);
  }
}

/** Listens for plaintext connections (TCP, or a Unix-domain socket with `path`). */
export function listen(options: { path: string }): Promise<PlainListener<UnixAddr>>;
/** Listens for plaintext TCP connections. */
export function listen(options: ListenOptions): Promise<PlainListener<NetAddr>>;
export async function listen(
  options: ListenOptions,
): Promise<PlainListener<NetAddr> | PlainListener<UnixAddr>> {
  if (options === null || typeof options !== "object") {
    throw new TlsError("INVALID_CONFIG", "listen needs an options object");
  }
  const lib = await native();
  const fd = listenSocket(lib, options);
  return new PlainListener<NetAddr | UnixAddr>(
    lib,
    fd,
    "path" in options ? options.path : undefined,
  ) as PlainListener<NetAddr>;
}
