/**
 * `TlsConn`: an async TLS connection over any {@link TlsTransport}. It owns
 * one {@link TlsSession} and drives it: handshake, reads, writes,
 * close_notify. Errors are sticky: once the TLS layer failed, every later
 * read or write rejects with the same `TlsError`.
 *
 * @module
 */
import { IO, RESULT, STATE } from "../../ffi/constants.ts";
import { closedError, errnoError, TlsError } from "../core/errors.ts";
import { abortError, raceAbort } from "../core/abort.ts";
import { TlsSession } from "../tls/session.ts";
import { deadlineMessage, LONGEST_TIMER_MS } from "../core/timeout.ts";
import { TurnBudget } from "../runtime/fairness.ts";
import { OperationQueue } from "./operation_queue.ts";
import { IdleTimer } from "../runtime/idle_timer.ts";
import type { TlsTransport } from "../transports/transport.ts";
import type { Addr, HandshakeInfo } from "../core/types.ts";

/** TLS alert descriptions (RFC 8446 §6). */
const ALERT_BAD_CERTIFICATE = 42;
const ALERT_ACCESS_DENIED = 49;
const STREAM_CHUNK = 64 * 1024;
/** Labels TLS 1.2 derives its own keys with (RFC 5705 §4, RFC 7627 §4). */
const RESERVED_TLS12_EXPORTER_LABELS = [
  "client finished",
  "server finished",
  "master secret",
  "extended master secret",
  "key expansion",
];

/** Options that govern one connection: its handshake, its idle time, its end. */
export interface HandshakeLimits {
  /** Aborts the handshake. */
  signal?: AbortSignal;
  /** Milliseconds the handshake may take. */
  timeout?: number;
  /**
   * The `handshakeTimeout` the caller gave, when `timeout` is what is left of
   * it (the deadline counts from the call): the figure a `TIMED_OUT` names.
   */
  timeoutAsGiven?: number;
  /**
   * Checks run once rustls finished the handshake, before our last flight is
   * flushed, `handshake()` resolves or any application data moves (pins,
   * `verifyPeer`). Throwing fails the connection.
   */
  verify?: (info: HandshakeInfo) => void | Promise<void>;
  /** Receives the session's key log lines once the handshake ended (`keyLog`). */
  keyLog?: (line: string) => void;
  /** The `exportKeyingMaterial` option: the exporter's secrets outlive the handshake. */
  exporter?: boolean;
  /** The `idleTimeout` option, checked (`checkIdleTimeout`). */
  idleTimeout?: number;
  /**
   * Called once when the connection closes, also when it is garbage
   * collected unclosed (its listener counts it as gone then).
   */
  onClose?: () => void;
}

/**
 * Makes the session once the handshake starts (the server reads the
 * ClientHello first to choose its configuration).
 */
export interface SessionStarter {
  /** Reads what it needs from the transport and returns the session. */
  start(signal: AbortSignal): Promise<TlsSession>;
  /** The connection closed before `start` was called. */
  abandon(): void;
}

/** Options of one `TlsConn` operation. */
export interface OperationOptions {
  /**
   * Aborts the operation: it rejects with `ABORTED` and the connection is
   * closed (a TLS stream cannot resume after a partial record).
   */
  signal?: AbortSignal;
}

/** What a connection holds natively, reachable without the connection itself. */
interface HeldNative {
  session?: TlsSession;
  /** A server connection whose handshake never started: it holds its listener's setup. */
  starter?: SessionStarter;
  /** The idle timer, stopped with the connection. */
  idle?: IdleTimer;
  /** `HandshakeLimits.onClose`, not yet called. */
  onClose?: () => void;
}

/** Runs what ends with a connection, once: the idle timer stops, `onClose` is told. */
function ended(held: HeldNative): void {
  held.idle?.stop();
  held.idle = undefined;
  const onClose = held.onClose;
  held.onClose = undefined;
  onClose?.();
}

/**
 * What a handshake deadline's `TIMED_OUT` says: the timeout the caller gave
 * (counted from the call when `timeoutAsGiven` is set), not what was left of it.
 */
function timedOutMessage(limits: HandshakeLimits): string {
  if (limits.timeoutAsGiven !== undefined) return deadlineMessage(limits.timeoutAsGiven);
  return `the TLS handshake did not finish within ${limits.timeout} ms`;
}

