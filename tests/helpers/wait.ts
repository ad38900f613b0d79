/**
 * Waiting for a condition with a deadline: tests wait on what they need to
 * be true, never for a fixed time before an assertion.
 */

/**
 * Resolves once `condition` returns true, polling every `intervalMs`; rejects
 * naming `what` when it still does not hold after `timeoutMs`.
 */
export async function until(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`still waiting after ${timeoutMs} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Takes `read()` until `done` holds of the reading, every `intervalMs`, for
 * at most `timeoutMs`; returns the last reading either way, for the
 * assertion that follows to name what it saw.
 */
export async function pollUntil<T>(
  read: () => T | Promise<T>,
  done: (reading: T) => boolean,
  timeoutMs = 5_000,
  intervalMs = 10,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reading = await read();
    if (done(reading) || Date.now() > deadline) return reading;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
