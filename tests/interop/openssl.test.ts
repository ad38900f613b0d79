// connectTls against `openssl s_server` (OpenSSL 3): versions, suites, data, client certificates.
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, readExactly, rejectsWithCode, str, text } from "../helpers/io.ts";
import { openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const { ca, server } = pki();

test("openssl s_server TLS 1.3: handshake info and echo (-rev)", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, ["-tls1_3", "-rev"]);
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
    const info = await conn.handshake();
    assert.equal(info.protocol, "TLSv1.3");
    assert.match(info.cipherSuite, /^TLS13_/);
    assert.ok(info.keyExchangeGroup.length > 0);
    assert.equal(info.serverName, "localhost");
    assert.equal(info.resumed, false);
    assert.equal(info.alpnProtocol, null);
    assert.equal(info.peerCertificates.length, 1);
    assert.deepEqual(info.peerCertificates[0], pemToDer(server.cert));
    assert.equal(await conn.handshake(), info, "handshake() returns the same result again");
    assert.equal(await conn.write(text("hello openssl\n")), 14);
    assert.equal(str(await readExactly(conn, 14)), "lssnepo olleh\n");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("openssl s_server TLS 1.2 only: negotiates TLS 1.2 with an ECDHE-ECDSA suite", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, ["-tls1_2", "-rev"]);
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
    const info = await conn.handshake();
    assert.equal(info.protocol, "TLSv1.2");
    assert.match(info.cipherSuite, /^TLS_ECDHE_ECDSA_WITH_/);
    await conn.write(text("abc\n"));
    assert.equal(str(await readExactly(conn, 4)), "cba\n");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("maxVersion TLSv1.2 against a TLS 1.3-capable server gives TLS 1.2", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, ["-rev"]);
  try {
    const conn = await connectTls({
      hostname: "localhost",
      port: peer.port,
      caCerts: [ca.cert],
      maxVersion: "TLSv1.2",
    });
    assert.equal((await conn.handshake()).protocol, "TLSv1.2");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("minVersion TLSv1.3 against a TLS 1.2-only server fails with the server's alert", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, ["-tls1_2"]);
  try {
    const error = await rejectsWithCode(
      connectTls({
        hostname: "localhost",
        port: peer.port,
        caCerts: [ca.cert],
        minVersion: "TLSv1.3",
      }),
      "ALERT_RECEIVED",
    );
    assert.equal((error as unknown as { alert: string }).alert, "protocol_version");
  } finally {
    await peer.stop();
  }
});

test("ALPN: openssl s_server -alpn picks our protocol", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, ["-alpn", "h2,http/1.1"]);
  try {
    const conn = await connectTls({
      hostname: "localhost",
      port: peer.port,
      caCerts: [ca.cert],
      alpnProtocols: ["http/1.1"],
    });
    assert.equal((await conn.handshake()).alpnProtocol, "http/1.1");
    conn.close();
  } finally {
    await peer.stop();
  }
});