/**
 * The safety net for connections dropped without `close()`: frees the
 * socket and the native session, and lets go of the listener's setup, when
 * the object is garbage collected. `close()` is the main path and unregisters.
 */
const dropped = new FinalizationRegistry<{ transport: TlsTransport; conn: HeldNative }>(
  (held) => {
    held.transport.close(held.conn.session);
    held.conn.starter?.abandon();
    ended(held.conn);
  },
);

/**
 * Completes `conn`'s handshake and returns it; on failure closes it and
 * rethrows (what every connecting entry point does before handing a
 * connection out).
 */
export async function handshaken(conn: TlsConn): Promise<TlsConn> {
  try {
    await conn.handshake();
  } catch (error) {
    conn.close();
    throw error;
  }
  return conn;
}

/** An established (or establishing) TLS connection. */
export class TlsConn implements AsyncDisposable, Disposable {
  #session: TlsSession | undefined;
  #starter: SessionStarter | undefined;
  readonly #transport: TlsTransport;
  readonly #limits: HandshakeLimits;
  #handshake: Promise<HandshakeInfo> | undefined;
  #info: HandshakeInfo | undefined;
  #failure: TlsError | undefined;
  #closed = false;
  #writeClosed = false;
  #peerClosed = false;
  /** Reads, one at a time in call order. */
  readonly #reads = new OperationQueue();
  /** Writes (and flushes, KeyUpdates), one at a time in call order. */
  readonly #writes = new OperationQueue();
  #flushing: Promise<void> | undefined;
  /** Ends the running handshake's waits (see {@link close}). */
  #handshakeAbort: AbortController | undefined;
  /** {@link #endHandshakeSecrets} ran. */
  #secretsEnded = false;
  /** Fairness: this connection's operations in the event loop's current turn (`lib/runtime/fairness.ts`). */
  readonly #budget = new TurnBudget();
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;

