/**
 * What a test process holds: native objects (liveNativeObjects()), open
 * file descriptors, and a forced garbage collection. Native frees and
 * socket closes run on a worker after close(), so counts are read until
 * they settle, with a deadline.
 */
import { readdirSync } from "node:fs";
import { liveNativeObjects, type LiveObjects } from "../../mod.ts";
import { pollUntil } from "./wait.ts";

/** Collects garbage (deno --v8-flags=--expose-gc, Bun.gc); false when the runtime cannot. */
export function collectGarbage(): boolean {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc) g.gc();
  else if (g.Bun) g.Bun.gc(true);
  else return false;
  return true;
}

/** Open file descriptors of this process. */
export function fdCount(): number {
  return readdirSync("/proc/self/fd").length;
}

/**
 * Reads liveNativeObjects(), collecting garbage first, until `done` holds
 * or `timeoutMs` passed; returns the last reading.
 */
export function liveObjectsWhen(
  done: (now: LiveObjects) => boolean,
  timeoutMs = 10_000,
): Promise<LiveObjects> {
  return pollUntil(
    async () => {
      collectGarbage();
      return await liveNativeObjects();
    },
    done,
    timeoutMs,
    20,
  );
}

/**
 * The live objects once earlier tests' closes have landed: the first of
 * two equal readings 50 ms apart (or the last one after 5 s).
 */
export async function steadyLiveObjects(): Promise<LiveObjects> {
  let last = await liveObjectsWhen(() => true);
  const deadline = Date.now() + 5_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = await liveObjectsWhen(() => true);
    if (JSON.stringify(now) === JSON.stringify(last) || Date.now() > deadline) return now;
    last = now;
  }
}

/** The fd count once earlier closes have landed: two equal readings 20 ms apart (5 s at most). */
export async function steadyFdCount(): Promise<number> {
  let last = fdCount();
  const deadline = Date.now() + 5_000;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    const now = fdCount();
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}
