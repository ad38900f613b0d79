/**
 * One readiness waiter for every socket of the process, over the native
 * epoll poller, which also runs CPU-heavy handshake steps on its worker
 * threads ({@link Readiness.runJob}). Waiting never blocks the event loop
 * and never parks a thread per socket: one native thread waits for all of
 * them and queues the events, which JS collects in batches once told:
 *
 * - Deno: the thread writes a byte to a socket pair whose other end Deno's
 *   own reactor watches (a `node:net` socket, ref'd while anything waits).
 *   A `nonblocking` FFI wait would run on Deno's blocking pool, which the
 *   runtime's file I/O and DNS share: behind them our wake-ups stalled for
 *   seconds;
 * - Bun: the thread calls one thread-safe `JSCallback` per batch; a ref'd
 *   timer keeps the process alive while anything waits (the callback does
 *   not).
 *
 * Sockets are armed one-shot with the union of what their waiters need.
 *
 * @module
 */
import { EVENT_DONE, EVENT_WORDS } from "../../ffi/constants.ts";
import { Socket } from "node:net";
import { setImmediate } from "node:timers";
import { closedError, errnoError, TlsError } from "../core/errors.ts";
import { type NativeLibrary, outCell, type Pointer } from "../core/native.ts";
import { loopTurned, onYield } from "./fairness.ts";
import { abortError } from "../core/abort.ts";

/**
 * Most events handled per turn of the event loop: a bigger batch would
 * delay timers and I/O callbacks while its continuations run. Measured with
 * 200 handshakes in flight (bench/lag.ts): p99 lag ~4.6 ms at 64, ~4.2 at 32,
 * ~3.9 at 16, where Bun's handshake rate dropped.
 */
const BATCH = 32;
/** Job tokens have the top bit set; watch tokens never do. */
const JOB_TOKEN_BIT = 0x8000_0000;

/** The outcome of a job: `[result, a, b, c]`. */
export type JobResult = [number, number, number, number];

