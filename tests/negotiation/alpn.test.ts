// ALPN: the server picks by its own preference; openssl s_server and Go as peers.
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { goClient, goServer, openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const { ca, server } = p;
const serverIdentity = { cert: p.server.cert, key: p.server.key };
const goOptions = { cert: server.certPath, key: server.keyPath };

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

test("Go crypto/tls: TLS 1.2-only server and ALPN choice", async () => {
  const peer = await goServer({ ...goOptions, max: "1.2", alpn: ["http/1.1", "h2"] });
  try {
    const conn = await connectTls({
      hostname: "localhost",
      port: peer.port,
      caCerts: [ca.cert],
      alpnProtocols: ["h2", "http/1.1"],
    });
    const info = await conn.handshake();
    assert.equal(info.protocol, "TLSv1.2");
    assert.equal(info.alpnProtocol, "http/1.1", "Go picks by its own preference");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("Go crypto/tls client: listenTls picks ALPN by its own preference (TLS 1.3 and 1.2)", async () => {
  const server = await answerServer({ ...serverIdentity, alpnProtocols: ["h2", "http/1.1"] });
  try {
    for (const [max, version] of [["1.3", "TLS 1.3"], ["1.2", "TLS 1.2"]] as const) {
      const report = await goClient({
        port: server.port,
        ca: p.ca.certPath,
        alpn: ["http/1.1", "h2"],
        max,
        send: "go",
      });
      assert.deepEqual(report, { version, alpn: "h2", answer: "echo:go" });
    }
    await server.finished(2);
    assert.deepEqual(server.infos.map((i) => i.alpnProtocol), ["h2", "h2"]);
  } finally {
    server.close();
  }
});
