/**
 * Fairness for socket operations that complete without waiting. A read that
 * finds its data (or a write that finds room) resolves at once, and what the
 * caller does next runs as a microtask: a run of such operations never lets
 * the event loop turn, so other sockets' readiness, timers and the runtime's
 * own I/O would wait for as long as data keeps arriving in time (measured: at
 * 64 connections, round trips of waiting connections delayed by 10-110 ms
 * while others kept going). Once {@link TURN_BUDGET_MS} passed since the
 * event loop last turned, the next operation first lets it turn.
 *
 * One budget for the whole process: the run is the event loop's, not a
 * connection's.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Longest time, in ms, that operations which did not wait run before one yields. */
export const TURN_BUDGET_MS = 1;

/** When the event loop was last seen to turn. */
let lastTurn = performance.now();

/**
 * Records that the event loop turned (the readiness waiter calls it for each
 * batch it dispatches: a batch only arrives between turns).
 */
export function loopTurned(): void {
  lastTurn = performance.now();
}

function yielded(resolve: () => void): void {
  lastTurn = performance.now();
  resolve();
}

/**
 * Call before an operation that may complete without waiting: `undefined`
 * within the budget, else a promise to await first, which resolves once the
 * event loop turned (`setImmediate`: due timers and I/O callbacks run first;
 * it costs microseconds, where a 0 ms timer costs 1-2 ms). An operation after
 * an idle spell may yield once without need; that costs only the same
 * microseconds.
 */
export function pauseDue(): Promise<void> | undefined {
  if (performance.now() - lastTurn < TURN_BUDGET_MS) return undefined;
  return new Promise<void>((resolve) => setImmediate(yielded, resolve));
}
