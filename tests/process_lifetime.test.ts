// What keeps the process alive: a connection or listener waiting for the
// network does (nothing else may hold the event loop open meanwhile), and
// once everything is closed the process exits on its own. In Deno that is the
// readiness signal socket's ref/unref, in Bun a timer held while anything waits.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connectTls } from "../mod.ts";
import { runtime, test } from "./helpers/harness.ts";
import { readAll, str, text } from "./helpers/io.ts";
import { pki } from "./helpers/pki.ts";

const p = pki();

test("a waiting listener keeps the process alive; closed, the process exits by itself", async () => {
  const fixture = decodeURIComponent(
    new URL("./fixtures/waits_then_exits.ts", import.meta.url).pathname,
  );
  const runtimeArgs = runtime === "deno" ? ["run", "-A", fixture] : [fixture];
  const child = spawn(process.execPath, [...runtimeArgs, p.server.certPath, p.server.keyPath], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stderr.on("data", (chunk: Uint8Array) => stderr += str(chunk));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on("data", (chunk: Uint8Array) => {
      stdout += str(chunk);
      const found = /LISTENING (\d+)/.exec(stdout);
      if (found) resolve(Number(found[1]));
    });
    void exited.then((code) => reject(new Error(`exited early (${code}): ${stderr}`)));
  });
  try {
    // Long enough for a process with nothing holding its loop to have exited.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal(child.exitCode, null, `the process exited while waiting: ${stderr}`);
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    await conn.write(text("hi"));
    assert.equal(str(await readAll(conn)), "bye hi");
    conn.close();
    assert.equal(await exited, 0, stderr);
    assert.match(stdout, /DONE/);
  } finally {
    child.kill();
  }
});
