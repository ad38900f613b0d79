/**
 * The raw-fd transport: a non-blocking TCP socket made through FFI, whose
 * records move with the library's fused calls (socket <-> rustls in one FFI
 * crossing, no copy through JS).
 *
 * @module
 */
import { ERRNO, INTEREST, IO, RESULT, STATE } from "../ffi/constants.ts";
import { closedError, errnoError, TlsError } from "./errors.ts";
import { cString, fromUtf8, type NativeLibrary, outCell, type Pointer } from "./native.ts";
import { abortError } from "./abort.ts";
import { type JobResult, JobTracker, type Readiness, readiness, type Watch } from "./readiness.ts";
import type { TlsSession } from "./session.ts";
import type { TlsTransport } from "./transport.ts";
import type { Addr } from "./types.ts";

/** A TLS transport over a socket fd owned by this object. */
export class FdTransport implements TlsTransport {
  /** The `[bytes, errno, flags, 0]` block of the last `recv`/`send`. */
  readonly state: Uint32Array = new Uint32Array(4);
  readonly #lib: NativeLibrary;
  readonly #fd: number;
  readonly #watch: Watch;
  readonly #readiness: Readiness;
  #closed = false;
  readonly #jobs: JobTracker;
  #localAddr?: Addr;
  #remoteAddr?: Addr;
  /** Ciphertext read from the socket before it became a TLS transport (STARTTLS). */
  #prefix: Uint8Array | undefined;

  /**
   * Takes ownership of the non-blocking socket `fd`; `prefix` holds bytes
   * already read from it that belong to TLS.
   */
  constructor(lib: NativeLibrary, fd: number, prefix?: Uint8Array) {
    this.#lib = lib;
    this.#fd = fd;
    this.#readiness = readiness(lib);
    this.#jobs = new JobTracker(this.#readiness);
    this.#watch = this.#readiness.watch(fd);
    if (prefix !== undefined && prefix.length > 0) this.#prefix = prefix;
  }

