/**
 * Fairness for socket operations that complete without waiting. A read that
 * finds its data (or a write that finds room) resolves at once, and what the
 * caller does next runs as a microtask: a chain of such operations never lets
 * the event loop turn, so other sockets' readiness, timers and the runtime's
 * own I/O would wait for as long as data keeps arriving in time (measured: at
 * 64 connections, round trips of waiting connections delayed by 10-110 ms
 * while others kept going).
 *
 * The rule: once the current turn of the event loop is older than
 * {@link TURN_BUDGET_MS}, a connection that already ran
 * {@link FREE_OPERATIONS} operations in it yields before its next one. Its
 * first few operations in a turn never yield, so a request/response pair, or
 * a connection woken late in a busy turn, is not held back; a turn of chained
 * operations ends after the budget plus at most that many operations per
 * connection.
 *
 * A turn starts at each readiness batch ({@link loopTurned}) and at a
 * `setImmediate` marker queued once per turn that has socket operations in it.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Age, in ms, of the event loop's turn after which chained operations yield. */
export const TURN_BUDGET_MS = 1;
/** Operations per connection and turn that never yield. */
export const FREE_OPERATIONS = 8;

let turn = 0;
let turnStart = performance.now();
let markerQueued = false;

/** A new turn of the event loop began (the readiness waiter's batches call this). */
export function loopTurned(): void {
  turn++;
  turnStart = performance.now();
}

function marker(): void {
  markerQueued = false;
  loopTurned();
}

/** One connection's place in the event loop's turns. */
export class TurnBudget {
  #turn = -1;
  #operations = 0;

  /**
   * Call before an operation that may complete without waiting: `undefined`,
   * or a promise to await first, which resolves once the event loop turned
   * (`setImmediate`: due timers and I/O callbacks run first; it costs
   * microseconds, where a 0 ms timer costs 1-2 ms).
   */
  pauseDue(): Promise<void> | undefined {
    if (!markerQueued) {
      markerQueued = true;
      setImmediate(marker);
    }
    if (this.#turn !== turn) {
      this.#turn = turn;
      this.#operations = 0;
    }
    if (++this.#operations <= FREE_OPERATIONS) return undefined;
    if (performance.now() - turnStart < TURN_BUDGET_MS) return undefined;
    return new Promise<void>((resolve) => setImmediate(resolve));
  }
}
