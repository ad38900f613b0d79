/**
 * The raw-fd transport: a non-blocking TCP socket made through FFI, whose
 * records move with the library's fused calls (socket <-> rustls in one FFI
 * crossing, no copy through JS).
 *
 * @module
 */
import { ERRNO, INTEREST, IO, RESULT, STATE } from "../../ffi/constants.ts";
import { closedError, errnoError } from "../core/errors.ts";
import { type NativeLibrary, outCell, type Pointer, u32Length } from "../core/native.ts";
import {
  type JobResult,
  JobTracker,
  type Readiness,
  readiness,
  type Watch,
} from "../runtime/readiness.ts";
import type { TlsSession } from "../tls/session.ts";
import type { TlsTransport } from "./transport.ts";
import { socketAddress } from "../sockets/socket.ts";
import type { Addr } from "../core/types.ts";

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
    this.#lib.symbols.rustls_sockets_socket_send(
      this.#fd,
      bytes,
      u32Length(bytes.length),
      outCell(),
    );
  }

  /** See {@link TlsTransport.waitReadable}. */
  waitReadable(signal?: AbortSignal): Promise<void> {
    return this.#watch.wait(INTEREST.READABLE, signal);
  }

  /** See {@link TlsTransport.waitWritable}. */
  waitWritable(signal?: AbortSignal): Promise<void> {
    return this.#watch.wait(INTEREST.WRITABLE, signal);
  }

  /** See {@link TlsTransport.setRef}. */
  setRef(refed: boolean): void {
    this.#watch.setRef(refed);
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
