// Failures that are not about certificates: refused, timeouts, aborts, bad options, use after close.
import assert from "node:assert/strict";
import { connectTls, TlsError } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { rejectsWithCode, text } from "../helpers/io.ts";
import { goServer, silentServer } from "../helpers/peers.ts";
import { freePort } from "../helpers/net.ts";
import { pki } from "../helpers/pki.ts";
import { until } from "../helpers/wait.ts";

const p = pki();

test("connection refused: CONNECTION_REFUSED with the errno", async () => {
  const port = await freePort();
  const error = await rejectsWithCode(
    connectTls({ hostname: "127.0.0.1", port, caCerts: [p.ca.cert] }),
    "CONNECTION_REFUSED",
  );
  assert.ok(error instanceof TlsError);
  assert.equal(error.errno, 111);
});

test("handshake timeout against a silent server: TIMED_OUT, promptly; the socket is closed", async () => {
  const server = await silentServer();
  try {
    const started = Date.now();
    await rejectsWithCode(
      connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [p.ca.cert],
        handshakeTimeout: 300,
      }),
      "TIMED_OUT",
    );
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 250 && elapsed < 5000, `took ${elapsed} ms`);
    // the socket was closed: the server sees EOF on the one connection it accepted
    await until(() => server.eofs() >= 1, "the silent server to see EOF", 2_000);
    assert.equal(server.accepted(), 1);
    assert.equal(server.eofs(), 1);
  } finally {
    await server.stop();
  }
});

test("abort during the handshake: ABORTED", async () => {
  const server = await silentServer();
  try {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    await rejectsWithCode(
      connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [p.ca.cert],
        signal: controller.signal,
      }),
      "ABORTED",
    );
    const aborted = AbortSignal.abort();
    await rejectsWithCode(
      connectTls({
        hostname: "127.0.0.1",
        port: server.port,
        caCerts: [p.ca.cert],
        signal: aborted,
      }),
      "ABORTED",
    );
  } finally {
    await server.stop();
  }
});

test("use after close: CLOSED; close() is idempotent", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [p.ca.cert] });
    const pending = conn.read(new Uint8Array(16));
    conn.close();
    conn.close();
    await rejectsWithCode(pending, "CLOSED");
    await rejectsWithCode(conn.read(new Uint8Array(16)), "CLOSED");
    await rejectsWithCode(conn.write(text("x")), "CLOSED");
    await rejectsWithCode(conn.closeWrite(), "CLOSED");
    assert.equal(
      (await conn.handshake()).protocol,
      "TLSv1.3",
      "the finished handshake stays readable",
    );
    await conn[Symbol.asyncDispose]();
  } finally {
    await peer.stop();
  }
});

test("bad options are INVALID_CONFIG before any connection is made", async () => {
  const port = await freePort();
  const base = { hostname: "127.0.0.1", port };
  await rejectsWithCode(connectTls({ ...base, caCerts: ["not a certificate"] }), "INVALID_CONFIG");
  await rejectsWithCode(connectTls({ ...base, caCerts: [] }), "INVALID_CONFIG");
  await rejectsWithCode(
    connectTls({
      ...base,
      caCerts: ["-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"],
    }),
    "INVALID_CONFIG",
  );
  await rejectsWithCode(connectTls({ ...base, cert: p.client.cert }), "INVALID_CONFIG");
  await rejectsWithCode(
    connectTls({ ...base, cert: p.client.cert, key: p.server.key, caCerts: [p.ca.cert] }),
    "INVALID_CONFIG",
  );
  await rejectsWithCode(
    connectTls({ ...base, minVersion: "TLSv1.3", maxVersion: "TLSv1.2" }),
    "INVALID_CONFIG",
  );
  await rejectsWithCode(
    connectTls({ ...base, minVersion: "TLSv1.1" as "TLSv1.2" }),
    "INVALID_CONFIG",
  );
  await rejectsWithCode(connectTls({ ...base, alpnProtocols: [""] }), "INVALID_CONFIG");
  await rejectsWithCode(connectTls({ ...base, port: 70000 }), "INVALID_CONFIG");
  await rejectsWithCode(connectTls({ ...base, handshakeTimeout: -1 }), "INVALID_CONFIG");
  await rejectsWithCode(
    connectTls({ ...base, serverName: "not a valid name!", caCerts: [p.ca.cert] }),
    "INVALID_CONFIG",
  );
});

test("an unknown host name: NAME_RESOLUTION_FAILED", async () => {
  await rejectsWithCode(
    connectTls({ hostname: "no-such-host.invalid", port: 443 }),
    "NAME_RESOLUTION_FAILED",
  );
});
