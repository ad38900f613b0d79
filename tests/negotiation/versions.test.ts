// Protocol versions: TLS 1.2 and 1.3 within minVersion/maxVersion; never TLS 1.1 or older.
import assert from "node:assert/strict";
import { connectTls, TlsError } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readExactly, rejectsWithCode, str, text } from "../helpers/io.ts";
import { openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const { ca, server } = p;
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };

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

test("a TLS 1.1-only peer is refused (TLS 1.0/1.1 are never negotiated)", async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, [
    "-tls1_1",
    "-cipher",
    "DEFAULT@SECLEVEL=0",
  ]);
  try {
    const error = await connectTls({ ...client, port: peer.port }).catch((e: TlsError) => e);
    assert.ok(error instanceof TlsError);
    assert.ok(
      ["PEER_INCOMPATIBLE", "ALERT_RECEIVED"].includes(error.code),
      `${error.code}: ${error.message}`,
    );
  } finally {
    await peer.stop();
  }
});
