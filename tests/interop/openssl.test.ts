// connectTls against `openssl s_server` (OpenSSL 3): versions, suites, data, client certificates.
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, readExactly, str, text } from "../helpers/io.ts";
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
