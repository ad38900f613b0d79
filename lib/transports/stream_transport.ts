/**
 * The transport for carriers that are not sockets of ours (Web Streams, a
 * `Deno.Conn`, a `node:net` socket, another `TlsConn`): ciphertext moves
 * through JS memory with the library's buffer calls, one FFI crossing per
 * step (records in, plaintext out and records to send, together).
 * Handshake steps that verify certificates or sign run on the library's
 * worker threads, as with the raw-fd transport.
 *
 * @module
 */
import { IO, RESULT, STATE } from "../../ffi/constants.ts";
import type { ByteChannel } from "./carriers.ts";
import { closedError, TlsError } from "../core/errors.ts";
import { type NativeLibrary, outCell, type Pointer } from "../core/native.ts";
import { abortError } from "../core/abort.ts";
import { type JobResult, JobTracker, readiness } from "../runtime/readiness.ts";
import type { TlsSession } from "../tls/session.ts";
import type { TlsTransport } from "./transport.ts";
import type { Addr } from "../core/types.ts";

/** Room for the records one call may produce (four full records and more). */
const OUT_CAP = 80 * 1024;
/** Ciphertext queued for the channel above which writers wait. */
const HIGH_WATER = 1 << 20;
const EMPTY = new Uint8Array(0);
const ALERT_CAP = 64;
/** How long queued records may take to leave after `close()`. */
const CLOSE_GRACE_MS = 5_000;

/** A TLS transport over a {@link ByteChannel}, which it owns. */
export class StreamTransport implements TlsTransport {
  /** The `[bytes, errno, flags, 0]` block of the last `recv`/`send`. */
  readonly state: Uint32Array = new Uint32Array(4);
  readonly #lib: NativeLibrary;
  readonly #channel: ByteChannel;
  readonly #block = new Uint32Array(8);
  readonly #out = new Uint8Array(OUT_CAP);
  /** Ciphertext received and not yet taken by rustls. */
  #input: Uint8Array;
  #eof = false;
  #reading: Promise<void> | undefined;
  #readError: TlsError | undefined;
  /** Records waiting for the channel, in order. */
  #outgoing: Uint8Array[] = [];
  #queued = 0;
  #pumping = false;
  #writeError: TlsError | undefined;
  #shutdownRequested = false;
  #writeWaiters: (() => void)[] = [];
  #readWaiters: ((error?: unknown) => void)[] = [];
  #closed = false;
  #closeTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #jobs: JobTracker;

  /** Takes ownership of `channel`; `prefix` is ciphertext already read from it. */
  constructor(lib: NativeLibrary, channel: ByteChannel, prefix: Uint8Array = EMPTY) {
    this.#lib = lib;
    this.#channel = channel;
    this.#jobs = new JobTracker(readiness(lib));
    this.#input = prefix;
  }

  /** Local address. */
  get localAddr(): Addr {
    return this.#channel.localAddr;
  }

  /** Remote address. */
  get remoteAddr(): Addr {
    return this.#channel.remoteAddr;
  }

  #throwIfBroken(): void {
    if (this.#closed) throw closedError();
    if (this.#readError) throw this.#readError;
    if (this.#writeError) throw this.#writeError;
  }

  /** Copies the records in `#out` to the outgoing queue and starts the pump. */
  #enqueue(bytes: Uint8Array): void {
    if (bytes.length === 0 || this.#closed) return;
    this.#outgoing.push(bytes);
    this.#queued += bytes.length;
    if (!this.#pumping) void this.#pump();
  }

  /** Writes queued records to the channel, one at a time, in order. */
  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      // Runs on after close(): a queued close_notify still leaves (bounded by #closeTimer).
      while (this.#outgoing.length > 0 && !this.#writeError) {
        // Coalesce small records into one channel write.
        let chunk = this.#outgoing.shift()!;
        if (this.#outgoing.length > 0 && chunk.length < OUT_CAP) {
          const parts = [chunk];
          let size = chunk.length;
          while (this.#outgoing.length > 0 && size + this.#outgoing[0].length <= OUT_CAP) {
            const next = this.#outgoing.shift()!;
            parts.push(next);
            size += next.length;
          }
          if (parts.length > 1) {
            chunk = new Uint8Array(size);
            let at = 0;
            for (const part of parts) {
              chunk.set(part, at);
              at += part.length;
            }
          }
        }
        try {
          await this.#channel.write(chunk);
        } catch (error) {
          this.#writeError = new TlsError(
            "NETWORK_ERROR",
            `writing to the transport failed: ${error instanceof Error ? error.message : error}`,
            { cause: error },
          );
        }
        this.#queued -= chunk.length;
        if (this.#queued < HIGH_WATER) this.#wakeWriters();
      }
      if (this.#shutdownRequested && !this.#writeError) {
        this.#shutdownRequested = false;
        await this.#channel.closeWrite().catch(() => {});
      }
    } finally {
      this.#pumping = false;
      this.#wakeWriters();
      if (this.#closed) {
        clearTimeout(this.#closeTimer);
        this.#channel.close();
      }
    }
  }

  #wakeWriters(): void {
    const waiters = this.#writeWaiters;
    this.#writeWaiters = [];
    for (const wake of waiters) wake();
  }

  /** Fills {@link state} from the buffer call's block. */
  #take(result: number, bytes: number, blocked: boolean): number {
    const block = this.#block;
    let flags = block[STATE.FLAGS] & ~IO.WRITE_BLOCKED;
    if (blocked && (flags & IO.WANTS_WRITE)) flags |= IO.WRITE_BLOCKED;
    this.state[STATE.BYTES] = bytes;
    this.state[STATE.ERRNO] = block[STATE.ERRNO];
    this.state[STATE.FLAGS] = flags;
    this.state[3] = 0;
    return result;
  }

