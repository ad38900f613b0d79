// What keeps the process alive: a waiting connection or listener; once closed, it exits.
// Nothing else may hold the event loop open meanwhile. In Deno that is the
// readiness signal socket's ref/unref, in Bun a timer held while anything waits.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connectTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readAll, str, text } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";

const p = pki();
/** How long each exchange first waits, to see whether the process stayed up meanwhile. */
const WINDOW_MS = 1_000;
/** The fixture's pause after each answer, in which only its timer holds the process. */
const FIXTURE_PAUSE_MS = 200;

test("a waiting listener keeps the process alive; closed, the process exits by itself", async () => {
  const args = scriptArgs(fixture("waits_then_exits.ts"), [p.server.certPath, p.server.keyPath]);
  const child = spawn(process.execPath, args, {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Uint8Array) => stderr += str(chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const seen = (pattern: RegExp): Promise<RegExpExecArray> =>
    new Promise((resolve, reject) => {
      const look = (): void => {
        const found = pattern.exec(stdout);
        if (found) {
          child.stdout.off("data", look);
          resolve(found);
        }
      };
      child.stdout.on("data", look);
      look();
      void exited.then((code) =>
        reject(new Error(`exited (${code}) before ${pattern}: ${stderr}`))
      );
    });
  child.stdout.on("data", (chunk: Uint8Array) => stdout += str(chunk));
  const port = Number((await seen(/LISTENING (\d+)/))[1]);
  const exchange = async (message: string): Promise<void> => {
    // Long enough for a process with nothing holding its loop to have exited
    // (checked at the end: the fixture's pause plus its time to exit fit in it).
    await new Promise((resolve) => setTimeout(resolve, WINDOW_MS));
    assert.equal(child.exitCode, null, `the process exited while waiting: ${stderr}`);
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    await conn.write(text(message));
    assert.equal(str(await readAll(conn)), `bye ${message}`);
    conn.close();
  };
  try {
    await exchange("one");
    await seen(/SERVED 1/);
    await exchange("two"); // the listener waits again after a pause in which nothing waited
    await seen(/DONE/);
    const doneAt = Date.now();
    assert.equal(await exited, 0, stderr);
    const exitMs = Date.now() - doneAt;
    assert.match(stdout, /SERVED 2\nDONE/);
    assert.ok(
      FIXTURE_PAUSE_MS + exitMs < WINDOW_MS,
      `the process took ${exitMs} ms to exit: a ${WINDOW_MS} ms wait cannot tell it stayed up`,
    );
  } finally {
    child.kill();
  }
});
