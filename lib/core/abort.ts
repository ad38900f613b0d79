/**
 * Cancellation: the `TlsError` an aborted signal stands for, and a race
 * that ends a wait on user code (a callback, a DNS lookup) at the signal,
 * whatever that code does afterwards.
 *
 * @module
 */
import { TlsError } from "./errors.ts";

/** What a signal's `TIMED_OUT` says when its timeout is a deadline's (see {@link describeTimeout}). */
const timeoutMessages = new WeakMap<AbortSignal, (reason: unknown) => string | undefined>();

/**
 * Makes {@link abortError} of `signal` say `message` when it aborted because
 * `timeout` (itself, or one of the signals it follows) ran out.
 */
export function describeTimeout(signal: AbortSignal, timeout: AbortSignal, message: string): void {
  timeoutMessages.set(
    signal,
    (reason) => (timeout.aborted && reason === timeout.reason ? message : undefined),
  );
}

/** An `ABORTED` or `TIMED_OUT` error for an aborted signal. */
export function abortError(signal: AbortSignal): TlsError {
  const reason = signal.reason;
  if (reason instanceof TlsError) return reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    const message = timeoutMessages.get(signal)?.(reason) ?? "the operation timed out";
    return new TlsError("TIMED_OUT", message, { cause: reason });
  }
  return new TlsError("ABORTED", "the operation was aborted", { cause: reason });
}

/**
 * Settles like `promise`, or rejects as soon as `signal` aborts. A value
 * `promise` still produces after the abort goes to `onLate` (to release
 * what it holds); a late rejection is dropped.
 */
export function raceAbort<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  onLate?: (value: T) => void,
): Promise<T> {
  if (!signal) return promise;
  let lost = signal.aborted;
  const late = (value: T): void => {
    if (!onLate) return;
    try {
      onLate(value);
    } catch {
      // releasing a late value must not surface as an unhandled rejection
    }
  };
  if (lost) {
    promise.then(late, () => {});
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => {
      lost = true;
      reject(abortError(signal));
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (lost) late(value);
        else resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        if (!lost) reject(error);
      },
    );
  });
}
