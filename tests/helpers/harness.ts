/**
 * One test API for both runtimes: `Deno.test` under Deno, `bun:test` under
 * Bun. Test files import `test` from here and assertions from
 * `node:assert/strict`.
 */

/** A test body. */
export type TestBody = () => void | Promise<void>;

interface BunTestModule {
  test(name: string, fn: TestBody, timeout?: number): void;
}

const isBun = "Bun" in globalThis;
const bunSpecifier = "bun:test";
const bun: BunTestModule | undefined = isBun
  ? (await import(bunSpecifier)) as BunTestModule
  : undefined;

/** Registers a test; `timeout` (ms, default 30 s) fails it instead of hanging. */
export function test(name: string, fn: TestBody, timeout = 30_000): void {
  if (bun) {
    bun.test(name, fn, timeout);
    return;
  }
  Deno.test({
    name,
    // Our own leak checks replace Deno's op sanitizer: the shared readiness
    // waiter legitimately outlives a single test.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await Promise.race([
          fn(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
  });
}

/** Which runtime runs the tests. */
export const runtime: "deno" | "bun" = isBun ? "bun" : "deno";
