/**
 * One direction's operations of a connection (its reads, or its writes),
 * run one at a time in call order, without a promise of its own per
 * operation while nothing else runs or waits: the common case, one read or
 * one write at a time, starts at once and costs nothing here.
 *
 * @module
 */

/** Runs operations one at a time, in call order. */
export class OperationQueue {
  /** An operation's body runs (between its {@link enter} and {@link leave}). */
  #running = false;
  /** Operations waiting for the one before them to settle. */
  #waiting = 0;
  /** The operation started last. */
  #last: Promise<unknown> = Promise.resolve();

  /** Whether an operation may start at once: none runs and none waits. */
  get idle(): boolean {
    return !this.#running && this.#waiting === 0;
  }

  /**
   * Records `started`, an operation started at once because the queue was
   * {@link idle}; returns it.
   */
  started<T>(started: Promise<T>): Promise<T> {
    this.#last = started;
    return started;
  }

  /**
   * Runs `op` (an async function) once every operation queued before it
   * settled (at once, if the queue is idle), whatever their outcome.
   */
  run<T>(op: () => Promise<T>): Promise<T> {
    if (this.idle) return this.started(op());
    this.#waiting++;
    const start = (): Promise<T> => {
      this.#waiting--;
      return op();
    };
    return this.started(this.#last.then(start, start));
  }

  /**
   * An operation's body begins: call first thing, synchronously, in every
   * operation run through this queue.
   */
  enter(): void {
    this.#running = true;
  }

  /** An operation's body ended (call in its `finally`). */
  leave(): void {
    this.#running = false;
  }
}
