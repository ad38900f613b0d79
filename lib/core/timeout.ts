/**
 * Handshake deadlines: the option's validation, and the server's default
 * (a client that connects and stays silent must not hold a connection,
 * its fd and its memory forever).
 *
 * @module
 */
import { abortError, describeTimeout } from "./abort.ts";
import { TlsError } from "./errors.ts";

/**
 * The handshake deadline of `listenTls` and `acceptTls` when
 * `handshakeTimeout` is not given: 10 s from the start of the handshake to
 * its end, `resolveCertificate` and `verifyPeer` included.
 * `handshakeTimeout: Infinity` removes the deadline.
 */
export const SERVER_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The longest delay a timer takes (2^31 - 1 ms, ~24.8 days); longer ones never fire. */
export const LONGEST_TIMER_MS = 2 ** 31 - 1;

/**
 * Throws `INVALID_CONFIG` unless `timeout` is absent or a positive number of
 * ms (`Infinity`: none); returns it, or `fallback` when absent. `name` is the
 * option's.
 */
export function checkTimeout(
  timeout: unknown,
  fallback?: number,
  name = "handshakeTimeout",
): number | undefined {
  if (timeout === undefined) return fallback;
  if (typeof timeout !== "number" || !(timeout > 0)) {
    throw new TlsError("INVALID_CONFIG", `${name} must be a positive number of ms`);
  }
  return timeout;
}

/** The `idleTimeout` option, checked: its ms, or `undefined` for none (`Infinity` included). */
export function checkIdleTimeout(timeout: unknown): number | undefined {
  const ms = checkTimeout(timeout, undefined, "idleTimeout");
  return ms === undefined || ms > LONGEST_TIMER_MS ? undefined : ms;
}

/** What a client call's `TIMED_OUT` says: the `handshakeTimeout` as given. */
export function deadlineMessage(timeout: number): string {
  return `the TLS connection did not finish within ${timeout} ms (handshakeTimeout)`;
}

/**
 * A client call's deadline, counted from the call: `handshakeTimeout` and
 * the caller's `signal` as one signal, so that loading the library,
 * building the configuration and connecting count against it as the
 * handshake does.
 */
export class CallDeadline {
  /** Aborts at the deadline (`TimeoutError`) or with the caller's signal, whichever comes first. */
  readonly signal: AbortSignal | undefined;
  /** Aborts at the deadline only; none when there is no deadline. */
  readonly timeoutSignal: AbortSignal | undefined;
  /** `handshakeTimeout` as given. */
  readonly #timeout: number | undefined;
  readonly #started = performance.now();

  /** `timeout` as checked by {@link checkTimeout}; past the longest timer there is none. */
  constructor(timeout: number | undefined, signal: AbortSignal | undefined) {
    this.#timeout = timeout;
    this.timeoutSignal = timeout === undefined || timeout > LONGEST_TIMER_MS
      ? undefined
      : AbortSignal.timeout(timeout);
    const signals = [signal, this.timeoutSignal].filter((s): s is AbortSignal => s !== undefined);
    this.signal = signals.length > 1 ? AbortSignal.any(signals) : signals[0];
    if (this.timeoutSignal) {
      // Whatever phase the deadline ends (loading the library, a DNS lookup), it names itself.
      const message = deadlineMessage(timeout!);
      describeTimeout(this.timeoutSignal, this.timeoutSignal, message);
      describeTimeout(this.signal!, this.timeoutSignal, message);
    }
  }

  /**
   * Whether the deadline passed, also when its timer had no turn to fire
   * yet (work on this thread, such as building a configuration from a large
   * trust store, outlasted it).
   */
  passed(): boolean {
    return this.timeoutSignal !== undefined &&
      performance.now() - this.#started >= this.#timeout!;
  }

  /**
   * Rejects for a deadline that {@link passed}: first lets the timers that
   * came due meanwhile fire, so that the caller's signal, if it was due
   * first, wins (`ABORTED`) over the deadline (`TIMED_OUT`).
   */
  async expire(): Promise<never> {
    await new Promise((resolve) => setTimeout(resolve, 0));
    if (this.signal?.aborted) throw abortError(this.signal);
    throw new TlsError("TIMED_OUT", deadlineMessage(this.#timeout!));
  }

  /** Whether `error` is this deadline's `TIMED_OUT` (not a caller's own timeout signal's). */
  ended(error: unknown): boolean {
    const timeout = this.timeoutSignal;
    return error instanceof TlsError && error.code === "TIMED_OUT" && timeout !== undefined &&
      timeout.aborted && error.cause === timeout.reason;
  }

  /** What is left for the handshake (at least 1 ms), or the timeout as given when it has none. */
  remaining(): number | undefined {
    return timeLeft(this.#timeout, this.#started);
  }
}

/**
 * What is left of `timeout` ms counted from `started` (`performance.now()`),
 * at least 1 ms; `timeout` as given when it is none (absent, or past the
 * longest timer).
 */
export function timeLeft(timeout: number | undefined, started: number): number | undefined {
  if (timeout === undefined || timeout > LONGEST_TIMER_MS) return timeout;
  return Math.max(1, timeout - (performance.now() - started));
}