  /**
   * Connects to the Unix-domain socket at `path`; rejects like
   * {@link FdTransport.connect}.
   */
  static async connectUnix(
    lib: NativeLibrary,
    path: string,
    signal?: AbortSignal,
  ): Promise<FdTransport> {
    const fdCell = new Int32Array(1);
    const pendingCell = new Uint32Array(1);
    const errno = lib.symbols.rustls_sockets_unix_connect(cString(path), fdCell, pendingCell);
    if (errno !== 0) throw errnoError(errno, `connecting to ${path}`);
    const transport = new FdTransport(lib, fdCell[0]);
    try {
      if (signal?.aborted) throw abortError(signal);
      if (pendingCell[0]) {
        await transport.waitWritable(signal);
        const failed = lib.symbols.rustls_sockets_socket_take_error(fdCell[0]);
        if (failed !== 0) throw errnoError(failed, `connecting to ${path}`);
      }
      return transport;
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /**
   * Connects to `ip:port` without blocking; rejects with `CONNECTION_REFUSED`,
   * `NETWORK_ERROR`, `ABORTED` or `TIMED_OUT`.
   */
  static async connect(
    lib: NativeLibrary,
    ip: string,
    port: number,
    signal?: AbortSignal,
  ): Promise<FdTransport> {
    const address = cString(ip);
    // socket() + connect() on a worker: on loopback the kernel runs the TCP handshake inline.
    const [errno, fd, pending] = await readiness(lib).runJob((poller, token) =>
      lib.symbols.rustls_sockets_poller_submit_connect(poller, address, port, token)
    );
    if (errno !== 0) throw errnoError(errno, `connecting to ${formatHost(ip)}:${port}`);
    const transport = new FdTransport(lib, fd);
    try {
      if (signal?.aborted) throw abortError(signal);
      if (pending) {
        await transport.waitWritable(signal);
        const failed = lib.symbols.rustls_sockets_socket_take_error(fd);
        if (failed !== 0) throw errnoError(failed, `connecting to ${formatHost(ip)}:${port}`);
      }
      return transport;
    } catch (error) {
      transport.close();
      throw error;
    }
  }

  /**
   * Gives up the socket without closing it (for a plaintext connection made
   * by {@link FdTransport.connect}); this transport is closed afterwards.
   */
  releaseFd(): number {
    if (this.#closed || this.#jobs.busy) throw closedError();
    this.#closed = true;
    this.#watch.forget();
    return this.#fd;
  }

  /** The socket. */
  get fd(): number {
    return this.#fd;
  }

  /** Local address. */
  get localAddr(): Addr {
    return this.#localAddr ??= this.#address(false);
  }

  /** Remote address. */
  get remoteAddr(): Addr {
    return this.#remoteAddr ??= this.#address(true);
  }

  #address(peer: boolean): Addr {
    if (this.#closed) throw closedError();
    return socketAddress(this.#lib, this.#fd, peer);
  }

  /** See {@link TlsTransport.recv}. */
  recv(session: TlsSession, buf: Uint8Array | null): number {
    if (this.#closed) throw closedError();
    if (this.#prefix) {
      const prefix = this.#prefix;
      this.#prefix = undefined;
      session.feedTls(prefix);
    }
    return session.recvFd(this.#fd, buf, this.state);
  }

  /** See {@link TlsTransport.send}. */
  send(session: TlsSession, data: Uint8Array | null): number {
    if (this.#closed) throw closedError();
    return session.sendFd(this.#fd, data, this.state);
  }

  /** Runs a worker job that uses the session or socket; closing waits for it. */
  #job(submit: (poller: Pointer, token: number) => number): Promise<JobResult> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#jobs.run(submit);
  }

  /** Copies a job's `[result, bytes, errno, flags]` into the state block. */
  #stateFrom(result: JobResult): number {
    this.state[STATE.BYTES] = result[1];
    this.state[STATE.ERRNO] = result[2];
    this.state[STATE.FLAGS] = result[3];
    this.state[3] = 0;
    return result[0];
  }

  /**
   * See {@link TlsTransport.recvHandshake}: on a worker thread, once there
   * is something to read (a round trip that finds nothing costs a wake-up).
   */
  async recvHandshake(session: TlsSession): Promise<number> {
    if (this.#prefix) return this.recv(session, null);
    if (this.#lib.symbols.rustls_sockets_socket_readable(this.#fd) === 0) {
      this.state.set([0, 0, IO.HANDSHAKING | IO.READ_BLOCKED, 0]);
      return RESULT.OK;
    }
    return this.#stateFrom(await this.#job(session.recvFdJob(this.#fd)));
  }

  /** See {@link TlsTransport.afterJobs}. */
  afterJobs(fn: () => void): void {
    this.#jobs.afterJobs(fn);
  }

  /** See {@link TlsTransport.recvHello}. */
  recvHello(acceptor: Pointer, out: BigUint64Array): number {
    if (this.#closed) throw closedError();
    if (this.#prefix) {
      const prefix = this.#prefix;
      this.#prefix = undefined;
      const alert = new Uint8Array(64);
      const n = outCell();
      const result = this.#lib.symbols.rustls_sockets_acceptor_feed_tls(
        acceptor,
        prefix,
        prefix.length,
        out,
        alert,
        alert.length,
        n,
      );
      if (Number(n[0]) > 0) this.sendRaw(alert.subarray(0, Number(n[0])));
      if (result !== RESULT.OK || out[0] !== 0n) {
        this.state.set([prefix.length, 0, 0, 0]);
        return result;
      }
    }
    return this.#lib.symbols.rustls_sockets_acceptor_recv_fd(acceptor, this.#fd, out, this.state);
  }

  /** See {@link TlsTransport.intoConnection}: on a worker thread. */
  async intoConnection(accepted: Pointer, config: Pointer, out: BigUint64Array): Promise<number> {
    const s = this.#lib.symbols;
    const [result, low, high] = await this.#job((poller, token) =>
      s.rustls_sockets_poller_submit_into_connection(poller, accepted, config, this.#fd, token)
    );
    out[0] = (BigInt(high) << 32n) | BigInt(low);
    return result;
  }

  /** See {@link TlsTransport.sendRaw}. */
  sendRaw(bytes: Uint8Array): void {
    if (this.#closed) return;
    this.#lib.symbols.rustls_sockets_socket_send(this.#fd, bytes, bytes.length, outCell());
  }

  /** See {@link TlsTransport.waitReadable}. */
  waitReadable(signal?: AbortSignal): Promise<void> {
    return this.#watch.wait(INTEREST.READABLE, signal);
  }

  /** See {@link TlsTransport.waitWritable}. */
  waitWritable(signal?: AbortSignal): Promise<void> {
    return this.#watch.wait(INTEREST.WRITABLE, signal);
  }

  /** See {@link TlsTransport.shutdownWrite}. */
  shutdownWrite(): void {
    if (this.#closed) throw closedError();
    const errno = this.#lib.symbols.rustls_sockets_socket_shutdown(this.#fd, 1);
    if (errno !== 0 && errno !== ERRNO.ENOTCONN /* the peer is gone already */) {
      throw errnoError(errno, "shutting down the write side");
    }
  }

  /**
   * See {@link TlsTransport.close}. Waits are rejected at once; the fd itself
   * is closed after any in-flight worker job (so its number cannot be reused
   * under that job's feet).
   */
  close(session?: TlsSession): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watch.forget();
    this.afterJobs(() => {
      // Freeing a session and closing a socket cost tens of µs each: a worker does both.
      const conn = session?.release() ?? null;
      const s = this.#lib.symbols;
      this.#readiness.runJob((poller, token) =>
        s.rustls_sockets_poller_submit_close(poller, conn, this.#fd, token)
      ).catch(() => {
        // the poller could not take the job: do it here
        if (conn !== null) s.rustls_sockets_connection_free(conn);
        s.rustls_sockets_socket_close(this.#fd);
      });
    });
  }
}

/** The local (`peer` false) or remote address of the socket `fd`. */
export function socketAddress(lib: NativeLibrary, fd: number, peer: boolean): Addr {
  const buf = new Uint8Array(128);
  const n = outCell();
  const port = new Uint16Array(1);
  const errno = lib.symbols.rustls_sockets_socket_address(
    fd,
    peer ? 1 : 0,
    buf,
    buf.length,
    n,
    port,
  );
  if (errno !== 0) throw errnoError(errno, peer ? "getpeername" : "getsockname");
  const text = fromUtf8(buf.subarray(0, Number(n[0])));
  // IP text never is empty nor starts with "/": that is a Unix-domain path.
  if (text === "" || text.startsWith("/")) return { transport: "unix", path: text };
  return { transport: "tcp", hostname: text, port: port[0] };
}

/** `host` as it appears before `:port` (IPv6 in brackets). */
export function formatHost(host: string): string {
  return host.includes(":") ? `[${host}]` : host;
}

/** Throws `INVALID_CONFIG` unless `port` is a TCP port number. */
export function checkPort(port: unknown, allowZero = false): number {
  if (
    typeof port !== "number" || !Number.isInteger(port) || port < (allowZero ? 0 : 1) ||
    port > 65535
  ) {
    throw new TlsError("INVALID_CONFIG", `port must be an integer from 1 to 65535, not ${port}`);
  }
  return port;
}
