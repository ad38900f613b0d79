// The Deno-shaped details: startTls' hostname, `using`, BYOB reads, ref/unref, unknown option keys.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import process from "node:process";
import {
  acceptTls,
  connect,
  connectTls,
  listen,
  listenTls,
  startTls,
  type TlsConn,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";
import { rejectsWithCode, str, text } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const identity = { cert: p.server.cert, key: p.server.key };

test("startTls takes hostname (Deno's spelling) as the name to verify", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const plain = await connect({ hostname: "127.0.0.1", port: peer.port });
    const conn = await startTls(plain, { hostname: "localhost", caCerts: [p.ca.cert] });
    assert.equal((await conn.handshake()).serverName, "localhost");
    conn.close();
    // It is verified: a name the certificate lacks fails.
    const other = await connect({ hostname: "127.0.0.1", port: peer.port });
    await rejectsWithCode(
      startTls(other, { hostname: "other.test", caCerts: [p.ca.cert] }),
      "CERT_NAME_MISMATCH",
    );
    const none = await connect({ hostname: "127.0.0.1", port: peer.port });
    await rejectsWithCode(startTls(none, { caCerts: [p.ca.cert] }), "INVALID_CONFIG");
    none.close();
  } finally {
    await peer.stop();
  }
});

test("using closes TlsConn, TlsListener, PlainConn and PlainListener (Symbol.dispose)", async () => {
  let tlsListener;
  let plainListener;
  let tlsConn: TlsConn | undefined;
  let plainConn;
  {
    using listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
    tlsListener = listener;
    const accepted = listener.accept().then(async (c) => {
      await c.handshake();
      return c;
    });
    using conn = await connectTls({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    using _served = await accepted;
    tlsConn = conn;
    using plain = await listen({ hostname: "127.0.0.1", port: 0 });
    plainListener = plain;
    using dialled = await connect({ hostname: "127.0.0.1", port: plain.addr.port });
    plainConn = dialled;
  }
  await rejectsWithCode(tlsListener.accept(), "CLOSED");
  await rejectsWithCode(plainListener.accept(), "CLOSED");
  await rejectsWithCode(plainConn.read(new Uint8Array(1)), "CLOSED");
  assert.ok(tlsConn);
  await rejectsWithCode(tlsConn.read(new Uint8Array(1)), "CLOSED");
  await rejectsWithCode(tlsConn.write(text("x")), "CLOSED");
  // Disposing twice, or after close(), never throws.
  tlsConn[Symbol.dispose]();
  tlsListener[Symbol.dispose]();
});

test("readable is a byte stream: a BYOB reader fills the caller's buffer", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: peer.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    await conn.write(text("hello byob"));
    const reader = conn.readable.getReader({ mode: "byob" });
    let buffer = new ArrayBuffer(64);
    let got = "";
    while (got.length < 10) {
      const { value, done } = await reader.read(new Uint8Array(buffer, 0, 64));
      assert.equal(done, false);
      got += str(value!);
      buffer = value!.buffer as ArrayBuffer; // the same memory, handed back
    }
    assert.equal(got, "hello byob");
    reader.releaseLock();
    // A default reader still works on the same stream.
    await conn.write(text("again"));
    const chunk = await conn.readable.getReader().read();
    assert.equal(str(chunk.value!), "again");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("unknown option keys are INVALID_CONFIG naming the key, with other APIs' spellings", async () => {
  const cases: [Promise<unknown>, RegExp][] = [
    [connectTls({ port: 1, ca: [p.ca.cert] } as never), /"ca".*caCerts/],
    [connectTls({ port: 1, rejectUnauthorized: false } as never), /dangerouslyDisableVerification/],
    [connectTls({ port: 1, servername: "x" } as never), /"servername".*serverName/],
    [connectTls({ port: 1, colour: "blue" } as never), /connectTls has no option "colour"$/],
    [listenTls({ port: 0, ...identity, certChain: p.server.cert } as never), /"certChain".*cert/],
    [listenTls({ port: 0, ...identity, ALPNProtocols: ["h2"] } as never), /alpnProtocols/],
  ];
  for (const [attempt, message] of cases) {
    const error = await rejectsWithCode(attempt, "INVALID_CONFIG");
    assert.match(error.message, message);
  }
  const plain = await listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const client = await connect({ hostname: "127.0.0.1", port: plain.addr.port });
    const server = await plain.accept();
    const error = await rejectsWithCode(
      startTls(client, { serverName: "localhost", ca: [p.ca.cert] } as never),
      "INVALID_CONFIG",
    );
    assert.match(error.message, /startTls has no option "ca"/);
    const refused = await rejectsWithCode(
      acceptTls(server, { ...identity, requestCert: true } as never),
      "INVALID_CONFIG",
    );
    assert.match(refused.message, /clientAuth/);
    client.close();
    server.close();
  } finally {
    plain.close();
  }
});

/** Runs the unref fixture; resolves with its exit code, or "running" after `ms`. */
async function runUnrefFixture(what: string, mode: string, ms: number): Promise<number | string> {
  const args = [what, mode, p.server.certPath, p.server.keyPath, p.ca.certPath];
  const child = spawn(process.execPath, scriptArgs(fixture("unref_waits.ts"), args), {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout!.on("data", (c: Uint8Array) => (output += str(c)));
  child.stderr!.on("data", (c: Uint8Array) => (output += str(c)));
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  // The clock starts once the fixture waits.
  const deadline = Date.now() + 20_000;
  while (!output.includes("WAITING")) {
    if (child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`the fixture never waited: ${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    exited.then((code) => code ?? -1),
    new Promise<string>((resolve) => (timer = setTimeout(() => resolve("running"), ms))),
  ]);
  clearTimeout(timer);
  if (outcome === "running") {
    child.kill("SIGKILL");
    await exited;
  } else {
    assert.equal(outcome, 0, output);
  }
  return outcome;
}

for (const what of ["listener", "connection"]) {
  test(`unref(): a ${what} waiting lets the process exit; ref() holds it again`, async () => {
    assert.equal(await runUnrefFixture(what, "unref", 10_000), 0);
    // The precondition: the same wait, ref'd, keeps the process running.
    assert.equal(await runUnrefFixture(what, "ref", 1_500), "running");
  });
}
