// Client failures that are not about certificates: refused, timeouts, aborts, bad options.
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import { connectTls, listenTls, TlsError } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { rejectsWithCode, text } from "../helpers/io.ts";
import { freePort } from "../helpers/net.ts";
import { goServer, silentServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { until } from "../helpers/wait.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };

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

/** A signal that aborts after `ms`. */
function abortAfter(ms: number): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), ms);
  return controller.signal;
}

test("AbortSignal on handshake, read and write: ABORTED, then the connection is closed", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  const silent = await goServer({ cert: p.server.certPath, key: p.server.keyPath, mode: "silent" });
  try {
    // read: nothing arrives
    const conn = await connectTls({ ...client, port: peer.port });
    await rejectsWithCode(
      conn.read(new Uint8Array(8), { signal: abortAfter(50) }),
      "ABORTED",
    );
    await rejectsWithCode(conn.read(new Uint8Array(8)), "CLOSED");
    // write: the peer does not read (the Go echo writes back into a full socket)
    const writer = await connectTls({ ...client, port: peer.port });
    const big = new Uint8Array(64 * 1024 * 1024);
    await rejectsWithCode(writer.write(big, { signal: abortAfter(200) }), "ABORTED");
    await rejectsWithCode(writer.write(text("x")), "CLOSED");
    // an already-aborted signal
    const third = await connectTls({ ...client, port: peer.port });
    await rejectsWithCode(
      third.read(new Uint8Array(8), { signal: AbortSignal.abort() }),
      "ABORTED",
    );
    // handshake of an accepted connection that never speaks
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: p.server.cert,
      key: p.server.key,
    });
    const accepting = listener.accept();
    const idle = netConnect(listener.addr.port, "127.0.0.1");
    idle.on("error", () => {});
    await new Promise((resolve) => idle.once("connect", resolve));
    const accepted = await accepting;
    // a deadline (AbortSignal.timeout) reads as TIMED_OUT
    await rejectsWithCode(accepted.handshake({ signal: AbortSignal.timeout(50) }), "TIMED_OUT");
    idle.destroy();
    listener.close();
  } finally {
    await peer.stop();
    await silent.stop();
  }
});
