/**
 * Scripts the tests run in a child process of the runtime running them:
 * the fixtures in tests/fixtures/ and the CLI in cli/. Paths are resolved
 * from this file, so a test's own place in tests/ does not matter.
 */
import { runtime } from "./harness.ts";

/** The absolute path of `tests/fixtures/<name>`. */
export function fixture(name: string): string {
  return decodeURIComponent(new URL(`../fixtures/${name}`, import.meta.url).pathname);
}

/** The absolute path of `<repository>/<path>`. */
export function repoPath(path: string): string {
  return decodeURIComponent(new URL(`../../${path}`, import.meta.url).pathname);
}

/** The arguments with which process.execPath runs `script` with `args` (Deno: `run -A`). */
export function scriptArgs(script: string, args: string[] = []): string[] {
  return runtime === "deno" ? ["run", "-A", script, ...args] : [script, ...args];
}