interface Waiter {
  interest: number;
  /** Whether this wait keeps the process alive (its watch was ref'd when it began or since). */
  held: boolean;
  resolve: () => void;
  reject: (error: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

/** One socket known to the waiter. */
export class Watch {
  /** The socket. */
  readonly fd: number;
  /** The token its events carry. */
  readonly token: number;
  /** @internal */
  waiters: Waiter[] = [];
  /** @internal */
  closed = false;
  /** @internal Whether waits on this socket keep the process alive (`ref()`, the default). */
  refed = true;
  readonly #owner: Readiness;

  /** @internal */
  constructor(owner: Readiness, fd: number, token: number) {
    this.#owner = owner;
    this.fd = fd;
    this.token = token;
  }

  /** Resolves when the socket is ready for `interest`; rejects on abort or `forget()`. */
  wait(interest: number, signal?: AbortSignal): Promise<void> {
    return this.#owner.wait(this, interest, signal);
  }

  /** Stops watching (call before closing the fd); pending waits reject with `CLOSED`. */
  forget(): void {
    this.#owner.forget(this);
  }

  /**
   * Whether waits on this socket keep the process alive: `true` (the
   * default) or `false`, also for the waits already pending.
   */
  setRef(refed: boolean): void {
    this.#owner.setRef(this, refed);
  }
}

/** The process-wide readiness waiter. */
export class Readiness {
  readonly #lib: NativeLibrary;
  readonly #poller: Pointer;
  readonly #watches = new Map<number, Watch>();
  readonly #events = new Uint32Array(BATCH * EVENT_WORDS);
  readonly #jobs = new Map<number, (result: JobResult) => void>();
  #nextJob = 0;
  #nextToken = 1;
  /** Waits and jobs in flight: while there are any, the process stays alive. */
  #waiting = 0;
  /** Deno: the end of the signal socket pair that the runtime watches. */
  #signalSocket: Socket | undefined;
  /** Bun (or a lost signal socket): the timer that keeps the process alive while anything waits. */
  #keepAlive: ReturnType<typeof setInterval> | undefined;
  /** The signal socket was lost: look for events every millisecond instead. */
  #polling = false;

  /** Creates the native poller and starts its signal thread. */
  constructor(lib: NativeLibrary) {
    this.#lib = lib;
    const cell = outCell();
    const errno = lib.symbols.rustls_sockets_poller_new(cell);
    if (errno !== 0) throw errnoError(errno, "creating the socket poller");
    this.#poller = lib.pointerFrom(cell);
    try {
      this.#start();
    } catch (error) {
      lib.symbols.rustls_sockets_poller_free(this.#poller); // stops the thread, closes its fds
      throw error;
    }
  }

  /** Starts watching `fd`. */
  watch(fd: number): Watch {
    let token = this.#nextToken;
    while (this.#watches.has(token)) token = (token % 0x7ffffffe) + 1;
    this.#nextToken = (token % 0x7ffffffe) + 1;
    const watch = new Watch(this, fd, token);
    this.#watches.set(token, watch);
    return watch;
  }

  /** @internal See {@link Watch.wait}. */
  wait(watch: Watch, interest: number, signal?: AbortSignal): Promise<void> {
    if (watch.closed) return Promise.reject(closedError());
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { interest, held: watch.refed, resolve, reject, signal };
      if (signal) {
        waiter.onAbort = () => {
          const at = watch.waiters.indexOf(waiter);
          if (at >= 0) {
            watch.waiters.splice(at, 1);
            this.#settled(waiter);
            reject(abortError(signal));
          }
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      watch.waiters.push(waiter);
      if (waiter.held) this.#acquired();
      this.#arm(watch);
    });
  }

  /**
   * Runs a native job on the poller's worker threads: `submit` receives the
   * poller and a token and starts it (returning 0 or an errno). Resolves with
   * the job's `[result, a, b, c]`. Keeps the process alive meanwhile.
   */
  runJob(submit: (poller: Pointer, token: number) => number): Promise<JobResult> {
    let token: number;
    do {
      this.#nextJob = (this.#nextJob + 1) & 0x7fff_ffff;
      token = (JOB_TOKEN_BIT | this.#nextJob) >>> 0;
    } while (this.#jobs.has(token));
    this.#acquired();
    const errno = submit(this.#poller, token);
    if (errno !== 0) {
      this.#released();
      return Promise.reject(errnoError(errno, "starting a worker job"));
    }
    return new Promise<JobResult>((resolve) => {
      this.#jobs.set(token, resolve);
    });
  }

  /** @internal See {@link Watch.forget}. */
  forget(watch: Watch): void {
    if (watch.closed) return;
    watch.closed = true;
    this.#watches.delete(watch.token);
    this.#lib.symbols.rustls_sockets_poller_disarm(this.#poller, watch.fd);
    const waiters = watch.waiters;
    watch.waiters = [];
    for (const waiter of waiters) {
      this.#settled(waiter);
      waiter.reject(closedError());
    }
  }

  /** @internal See {@link Watch.setRef}. */
  setRef(watch: Watch, refed: boolean): void {
    watch.refed = refed;
    for (const waiter of watch.waiters) {
      if (waiter.held === refed) continue;
      waiter.held = refed;
      if (refed) this.#acquired();
      else this.#released();
    }
  }

  #arm(watch: Watch): void {
    let interest = 0;
    for (const waiter of watch.waiters) interest |= waiter.interest;
    if (interest === 0) return;
    const errno = this.#lib.symbols.rustls_sockets_poller_arm(
      this.#poller,
      watch.fd,
      interest,
      watch.token,
    );
    if (errno !== 0) {
      const waiters = watch.waiters;
      watch.waiters = [];
      for (const waiter of waiters) {
        this.#settled(waiter);
        waiter.reject(errnoError(errno, "watching the socket"));
      }
    }
  }

  #settled(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener("abort", waiter.onAbort);
    if (waiter.held) this.#released();
  }

  /** Something began to wait: keep the process alive (neither signal does by itself). */
  #acquired(): void {
    if (this.#waiting++ === 0) this.#hold();
  }

  /** Something stopped waiting: once nothing waits, the process may exit. */
  #released(): void {
    if (--this.#waiting === 0) this.#unhold();
  }

  #hold(): void {
    if (this.#signalSocket) this.#signalSocket.ref();
    else this.#keepAlive = setInterval(this.#tick, this.#polling ? 1 : 1 << 30);
  }

  #unhold(): void {
    this.#signalSocket?.unref();
    clearInterval(this.#keepAlive);
    this.#keepAlive = undefined;
  }

  /** The keep-alive timer's callback: nothing, or a look for events when polling. */
  readonly #tick = (): void => {
    if (this.#polling) this.#drain();
  };

  /** Collects and dispatches what the native thread queued (32 events per turn at most). */
  readonly #drain = (): void => {
    const count = this.#lib.symbols.rustls_sockets_poller_take(this.#poller, this.#events, BATCH);
    // More queued: take them on a later turn, so timers and I/O run in between.
    if (count === BATCH) setImmediate(this.#drain);
    if (count > 0) this.#dispatch(count);
  };

  #dispatch(count: number): void {
    loopTurned();
    const events = this.#events;
    for (let i = 0; i < count; i++) {
      const at = i * EVENT_WORDS;
      const token = events[at];
      const ready = events[at + 1];
      if (ready === EVENT_DONE) {
        const resolve = this.#jobs.get(token);
        if (!resolve) continue;
        this.#jobs.delete(token);
        this.#released();
        resolve([events[at + 2], events[at + 3], events[at + 4], events[at + 5]]);
        continue;
      }
      const watch = this.#watches.get(token);
      if (!watch) continue;
      const waiters = watch.waiters;
      watch.waiters = [];
      for (const waiter of waiters) {
        if (waiter.interest & ready) {
          this.#settled(waiter);
          waiter.resolve();
        } else {
          watch.waiters.push(waiter);
        }
      }
      this.#arm(watch);
    }
  }

  /** Starts the native signal thread and the JS side of its signal. */
  #start(): void {
    const lib = this.#lib;
    if (lib.threadSafeCallback) {
      const callback = lib.threadSafeCallback(this.#drain);
      const errno = lib.symbols.rustls_sockets_poller_start_signal_thread(
        this.#poller,
        callback.pointer,
      );
      if (errno !== 0) throw errnoError(errno, "starting the socket poller thread");
      return;
    }
    const fd = new Int32Array(1);
    const errno = lib.symbols.rustls_sockets_poller_start_signal_socket(this.#poller, fd);
    if (errno !== 0) throw errnoError(errno, "starting the socket poller thread");
    let socket: Socket;
    try {
      socket = new Socket({ fd: fd[0], readable: true, writable: false });
    } catch (error) {
      lib.symbols.rustls_sockets_socket_close(fd[0]);
      throw new TlsError("INTERNAL", "watching the socket poller's signal", { cause: error });
    }
    socket.unref();
    // What the bytes say is only "look": the queue holds the events.
    socket.on("data", this.#drain);
    // Never expected (the native end stays open while the process lives); if the
    // socket is lost anyway, a 1 ms timer takes over, so no wait or job is stranded.
    const lost = (): void => {
      if (this.#signalSocket !== socket) return;
      const held = this.#waiting > 0;
      if (held) this.#unhold();
      this.#signalSocket = undefined;
      this.#polling = true;
      if (held) this.#hold();
    };
    socket.on("error", lost);
    socket.on("close", lost);
    this.#signalSocket = socket;
    // Tokio looks at its reactor only when idle or every 61st task, so a chain of
    // operations that yields collects the queue itself (see turn.ts).
    onYield(() => {
      if (this.#waiting > 0) this.#drain();
    });
  }
}

const waiters = new WeakMap<NativeLibrary, Readiness>();

/** The readiness waiter of `lib`, created on first use. */
export function readiness(lib: NativeLibrary): Readiness {
  let found = waiters.get(lib);
  if (!found) {
    found = new Readiness(lib);
    waiters.set(lib, found);
  }
  return found;
}

/**
 * Worker jobs a transport has in flight on its session or socket: what must
 * wait for them (freeing the session, closing the fd) runs once none is left.
 */
export class JobTracker {
  readonly #readiness: Readiness;
  #running = 0;
  #after: (() => void)[] = [];

  /** Tracks jobs run through `readiness`. */
  constructor(readiness: Readiness) {
    this.#readiness = readiness;
  }

  /** Whether a job is in flight. */
  get busy(): boolean {
    return this.#running > 0;
  }

  /** Runs a job, counted until it completes. */
  async run(submit: (poller: Pointer, token: number) => number): Promise<JobResult> {
    this.#running++;
    try {
      return await this.#readiness.runJob(submit);
    } finally {
      this.#running--;
      if (this.#running === 0) {
        const pending = this.#after;
        this.#after = [];
        for (const fn of pending) fn();
      }
    }
  }

  /** Runs `fn` now, or once the jobs in flight completed. */
  afterJobs(fn: () => void): void {
    if (this.#running === 0) fn();
    else this.#after.push(fn);
  }
}
