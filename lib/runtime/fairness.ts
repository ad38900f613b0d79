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
 * A turn starts at each readiness batch and at the first operation after a
 * `setImmediate` marker ran (the operation that starts a turn queues the next
 * marker).
 *
 * How to yield: in Bun, `setImmediate` (microseconds; a 0 ms timer costs
 * 1-2 ms in both runtimes), after which due timers and I/O have run. Deno
 * runs its immediates without delivering finished async operations
 * (measured: a `nonblocking` FFI call's result stayed undelivered through a
 * whole chain of `setImmediate` yields), and delivers a message through a
 * `MessageChannel` (itself an async operation, so the loop polls and the
 * others finished by then come with it), where immediates and timers may
 * not have run (measured: with a message alone taken as a turn, timers
 * waited through a long run of writes). So a Deno yield waits for both, a
 * message and an immediate: only then has the loop made a whole turn.
 *
 * What a yield does not bring in Deno is readiness from the runtime's own
 * reactor, where the readiness waiter's signal socket is watched: tokio polls
 * it only when idle or every 61st task (measured: a byte already waiting came
 * through after 31 yields). So the readiness waiter registers a hook
 * ({@link onYield}) that collects the events the native poller has queued (a
 * synchronous call): readiness reaches waiting connections at the next yield,
 * whatever the runtime does.
 *
 * @module
 */
import { setImmediate } from "node:timers";

/** Age, in ms, of the event loop's turn after which chained operations yield. */
export const TURN_BUDGET_MS = 1;
/** Operations per connection and turn that never yield. */
export const FREE_OPERATIONS = 8;

const isDeno = "Deno" in globalThis && !("Bun" in globalThis);
let turn = 0;
let turnStart = performance.now();
let markerQueued = false;
const yieldHooks = new Set<() => void>();

/**
 * Registers `hook` to run at every yield, once the event loop turned and
 * before the yielding operation continues.
 */
export function onYield(hook: () => void): void {
  yieldHooks.add(hook);
}

/** A turn of the event loop began (the readiness waiter calls this for each batch of events). */
export function loopTurned(): void {
  turn++;
  turnStart = performance.now();
}

/** Runs once the turn that queued it is over; the next operation starts a new one. */
function marker(): void {
  markerQueued = false;
}

/**
 * Operations waiting for the event loop to turn. Every operation that yields
 * in one turn shares one wake-up ({@link scheduleWakeUp}) and one run of the
 * hooks: a fresh `MessageChannel` per yield cost Deno ~8% of its CPU at 64
 * connections (creating, entangling and closing the ports).
 */
let yielders: (() => void)[] = [];
let yieldCount = 0;

/** @internal How many times operations yielded so far in this module instance (tests). */
export function yieldsSoFar(): number {
  return yieldCount;
}

/**
 * The loop turned: a new turn begins, the hooks run once, then every
 * operation that yielded resumes.
 */
function resumeYielders(): void {
  loopTurned();
  const resume = yielders;
  yielders = [];
  try {
    for (const hook of yieldHooks) hook();
  } finally {
    for (const resolve of resume) resolve();
  }
}

/**
 * Deno: what a yield still waits for, of its message (finished async
 * operations came with it) and its `setImmediate` (due timers ran before
 * it). Either alone is not a whole turn in Deno: a message can arrive again
 * and again while immediates and timers wait (measured: 1798 yields in 28
 * turns during one 256 MiB download, ~90 µs each, when a message alone
 * counted as a turn that never ended).
 */
let denoParts = 0;

function denoPartDone(): void {
  if (--denoParts === 0) resumeYielders();
}

function yieldTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    yieldCount++;
    // The first yielder of a turn schedules the wake-up (the others join it),
    // before it is queued: a wake-up that cannot be scheduled strands no one.
    if (yielders.length === 0) scheduleWakeUp();
    yielders.push(resolve);
  });
}

/** Bun: one `setImmediate`; Deno: an immediate and a message, both (see `denoParts`). */
function scheduleWakeUp(): void {
  setImmediate(isDeno ? denoPartDone : resumeYielders);
  if (!isDeno) return;
  denoParts = 2;
  // A fresh channel each time: its ports hold the process until closed (a
  // reused port, once it received a message, holds it for good in Deno
  // 2.9, unref() or not).
  const { port1, port2 } = new MessageChannel();
  port1.onmessage = () => {
    port1.close();
    port2.close();
    denoPartDone();
  };
  port2.postMessage(null);
}

/** One connection's place in the event loop's turns. */
export class TurnBudget {
  #turn = -1;
  #operations = 0;

  /**
   * Call before an operation that may complete without waiting: `undefined`,
   * or a promise to await first, which resolves once the event loop turned.
   */
  pauseDue(): Promise<void> | undefined {
    if (!markerQueued) {
      // The previous marker ran: this is the first operation of a later task
      // (possibly one the library did not start, like a timer), so a new turn.
      loopTurned();
      markerQueued = true;
      setImmediate(marker);
    }
    if (this.#turn !== turn) {
      this.#turn = turn;
      this.#operations = 0;
    }
    if (++this.#operations <= FREE_OPERATIONS) return undefined;
    if (performance.now() - turnStart < TURN_BUDGET_MS) return undefined;
    return yieldTurn();
  }
}
