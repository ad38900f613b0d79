// TlsNodeSocket.unref() lets a process whose only work is a waiting read
// exit by itself; ref() again keeps it alive (a child process of the same
// runtime runs tests/node/fixtures/unref_socket.ts).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { runtime, test } from "../helpers/harness.ts";
import { str } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();

async function runFixture(mode: "unref" | "ref"): Promise<{ exited: boolean; stdout: string }> {
  const fixture = decodeURIComponent(
    new URL("./fixtures/unref_socket.ts", import.meta.url).pathname,
  );
  const runtimeArgs = runtime === "deno" ? ["run", "-A", fixture] : [fixture];
  const child = spawn(
    process.execPath,
    [...runtimeArgs, mode, p.server.certPath, p.server.keyPath, p.ca.certPath],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Uint8Array) => stdout += str(chunk));
  child.stderr.on("data", (chunk: Uint8Array) => stderr += str(chunk));
  const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  // Waiting: ready, then either an exit (within 10 s) or still alive after 1.5 s for "ref".
  const deadline = Date.now() + 10_000;
  while (!stdout.includes("WAITING") && child.exitCode === null && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(stdout.includes("WAITING"), `the fixture never got ready: ${stderr}`);
  const window = mode === "ref" ? 1_500 : 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    exit.then((code) => ({ code })),
    new Promise<"alive">((resolve) => timer = setTimeout(() => resolve("alive"), window)),
  ]);
  clearTimeout(timer);
  if (outcome === "alive") {
    child.kill("SIGKILL");
    await exit;
    return { exited: false, stdout };
  }
  assert.equal(outcome.code, 0, stderr);
  return { exited: true, stdout };
}

test("unref(): a socket that only waits lets the process exit; ref() keeps it", async () => {
  assert.equal((await runFixture("unref")).exited, true, "unref'd: the process exits by itself");
  assert.equal((await runFixture("ref")).exited, false, "ref'd: the process stays");
}, 40_000);
