/**
 * `IdleTimer`: fires once a connection went `ms` without progress. Progress
 * is marked with a timestamp (no timer churn per read or write); the one
 * timer re-arms itself for the rest of the period when it finds recent
 * progress. The timer does not keep the process alive (a pending read or
 * write does, through the readiness waiter).
 *
 * @module
 */

/** A timer that fires `onIdle` after `ms` without a {@link IdleTimer.touch}. */
export class IdleTimer {
  readonly #ms: number;
  readonly #onIdle: () => void;
  #last = performance.now();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** Starts the period now. */
  constructor(ms: number, onIdle: () => void) {
    this.#ms = ms;
    this.#onIdle = onIdle;
    this.#arm(ms);
  }

  /** Marks progress: the period starts again. */
  touch(): void {
    this.#last = performance.now();
  }

  /** Stops the timer for good. Idempotent. */
  stop(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(delay: number): void {
    this.#timer = setTimeout(this.#fire, Math.max(1, Math.ceil(delay)));
    unrefTimer(this.#timer);
  }

  readonly #fire = (): void => {
    this.#timer = undefined;
    const quiet = performance.now() - this.#last;
    if (quiet >= this.#ms) this.#onIdle();
    else this.#arm(this.#ms - quiet);
  };
}

/** Lets the process exit while only `timer` is pending (Deno: a number; Bun: an object). */
function unrefTimer(timer: ReturnType<typeof setTimeout>): void {
  if (typeof timer === "object" && timer !== null && "unref" in timer) {
    (timer as { unref(): void }).unref();
    return;
  }
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno;
  deno?.unrefTimer?.(timer as unknown as number);
}
