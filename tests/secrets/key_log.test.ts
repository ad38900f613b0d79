// Key logs (keyLog): the lines openssl's -keylogfile writes; SSLKEYLOGFILE only when asked.
// Either side; the secrets of refused or cut handshakes; no key material in errors.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connectTls, type TlsClientOptions, TlsError } from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { readAll, rejectsWithCode, text } from "../helpers/io.ts";
import { goServer, openSslServer, runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };
const client = { serverName: "localhost", caCerts: [p.ca.cert] } satisfies TlsClientOptions;

function tempFile(name: string): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-keylog-"));
  return { path: join(dir, name), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function keyLogLines(textContent: string): string[] {
  return textContent.split("\n").filter((l) => /^[A-Z_0-9]+ [0-9a-f]+ [0-9a-f]+$/.test(l));
}

for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
  test(`keyLog (client, ${version}) matches openssl s_server's -keylogfile`, async () => {
    const file = tempFile("server.keys");
    const peer = await openSslServer(p.server.certPath, p.server.keyPath, [
      "-keylogfile",
      file.path,
      "-rev",
    ]);
    try {
      const ours: string[] = [];
      const conn = await connectTls({
        hostname: "127.0.0.1",
        port: peer.port,
        ...client,
        maxVersion: version,
        keyLog: (line) => ours.push(line),
      });
      assert.equal((await conn.handshake()).protocol, version);
      await conn.write(text("abc\n"));
      await conn.read(new Uint8Array(16));
      conn.close();
      const labels = ours.map((l) => l.split(" ")[0]).sort();
      if (version === "TLSv1.3") {
        assert.deepEqual(labels, [
          "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
          "CLIENT_TRAFFIC_SECRET_0",
          "EXPORTER_SECRET",
          "SERVER_HANDSHAKE_TRAFFIC_SECRET",
          "SERVER_TRAFFIC_SECRET_0",
        ]);
      } else {
        assert.deepEqual(labels, ["CLIENT_RANDOM"]);
      }
      const theirs = keyLogLines(readFileSync(file.path, "utf8"));
      for (const line of ours) assert.ok(theirs.includes(line), `openssl logged ${line}`);
    } finally {
      peer.stop();
      file.cleanup();
    }
  });
}

test("keyLog on the server matches openssl s_client's -keylogfile", async () => {
  const file = tempFile("client.keys");
  const ours: string[] = [];
  const server = await answerServer({ ...serverIdentity, keyLog: (line) => ours.push(line) });
  try {
    const result = await runTool("openssl", [
      "s_client",
      "-connect",
      `127.0.0.1:${server.port}`,
      "-servername",
      "localhost",
      "-CAfile",
      p.ca.certPath,
      "-keylogfile",
      file.path,
      "-quiet",
    ], "hello\n");
    assert.match(result.stdout, /echo:hello/);
    await server.finished(1);
    assert.equal(ours.length, 5, ours.join("\n"));
    const theirs = keyLogLines(readFileSync(file.path, "utf8"));
    for (const line of ours) assert.ok(theirs.includes(line), `openssl logged ${line}`);
  } finally {
    server.close();
    file.cleanup();
  }
});

test('keyLog: "env" appends to SSLKEYLOGFILE; without keyLog nothing is ever logged', async () => {
  const file = tempFile("env.keys");
  const server = await answerServer(serverIdentity);
  const saved = process.env.SSLKEYLOGFILE;
  process.env.SSLKEYLOGFILE = file.path;
  try {
    const plain = await connectTls({ port: server.port, ...client });
    await plain.write(text("no log"));
    await readAll(plain);
    plain.close();
    assert.throws(() => readFileSync(file.path), /ENOENT/, "no option, no key log");
    const logged = await connectTls({ port: server.port, ...client, keyLog: "env" });
    await logged.write(text("log"));
    await readAll(logged);
    logged.close();
    const lines = keyLogLines(readFileSync(file.path, "utf8"));
    assert.equal(lines.length, 5);
    assert.ok(lines.some((l) => l.startsWith("CLIENT_TRAFFIC_SECRET_0 ")));
  } finally {
    if (saved === undefined) delete process.env.SSLKEYLOGFILE;
    else process.env.SSLKEYLOGFILE = saved;
    server.close();
    file.cleanup();
  }
});

test("keyLog gets the secrets of a handshake refused by verifyPeer or cut by its deadline", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const refused: string[] = [];
    await rejectsWithCode(
      connectTls({
        port: server.port,
        ...client,
        keyLog: (line) => refused.push(line),
        verifyPeer: () => {
          throw new Error("no");
        },
      }),
      "VERIFY_REJECTED",
    );
    const timedOut: string[] = [];
    await rejectsWithCode(
      connectTls({
        port: server.port,
        ...client,
        keyLog: (line) => timedOut.push(line),
        verifyPeer: () => new Promise<void>(() => {}),
        handshakeTimeout: 300,
      }),
      "TIMED_OUT",
    );
    for (const lines of [refused, timedOut]) {
      // The peer's Finished was processed: every TLS 1.3 secret is known by then.
      assert.ok(lines.some((l) => l.startsWith("CLIENT_HANDSHAKE_TRAFFIC_SECRET ")), `${lines}`);
      assert.ok(lines.some((l) => l.startsWith("SERVER_TRAFFIC_SECRET_0 ")), `${lines}`);
    }
  } finally {
    server.close();
  }
});

test("security defaults: no key material in errors, no key log unless asked", async () => {
  // a key that does not match its certificate: the error names the problem, never the key
  const error = await connectTls({
    hostname: "127.0.0.1",
    ...client,
    port: 1,
    cert: p.client.cert,
    key: p.server.key,
  })
    .catch((e: TlsError) => e);
  assert.ok(error instanceof TlsError && error.code === "INVALID_CONFIG");
  const keyBody = p.server.key.split("\n")[1];
  assert.ok(!error.message.includes("PRIVATE KEY") && !error.message.includes(keyBody));
  // SSLKEYLOGFILE in the environment is ignored: the module never logs keys unless asked
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const keylog = `${p.dir}/keylog-${runtime}.txt`;
    const args = scriptArgs(fixture("platform_connect.ts"), [String(peer.port)]);
    const stdout = await new Promise<string>((resolve) => {
      execFile(
        process.execPath,
        args,
        { env: { ...process.env, SSLKEYLOGFILE: keylog, SSL_CERT_FILE: p.ca.certPath } },
        (_error, out) => resolve(out),
      );
    });
    assert.match(stdout, /"ok":true/, "the child completed a handshake");
    // (Deno itself may create the file at start-up; no key line may be in it.)
    const { existsSync, readFileSync } = await import("node:fs");
    const logged = existsSync(keylog) ? readFileSync(keylog, "utf8") : "";
    assert.equal(logged, "", "no key log line was written");
  } finally {
    await peer.stop();
  }
});
