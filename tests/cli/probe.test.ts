// cli/probe.ts run as a command (deno run / bun) against local peers.
import assert from "node:assert/strict";
import process from "node:process";
import { test } from "../helpers/harness.ts";
import { openSslServer, runTool, type ToolResult } from "../helpers/peers.ts";
import { freePort } from "../helpers/net.ts";
import { pki } from "../helpers/pki.ts";
import { repoPath, scriptArgs } from "../helpers/scripts.ts";

const p = pki();
const probe = repoPath("cli/probe.ts");

function runProbe(args: string[]): Promise<ToolResult> {
  return runTool(process.execPath, scriptArgs(probe, args), "", 60_000);
}

test("probe: a verified TLS 1.3 server, in text", async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, [
    "-www",
    "-alpn",
    "http/1.1",
  ]);
  try {
    const result = await runProbe([
      `localhost:${peer.port}`,
      "--ca",
      p.ca.certPath,
      "--alpn",
      "h2,http/1.1",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const out = result.stdout;
    assert.match(out, /^verification: OK$/m);
    assert.match(out, /^protocol: +TLSv1\.3 TLS13_/m);
    assert.match(out, /^ALPN: +http\/1\.1$/m);
    assert.match(out, /^resumption: +yes/m);
    assert.match(out, /^timing: +TCP connect [\d.]+ ms, handshake [\d.]+ ms$/m);
    assert.match(out, /0: CN=localhost\n +issuer: +CN=rustls-sockets test ca/);
    assert.match(out, /names: +localhost, 127\.0\.0\.1, ::1/);
  } finally {
    peer.stop();
  }
}, 60_000);

test("probe --json --tls12 with a client certificate", async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, [
    "-www",
    "-Verify",
    "1",
    "-CAfile",
    p.ca.certPath,
  ]);
  try {
    const result = await runProbe([
      `127.0.0.1:${peer.port}`,
      "--ca",
      p.ca.certPath,
      "--tls12",
      "--cert",
      p.client.certPath,
      "--key",
      p.client.keyPath,
      "--json",
    ]);
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.deepEqual(report.verification, { ok: true });
    assert.equal(report.protocol, "TLSv1.2");
    assert.equal(report.serverName, "127.0.0.1");
    assert.equal(typeof report.resumption, "boolean");
    assert.ok(report.chain.length >= 1); // openssl adds the CA from -CAfile
    assert.deepEqual(report.chain[0].ipAddresses, ["127.0.0.1", "::1"]);
    assert.match(report.chain[0].sha256Fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  } finally {
    peer.stop();
  }
}, 60_000);

test(
  "probe: an expired certificate exits 1 with CERT_EXPIRED and still shows the chain",
  async () => {
    const peer = await openSslServer(p.expired.certPath, p.expired.keyPath, ["-www"]);
    try {
      const result = await runProbe([`localhost:${peer.port}`, "--ca", p.ca.certPath, "--json"]);
      assert.equal(result.code, 1, result.stderr);
      const report = JSON.parse(result.stdout);
      assert.equal(report.verification.ok, false);
      assert.equal(report.verification.code, "CERT_EXPIRED");
      assert.ok(
        Date.parse(report.chain[0].notAfter) < Date.now(),
        "the chain shown is the expired one",
      );
      // The second look, unverified, is the probe's own: no warning about a setting nobody chose.
      assert.doesNotMatch(result.stderr, /dangerouslyDisableVerification/);
      assert.equal(typeof report.tcpConnectMs, "number");
    } finally {
      peer.stop();
    }
  },
  60_000,
);

test("probe: nobody listening exits 2; bad arguments exit 2 with the usage", async () => {
  const refused = await runProbe([`127.0.0.1:${await freePort()}`]);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /CONNECTION_REFUSED/);
  const usage = await runProbe(["no-port-here"]);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: probe <host:port>/);
}, 60_000);