  /** See {@link TlsTransport.recv}. */
  recv(session: TlsSession, buf: Uint8Array | null): number {
    this.#throwIfBroken();
    const block = this.#block;
    let total = 0;
    for (;;) {
      const plain = buf === null ? null : buf.subarray(total);
      const input = this.#input;
      const result = session.recvBuf(input, this.#eof, plain, this.#out, block);
      this.#input = input.subarray(block[STATE.CONSUMED]);
      total += block[STATE.BYTES];
      const written = block[STATE.OUTPUT];
      const sinkFull = (block[STATE.FLAGS] & IO.WRITE_BLOCKED) !== 0 && written === OUT_CAP;
      this.#enqueue(this.#out.slice(0, written));
      const full = this.#queued >= HIGH_WATER;
      // With plaintext in hand it returns too: a call after it may report a failure
      // the native loop kept for after that plaintext.
      if (result !== RESULT.OK || !sinkFull || full || total > 0 || buf?.length === 0) {
        return this.#take(result, total, full);
      }
    }
  }

  /** See {@link TlsTransport.send}. */
  send(session: TlsSession, data: Uint8Array | null): number {
    this.#throwIfBroken();
    const block = this.#block;
    let accepted = 0;
    for (;;) {
      const rest = data === null || accepted >= data.length ? null : data.subarray(accepted);
      const result = session.sendBuf(rest, this.#out, block);
      accepted += block[STATE.BYTES];
      const written = block[STATE.OUTPUT];
      this.#enqueue(this.#out.slice(0, written));
      const more = (block[STATE.FLAGS] & IO.WANTS_WRITE) !== 0 ||
        (data !== null && accepted < data.length && block[STATE.BYTES] > 0);
      const full = this.#queued >= HIGH_WATER;
      if (result !== RESULT.OK || !more || full || written === 0) {
        return this.#take(result, accepted, full || written === 0);
      }
    }
  }

  /** Runs a worker job that uses the session or socket; closing waits for it. */
  #job(submit: (poller: Pointer, token: number) => number): Promise<JobResult> {
    if (this.#closed) return Promise.reject(closedError());
    return this.#jobs.run(submit);
  }

  /**
   * See {@link TlsTransport.recvHandshake}: the received records are
   * processed (certificate verification included) on a worker thread, then
   * the answer is collected here.
   */
  async recvHandshake(session: TlsSession): Promise<number> {
    this.#throwIfBroken();
    const input = this.#input;
    if (input.length === 0) return this.recv(session, null);
    const [result, consumed] = await this.#job(session.recvBufJob(input, this.#eof));
    this.#input = this.#input.subarray(consumed);
    if (result !== RESULT.OK) {
      // Send the alert rustls queued, then report the failure.
      if (!this.#closed) this.send(session, null);
      this.state[STATE.FLAGS] &= ~IO.WRITE_BLOCKED;
      return result;
    }
    if (!session.isHandshaking) {
      // Done: the completing flight stays queued until the peer is checked (TlsConn).
      this.state.fill(0);
      this.state[STATE.FLAGS] = session.wantsWrite ? IO.WANTS_WRITE : 0;
      return RESULT.OK;
    }
    return this.recv(session, null);
  }

  /** See {@link TlsTransport.afterJobs}. */
  afterJobs(fn: () => void): void {
    this.#jobs.afterJobs(fn);
  }

  /** See {@link TlsTransport.recvHello}. */
  recvHello(acceptor: Pointer, out: BigUint64Array): number {
    this.#throwIfBroken();
    const input = this.#input;
    this.#input = EMPTY;
    let result: number = RESULT.OK;
    if (input.length > 0) {
      const alert = new Uint8Array(ALERT_CAP);
      const n = outCell();
      result = this.#lib.symbols.rustls_sockets_acceptor_feed_tls(
        acceptor,
        input,
        input.length,
        out,
        alert,
        alert.length,
        n,
      );
      this.#enqueue(alert.subarray(0, Number(n[0])));
    }
    this.state[STATE.BYTES] = input.length;
    this.state[STATE.ERRNO] = 0;
    this.state[STATE.FLAGS] = this.#eof ? IO.TRANSPORT_EOF : IO.READ_BLOCKED;
    this.state[3] = 0;
    return result;
  }

  /**
   * See {@link TlsTransport.intoConnection}: on a worker thread. (Should
   * rustls refuse here, after it accepted the hello, no alert is sent.)
   */
  async intoConnection(accepted: Pointer, config: Pointer, out: BigUint64Array): Promise<number> {
    const s = this.#lib.symbols;
    const [result, low, high] = await this.#job((poller, token) =>
      s.rustls_sockets_poller_submit_into_connection(poller, accepted, config, -1, token)
    );
    out[0] = (BigInt(high) << 32n) | BigInt(low);
    return result;
  }

  /** See {@link TlsTransport.sendRaw}. */
  sendRaw(bytes: Uint8Array): void {
    this.#enqueue(bytes.slice());
  }

  /** See {@link TlsTransport.waitReadable}: reads the next chunk from the channel. */
  waitReadable(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#input.length > 0 || this.#eof || this.#readError) return Promise.resolve();
    this.#reading ??= this.#readChunk();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#readWaiters = this.#readWaiters.filter((w) => w !== settle);
        reject(abortError(signal!));
      };
      const settle = (error?: unknown): void => {
        signal?.removeEventListener("abort", onAbort);
        if (error) reject(error);
        else resolve();
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#readWaiters.push(settle);
    });
  }

  async #readChunk(): Promise<void> {
    try {
      const chunk = await this.#channel.read();
      if (chunk === null) this.#eof = true;
      else if (this.#input.length === 0) this.#input = chunk;
      else {
        const joined = new Uint8Array(this.#input.length + chunk.length);
        joined.set(this.#input);
        joined.set(chunk, this.#input.length);
        this.#input = joined;
      }
    } catch (error) {
      if (!this.#closed) {
        this.#readError = error instanceof TlsError ? error : new TlsError(
          "NETWORK_ERROR",
          `reading from the transport failed: ${error instanceof Error ? error.message : error}`,
          { cause: error },
        );
      }
    } finally {
      this.#reading = undefined;
      const waiters = this.#readWaiters;
      this.#readWaiters = [];
      const failure = this.#closed ? closedError() : undefined;
      for (const settle of waiters) settle(failure);
    }
  }

  /** See {@link TlsTransport.waitWritable}: resolves once the queue is below its limit. */
  waitWritable(signal?: AbortSignal): Promise<void> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#queued < HIGH_WATER || this.#writeError) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(abortError(signal!));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#writeWaiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        if (this.#closed) reject(closedError());
        else resolve();
      });
    });
  }

  /** See {@link TlsTransport.setRef}: the carrier keeps its own setting. */
  setRef(_refed: boolean): void {}

  /** See {@link TlsTransport.shutdownWrite}: after the queued records. */
  shutdownWrite(): void {
    this.#throwIfBroken();
    this.#shutdownRequested = true;
    if (!this.#pumping) void this.#pump();
  }

  /**
   * See {@link TlsTransport.close}. Records already queued (a close_notify)
   * are still written before the channel is closed.
   */
  close(session?: TlsSession): void {
    if (this.#closed) return;
    this.#closed = true;
    const readers = this.#readWaiters;
    this.#readWaiters = [];
    for (const settle of readers) settle(closedError());
    if (this.#pumping) {
      // A peer that stops reading must not keep the carrier open forever.
      this.#closeTimer = setTimeout(() => this.#channel.close(), CLOSE_GRACE_MS);
    } else {
      this.#channel.close();
    }
    this.#wakeWriters();
    this.afterJobs(() => {
      const conn = session?.release() ?? null;
      if (conn !== null) this.#lib.symbols.rustls_sockets_connection_free(conn);
    });
  }
}
