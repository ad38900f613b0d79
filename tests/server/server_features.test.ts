// listenTls features: SNI, resolveCertificate, concurrency, slow clients, close, IPv6, adopted fd.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { connect as netConnect } from "node:net";
import { connectTls, listenTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, rejectsWithCode, str, text } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";
import { answerServer, ask } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

test("SNI picks the certificate: sni entries, wildcard, async resolveCertificate, default", async () => {
  const asked: (string | null)[] = [];
  const server = await answerServer({
    ...serverIdentity,
    sni: {
      "other.test": { cert: p.wrongName.cert, key: p.wrongName.key },
      "*.wild.test": { cert: p.named.cert, key: p.named.key },
    },
    resolveCertificate: async (hello) => {
      asked.push(hello.serverName);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return hello.serverName === "async.test"
        ? { cert: p.named.cert, key: p.named.key }
        : undefined;
    },
  });
  try {
    const other = await ask(server.port, { serverName: "other.test" });
    assert.deepEqual(other.info.peerCertificates[0], pemToDer(p.wrongName.cert));
    const wild = await ask(server.port, { serverName: "a.wild.test" });
    assert.deepEqual(wild.info.peerCertificates[0], pemToDer(p.named.cert));
    const resolved = await ask(server.port, { serverName: "async.test" });
    assert.deepEqual(resolved.info.peerCertificates[0], pemToDer(p.named.cert));
    const fallback = await ask(server.port, { serverName: "localhost" });
    assert.deepEqual(fallback.info.peerCertificates[0], pemToDer(p.server.cert));
    await server.finished(4);
    assert.deepEqual(server.infos.map((i) => i.serverName), [
      "other.test",
      "a.wild.test",
      "async.test",
      "localhost",
    ]);
    assert.deepEqual(
      asked,
      ["async.test", "localhost"],
      "resolveCertificate runs only when no sni entry matched",
    );
  } finally {
    server.close();
  }
});

test("an unknown name with no default certificate: unrecognized_name alert, both sides fail clearly", async () => {
  const server = await answerServer({
    sni: { "other.test": { cert: p.wrongName.cert, key: p.wrongName.key } },
  });
  try {
    const error = await rejectsWithCode(
      ask(server.port, { serverName: "localhost" }),
      "ALERT_RECEIVED",
    );
    assert.equal((error as unknown as { alert: string }).alert, "unrecognised_name");
    await server.finished(1);
    assert.equal(server.errors[0].code, "PEER_INCOMPATIBLE");
    assert.match(server.errors[0].message, /localhost/);
  } finally {
    server.close();
  }
});

test("a slow resolveCertificate does not hold up other connections", async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => (release = resolve));
  const server = await answerServer({
    ...serverIdentity,
    resolveCertificate: async (hello) => {
      if (hello.serverName === "async.test") {
        await gate;
        return { cert: p.named.cert, key: p.named.key };
      }
      return undefined;
    },
  });
  try {
    const slow = ask(server.port, { serverName: "async.test" }, "slow");
    const fast = await ask(server.port, { serverName: "localhost" }, "fast");
    assert.equal(fast.answer, "echo:fast");
    release();
    assert.equal((await slow).answer, "echo:slow");
  } finally {
    server.close();
  }
});

test("200 concurrent clients, 0 errors", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ask(server.port, {}, `client ${i}`)),
    );
    assert.deepEqual(answers.map((a) => a.answer), answers.map((_, i) => `echo:client ${i}`));
    await server.finished(200);
    assert.equal(server.errors.length, 0);
  } finally {
    server.close();
  }
}, 60_000);

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