  /**
   * @internal Connections are made by `connectTls`, `TlsListener.accept` and
   * the STARTTLS entry points. `session` is a client session, or a starter
   * that makes the server session from the ClientHello.
   */
  constructor(
    session: TlsSession | SessionStarter,
    transport: TlsTransport,
    limits: HandshakeLimits = {},
  ) {
    if (session instanceof TlsSession) this.#session = this.#held.session = session;
    else this.#starter = this.#held.starter = session;
    this.#transport = transport;
    this.#limits = limits;
    this.#held.onClose = limits.onClose;
    if (limits.idleTimeout !== undefined) {
      // The callback holds the connection weakly: an idle timer must not keep a dropped one alive.
      const ref = new WeakRef(this);
      const ms = limits.idleTimeout;
      this.#idle = this.#held.idle = new IdleTimer(ms, () => {
        const conn = ref.deref();
        if (conn) conn.#idled(ms);
      });
    }
    dropped.register(this, { transport, conn: this.#held }, this);
  }

  /** The idle timer, when `idleTimeout` is set: progress touches it. */
  #idle: IdleTimer | undefined;

  /** `idleTimeout` ran out: the connection fails with `TIMED_OUT` and closes. */
  #idled(ms: number): void {
    if (this.#closed) return;
    this.#failure ??= new TlsError(
      "TIMED_OUT",
      `no read or write made progress for ${ms} ms (idleTimeout)`,
    );
    this.close();
  }

  /** What the finalizer frees; shares no reference to `this`. */
  readonly #held: HeldNative = {};

  /** Runs `op`; an abort of `signal` closes the connection and rejects with `ABORTED`. */
  async #abortable<T>(signal: AbortSignal | undefined, op: () => Promise<T>): Promise<T> {
    if (!signal) return await op();
    if (signal.aborted) {
      this.close();
      throw abortError(signal);
    }
    const onAbort = (): void => this.close();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      return await op();
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** The session; only valid once the handshake started it. */
  get #live(): TlsSession {
    if (!this.#session) throw closedError();
    return this.#session;
  }

  /** The local address. */
  get localAddr(): Addr {
    return this.#transport.localAddr;
  }

  /** The remote address. */
  get remoteAddr(): Addr {
    return this.#transport.remoteAddr;
  }

  /**
   * Completes the handshake (once; later calls return the same result) and
   * tells what was negotiated.
   */
  handshake(options?: OperationOptions): Promise<HandshakeInfo> {
    if (this.#closed && !this.#handshake) return Promise.reject(closedError());
    this.#handshake ??= this.#runHandshake(this.#limits);
    const handshake = this.#handshake;
    if (!options?.signal || this.#info) return handshake;
    return this.#abortable(options.signal, () => handshake);
  }

  async #runHandshake(limits: HandshakeLimits): Promise<HandshakeInfo> {
    // Aborted by the deadline, the caller's signal, or close() (which must end a
    // wait on resolveCertificate or verifyPeer too).
    const controller = new AbortController();
    this.#handshakeAbort = controller;
    // Past the longest timer (Infinity included) there is no deadline.
    const timer = limits.timeout === undefined || limits.timeout > LONGEST_TIMER_MS
      ? undefined
      : setTimeout(() => {
        controller.abort(new TlsError("TIMED_OUT", timedOutMessage(limits)));
      }, limits.timeout);
    const onAbort = () => controller.abort(limits.signal!.reason);
    if (limits.signal?.aborted) onAbort();
    limits.signal?.addEventListener("abort", onAbort, { once: true });
    const signal = controller.signal;
    try {
      const transport = this.#transport;
      if (!this.#session) {
        const starter = this.#starter!;
        this.#starter = this.#held.starter = undefined;
        const session = await starter.start(signal);
        if (this.#closed) {
          session.free();
          throw closedError();
        }
        this.#session = session;
        this.#held.session = session;
      }
      const session = this.#session;
      let info: HandshakeInfo | undefined;
      for (;;) {
        if (signal.aborted) throw abortError(signal);
        if (!info && !session.isHandshaking) {
          // rustls is done: check the peer before our Finished (TLS 1.3 client) leaves.
          info = session.info();
          if (limits.verify) await this.#verify(limits.verify, info, signal, session);
        }
        // Flushing a flight is a plain write (rustls built it already): no worker hop.
        this.#check(transport.send(session, null));
        if (this.#closed) throw closedError();
        let flags = transport.state[STATE.FLAGS];
        if (flags & IO.WRITE_BLOCKED) {
          await transport.waitWritable(signal);
          continue;
        }
        if (!(flags & IO.HANDSHAKING)) {
          if (flags & IO.WANTS_WRITE) continue;
          break;
        }
        this.#check(await transport.recvHandshake(session));
        if (this.#closed) throw closedError();
        flags = transport.state[STATE.FLAGS];
        if (!(flags & IO.HANDSHAKING)) continue; // flush our last flight
        if (flags & IO.TRANSPORT_EOF) {
          throw new TlsError(
            "UNEXPECTED_EOF",
            "the peer closed the connection during the TLS handshake",
          );
        }
        if (flags & IO.WRITE_BLOCKED) await transport.waitWritable(signal);
        else if (flags & IO.READ_BLOCKED) await transport.waitReadable(signal);
      }
      this.#info = info ?? session.info();
      this.#idle?.touch();
      return this.#info;
    } catch (error) {
      throw this.#fail(error, signal);
    } finally {
      this.#handshakeAbort = undefined;
      this.#endHandshakeSecrets();
      if (timer !== undefined) clearTimeout(timer);
      limits.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Once per connection, when its handshake ended or it closes first: the key
   * log gets its lines (also after a failure: debugging), then every secret
   * goes but the exporter's, which only a finished handshake with
   * `exportKeyingMaterial` keeps. Runs before `close()` hands the session
   * over, so nothing is lost to the close.
   */
  #endHandshakeSecrets(): void {
    const session = this.#session;
    if (this.#secretsEnded || !session) return;
    this.#secretsEnded = true;
    const limits = this.#limits;
    if (limits.keyLog) this.#flushKeyLog(limits.keyLog, session);
    // After the key log took them: a late alert is sent or no longer possible.
    const keepExporter = limits.exporter === true && this.#info !== undefined;
    this.#transport.afterJobs(() => session.forgetSecrets(keepExporter));
  }

  /** Hands the secrets rustls logged to `keyLog` (also after a failed handshake: debugging). */
  #flushKeyLog(keyLog: (line: string) => void, session: TlsSession): void {
    const flush = (): void => {
      if (session.freed) return;
      for (const line of session.takeKeyLog()) {
        try {
          keyLog(line);
        } catch {
          // a failing logger must not break the connection
        }
      }
    };
    // A worker job may still hold the session (a failure while it ran): read after it.
    this.#transport.afterJobs(flush);
  }

  /**
   * Derives keying material from the session (RFC 5705; its TLS 1.3 form,
   * RFC 8446 §7.5): both ends get the same `length` bytes for the same
   * `label` and `context`. The basis of RFC 9266 `tls-exporter` channel
   * binding (`label` `"EXPORTER-Channel-Binding"`, 32 bytes, no context).
   * Needs a finished handshake.
   */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Uint8Array {
    this.#ensureOpen();
    if (!this.#info) {
      throw new TlsError("NOT_SUPPORTED", "exportKeyingMaterial needs a finished handshake");
    }
    if (this.#limits.exporter !== true) {
      throw new TlsError(
        "NOT_SUPPORTED",
        "exportKeyingMaterial needs the exportKeyingMaterial: true option when connecting or " +
          "listening (without it no exporter secret is kept)",
      );
    }
    if (!Number.isInteger(length) || length < 1 || length > 8160) {
      throw new TlsError(
        "INVALID_CONFIG",
        `length must be an integer from 1 to 8160, not ${length}`,
      );
    }
    if (typeof label !== "string" || label.length === 0) {
      throw new TlsError("INVALID_CONFIG", "label must be a non-empty string");
    }
    if (this.#info.protocol === "TLSv1.2" && RESERVED_TLS12_EXPORTER_LABELS.includes(label)) {
      throw new TlsError(
        "INVALID_CONFIG",
        `the label ${JSON.stringify(label)} is reserved: TLS 1.2 derives its own keys with it ` +
          "(RFC 5705 §4)",
      );
    }
    if (context !== undefined && !(context instanceof Uint8Array)) {
      throw new TlsError("INVALID_CONFIG", "context must be a Uint8Array");
    }
    const out = this.#live.exportKeyingMaterial(
      length,
      new TextEncoder().encode(label),
      context,
    );
    if (out === null) {
      throw new TlsError(
        "NOT_SUPPORTED",
        "the session's exporter secrets are not known (a TLS 1.2 server random the library " +
          "did not see, e.g. after STARTTLS bytes handed over with unread())",
      );
    }
    return out;
  }

  /**
   * Runs the post-handshake checks (our last flight is still queued); a
   * failure sends the peer a fatal alert instead and closes the connection.
   */
  async #verify(
    verify: (info: HandshakeInfo) => void | Promise<void>,
    info: HandshakeInfo,
    signal: AbortSignal,
    session: TlsSession,
  ): Promise<void> {
    try {
      // The handshake's deadline and signal bound the callback too.
      await raceAbort(Promise.resolve().then(() => verify(info)), signal);
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      const pin = error instanceof TlsError && error.code === "PIN_MISMATCH";
      const failure = pin ? error : new TlsError(
        "VERIFY_REJECTED",
        `verifyPeer rejected the peer: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
      this.#failure = failure;
      if (!this.#closed && !session.freed) {
        // rustls' own choices for a refused certificate / an application's refusal.
        this.#sendFatalAlert(session, pin ? ALERT_BAD_CERTIFICATE : ALERT_ACCESS_DENIED);
      }
      this.close();
      throw failure;
    }
    if (signal.aborted) throw abortError(signal);
    if (this.#closed) throw closedError();
  }

  /** Best effort: the peer learns why, then the connection closes anyway. */
  #sendFatalAlert(session: TlsSession, description: number): void {
    try {
      const alert = session.fatalAlert(description);
      if (alert) this.#transport.sendRaw(alert);
    } catch {
      // nothing more to tell the peer
    }
  }

  /** Turns a failure into the sticky `TlsError` of this connection. */
  #fail(error: unknown, signal?: AbortSignal): TlsError {
    if (this.#failure) return this.#failure;
    let failure: TlsError;
    if (this.#closed && !(error instanceof TlsError && error.code !== "CLOSED")) {
      failure = closedError();
    } else if (error instanceof TlsError) {
      failure = error;
    } else if (signal?.aborted) {
      failure = abortError(signal);
    } else {
      failure = new TlsError("INTERNAL", String(error), { cause: error });
    }
    if (failure.code === "TIMED_OUT" || failure.code === "ABORTED") this.close();
    if (failure.code !== "CLOSED") this.#failure = failure;
    return failure;
  }

  /** Throws for a non-OK transport step. */
  #check(result: number): void {
    if (result === RESULT.OK) return;
    if (result === RESULT.IO) {
      throw errnoError(this.#transport.state[STATE.ERRNO], "TLS connection");
    }
    throw this.#live.error(result);
  }

  #ensureOpen(): void {
    if (this.#failure) throw this.#failure;
    if (this.#closed) throw closedError();
  }

  /**
   * Reads decrypted bytes into `buf`: resolves with the count, or `null` once
   * the peer closed cleanly (close_notify). A close without close_notify
   * rejects with `UNEXPECTED_EOF`. Concurrent reads are served in call order.
   */
  read(buf: Uint8Array, options?: OperationOptions): Promise<number | null> {
    const signal = options?.signal;
    // The common case, no other read and no signal: no promise but the read's own.
    if (!signal && this.#reads.idle) return this.#reads.started(this.#read(buf));
    return this.#reads.run(() => this.#abortable(signal, () => this.#read(buf, signal)));
  }

  /** One read, between its queue's `enter()` and `leave()`. */
  async #read(buf: Uint8Array, signal?: AbortSignal): Promise<number | null> {
    this.#reads.enter();
    try {
      this.#ensureOpen();
      if (this.#peerClosed) return null;
      if (!this.#info) await this.handshake();
      if (buf.length === 0) return 0;
      const transport = this.#transport;
      const state = transport.state;
      try {
        const pause = this.#budget.pauseDue();
        if (pause) await pause;
        for (;;) {
          this.#ensureOpen();
          this.#check(transport.recv(this.#live, buf));
          const bytes = state[STATE.BYTES];
          const flags = state[STATE.FLAGS];
          if (flags & IO.WANTS_WRITE) this.#flushInBackground();
          if (bytes > 0) {
            this.#idle?.touch();
            return bytes;
          }
          if (flags & IO.PEER_CLOSED) {
            this.#peerClosed = true;
            this.#idle?.touch();
            return null;
          }
          if (flags & IO.TRANSPORT_EOF) {
            throw new TlsError(
              "UNEXPECTED_EOF",
              "the peer closed the connection without sending close_notify (the data may be truncated)",
            );
          }
          await transport.waitReadable(signal);
        }
      } catch (error) {
        throw this.#fail(error);
      }
    } finally {
      this.#reads.leave();
    }
  }

  /**
   * Encrypts and sends all of `data`; resolves with its length once rustls
   * took every byte and the records were handed to the transport.
   * Concurrent writes are sent in call order, never interleaved.
   */
  write(data: Uint8Array, options?: OperationOptions): Promise<number> {
    const signal = options?.signal;
    // The common case, no other write and no signal: no promise but the write's own.
    if (!signal && this.#writes.idle) return this.#writes.started(this.#write(data));
    return this.#writes.run(() => this.#abortable(signal, () => this.#write(data, signal)));
  }

  /** One write (empty `data`: a flush), between its queue's `enter()` and `leave()`. */
  async #write(data: Uint8Array, signal?: AbortSignal): Promise<number> {
    this.#writes.enter();
    try {
      this.#ensureOpen();
      if (this.#writeClosed) throw new TlsError("CLOSED", "the write side is closed (closeWrite)");
      if (!this.#info) await this.handshake();
      const transport = this.#transport;
      const state = transport.state;
      try {
        const pause = this.#budget.pauseDue();
        if (pause) await pause;
        let sent = 0;
        for (;;) {
          this.#ensureOpen();
          // The caller's buffer itself while nothing was sent: no view to make.
          const rest = sent >= data.length ? null : sent === 0 ? data : data.subarray(sent);
          this.#check(transport.send(this.#live, rest));
          const accepted = state[STATE.BYTES];
          const flags = state[STATE.FLAGS];
          sent += accepted;
          if (accepted > 0) this.#idle?.touch();
          if (sent >= data.length && !(flags & IO.WANTS_WRITE)) return data.length;
          if (flags & IO.WRITE_BLOCKED) await transport.waitWritable(signal);
        }
      } catch (error) {
        throw this.#fail(error);
      }
    } finally {
      this.#writes.leave();
    }
  }

  /**
   * Renews the traffic keys (TLS 1.3 KeyUpdate, asking the peer to renew its
   * own too); data keeps flowing both ways. Resolves once the KeyUpdate was
   * sent, in order with writes. Rejects with `PEER_INCOMPATIBLE`-style rustls
   * errors on TLS 1.2, which has no KeyUpdate.
   */
  async refreshTrafficKeys(): Promise<void> {
    this.#ensureOpen();
    if (!this.#info) await this.handshake();
    if (this.#info!.protocol !== "TLSv1.3") {
      throw new TlsError(
        "PEER_INCOMPATIBLE",
        "KeyUpdate needs TLS 1.3; this connection uses TLS 1.2",
      );
    }
    await this.#writes.run(async () => {
      this.#ensureOpen();
      this.#live.refreshTrafficKeys();
      return await this.#write(new Uint8Array(0));
    });
  }

  /** Sends pending records (a post-handshake answer) when no write is running. */
  #flushInBackground(): void {
    if (this.#flushing) return;
    this.#flushing = this.#writes.run(() => this.#write(new Uint8Array(0))).then(
      () => {},
      () => {},
    ).finally(() => (this.#flushing = undefined));
  }

  /**
   * Sends close_notify, flushes it, then shuts down the sending direction.
   * Reading stays possible until the peer closes too.
   */
  async closeWrite(): Promise<void> {
    this.#ensureOpen();
    if (this.#writeClosed) return;
    if (!this.#info) await this.handshake();
    // In the write queue: earlier writes finish first, later ones find the side closed.
    await this.#writes.run(() => this.#closeWrite());
  }

  /** closeWrite's turn in the write queue: close_notify, flushed, then the TCP half-close. */
  async #closeWrite(): Promise<void> {
    this.#writes.enter();
    try {
      this.#ensureOpen();
      if (this.#writeClosed) return;
      this.#writeClosed = true;
      this.#live.sendCloseNotify();
      const transport = this.#transport;
      try {
        for (;;) {
          this.#check(transport.send(this.#live, null));
          const flags = transport.state[STATE.FLAGS];
          if (!(flags & IO.WANTS_WRITE)) break;
          if (flags & IO.WRITE_BLOCKED) await transport.waitWritable();
        }
        transport.shutdownWrite();
      } catch (error) {
        throw this.#fail(error);
      }
    } finally {
      this.#writes.leave();
    }
  }

  /**
   * Closes the connection now: pending operations reject with `CLOSED`, the
   * socket and the native session are freed. Idempotent; does not send
   * close_notify (use `closeWrite()` or `await using` for a graceful close).
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    dropped.unregister(this);
    this.#endHandshakeSecrets();
    this.#transport.close(this.#session);
    this.#handshakeAbort?.abort(closedError());
    this.#starter?.abandon();
    this.#starter = undefined;
    ended(this.#held);
  }

  /** Same as {@link close}, for `using`: synchronous, never throws (no close_notify). */
  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Lets the process exit while this connection's reads, writes or handshake
   * wait for the socket (undone by {@link ref}). On carriers other than the
   * module's own sockets (streams, `node:net`, `Deno.Conn`) the carrier's own
   * setting decides.
   */
  unref(): void {
    if (!this.#closed) this.#transport.setRef(false);
  }

  /** Makes this connection's waits keep the process alive again (the default). */
  ref(): void {
    if (!this.#closed) this.#transport.setRef(true);
  }

  /** Graceful close: close_notify (best effort), then {@link close}. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#closed) return;
    try {
      if (this.#info && !this.#failure && !this.#writeClosed) await this.closeWrite();
    } catch {
      // the peer may be gone; closing is all that is left to do
    } finally {
      this.close();
    }
  }

  /**
   * The decrypted bytes as a Web byte stream (created on first access):
   * `getReader({ mode: "byob" })` reads into your buffers, as on
   * `Deno.TlsConn`; a default reader gets chunks of up to 64 KiB.
   */
  get readable(): ReadableStream<Uint8Array> {
    this.#readable ??= new ReadableStream({
      type: "bytes",
      autoAllocateChunkSize: STREAM_CHUNK,
      pull: async (controller) => {
        const request = controller.byobRequest!;
        const view = request.view!;
        try {
          const n = await this.read(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
          if (n === null) {
            controller.close();
            request.respond(0);
          } else {
            request.respond(n);
          }
        } catch (error) {
          controller.error(error);
        }
      },
      cancel: () => this.close(),
    }) as ReadableStream<Uint8Array>;
    return this.#readable;
  }

  /** A Web stream whose chunks are encrypted and sent; closing it sends close_notify. */
  get writable(): WritableStream<Uint8Array> {
    this.#writable ??= new WritableStream<Uint8Array>({
      write: async (chunk) => {
        await this.write(chunk);
      },
      close: () => this.closeWrite(),
      abort: () => this.close(),
    });
    return this.#writable;
  }
}
