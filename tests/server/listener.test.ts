// listenTls itself: silent clients, close(), IPv6, an adopted listening fd.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { connectTls, listenTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { rejectsWithCode, str, text } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";
import { answerServer, ask } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

test("a silent client neither blocks others nor outlives handshakeTimeout", async () => {
  const server = await answerServer({ ...serverIdentity, handshakeTimeout: 300 });
  try {
    const silent = netConnect(server.port, "127.0.0.1");
    silent.on("error", () => {});
    const closed = new Promise<void>((resolve) => silent.on("close", () => resolve()));
    await new Promise((resolve) => silent.once("connect", resolve));
    assert.equal((await ask(server.port, {}, "busy")).answer, "echo:busy");
    await server.finished(2);
    assert.equal(server.errors.length, 1);
    assert.equal(server.errors[0].code, "TIMED_OUT");
    await closed;
  } finally {
    server.close();
  }
});

test("listener.close(): pending accept() rejects with CLOSED; accepted connections stay usable", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...serverIdentity });
  const port = listener.addr.port;
  const firstAccept = listener.accept();
  const client = connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] });
  const conn = await firstAccept;
  const pending = listener.accept();
  listener.close();
  listener.close();
  await rejectsWithCode(pending, "CLOSED");
  await rejectsWithCode(listener.accept(), "CLOSED");
  // the accepted connection still handshakes and talks (its configuration outlives the listener)
  const [serverInfo, clientConn] = await Promise.all([conn.handshake(), client]);
  assert.equal(serverInfo.protocol, "TLSv1.3");
  await clientConn.write(text("after close"));
  const buf = new Uint8Array(64);
  const n = await conn.read(buf);
  assert.equal(str(buf.subarray(0, n!)), "after close");
  conn.close();
  clientConn.close();
  await rejectsWithCode(
    connectTls({ hostname: "127.0.0.1", port, caCerts: [p.ca.cert] }),
    "CONNECTION_REFUSED",
  );
});

test("listening on IPv6 ::1", async () => {
  const server = await answerServer({ ...serverIdentity, hostname: "::1" });
  try {
    assert.equal(server.listener.addr.hostname, "::1");
    const result = await ask(server.port, { hostname: "::1" }, "six");
    assert.equal(result.answer, "echo:six");
  } finally {
    server.close();
  }
});

test("an adopted, already-listening fd (inherited from a supervisor)", async () => {
  const runtimeArgs = scriptArgs(fixture("adopted_listener.ts"));
  const supervisor = `
import os, socket, subprocess, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
fd = s.fileno()
os.set_inheritable(fd, True)
cmd = [sys.argv[1], *sys.argv[2:], str(fd), sys.argv[-2], sys.argv[-1]]
`;
  // argv: runtime, runtime args..., cert, key
  const script = supervisor.replace(
    "cmd = [sys.argv[1], *sys.argv[2:], str(fd), sys.argv[-2], sys.argv[-1]]",
    "cmd = [sys.argv[1], *sys.argv[2:-2], str(fd), sys.argv[-2], sys.argv[-1]]\nsys.exit(subprocess.run(cmd, pass_fds=[fd]).returncode)",
  );
  const child = spawn("python3", [
    "-c",
    script,
    process.execPath,
    ...runtimeArgs,
    p.server.certPath,
    p.server.keyPath,
  ], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ADOPTED line: ${output}`)), 20_000);
    const onData = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      const match = /ADOPTED (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  const result = await ask(port, {}, "fd");
  assert.equal(result.answer, "adopted:fd");
  assert.equal(await exited, 0, output);
}, 60_000);
