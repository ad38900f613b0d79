// Go crypto/tls as a peer: its server for connectTls, its client for listenTls.
// Bulk data, IPv6, many connections, TLS 1.3 and 1.2.
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { randomBytes } from "../helpers/bulk.ts";
import { test } from "../helpers/harness.ts";
import { assertSameBytes, readExactly, str, text } from "../helpers/io.ts";
import { goClient, goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const { ca, server } = p;
const serverIdentity = { cert: p.server.cert, key: p.server.key };
const goOptions = { cert: server.certPath, key: server.keyPath };

test("Go crypto/tls: 16 MiB echoed byte-exact", async () => {
  const peer = await goServer(goOptions);
  try {
    const conn = await connectTls({ hostname: "127.0.0.1", port: peer.port, caCerts: [ca.cert] });
    const size = 16 * 1024 * 1024;
    const data = randomBytes(size);
    const writing = (async () => {
      for (let at = 0; at < size; at += 256 * 1024) {
        await conn.write(data.subarray(at, Math.min(size, at + 256 * 1024)));
      }
    })();
    const echoed = await readExactly(conn, size);
    await writing;
    assertSameBytes(echoed, data, "echoed by Go");
    conn.close();
  } finally {
    await peer.stop();
  }
}, 120_000);

test("Go crypto/tls over IPv6 (::1), with the IP verified against the certificate's IP SAN", async () => {
  const peer = await goServer({ ...goOptions, addr: "[::1]:0" });
  try {
    const conn = await connectTls({ hostname: "::1", port: peer.port, caCerts: [ca.cert] });
    const info = await conn.handshake();
    assert.equal(info.serverName, null, "no SNI for an IP address");
    assert.deepEqual(conn.remoteAddr, { transport: "tcp", hostname: "::1", port: peer.port });
    assert.equal(conn.localAddr.transport === "tcp" && conn.localAddr.hostname, "::1");
    await conn.write(text("v6"));
    assert.equal(str(await readExactly(conn, 2)), "v6");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("Go crypto/tls: 100 concurrent connections, each echoing its own bytes", async () => {
  const peer = await goServer(goOptions);
  try {
    const results = await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
      const message = `connection ${i} `.repeat(100);
      await conn.write(text(message));
      const echoed = str(await readExactly(conn, message.length));
      conn.close();
      return echoed === message;
    }));
    assert.equal(results.filter(Boolean).length, 100);
  } finally {
    await peer.stop();
  }
}, 60_000);

test("Go crypto/tls client: TLS 1.3 and 1.2 talk to listenTls", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const tls13 = await goClient({ port: server.port, ca: p.ca.certPath, send: "go" });
    assert.deepEqual(tls13, { version: "TLS 1.3", alpn: "", answer: "echo:go" });
    const tls12 = await goClient({
      port: server.port,
      ca: p.ca.certPath,
      max: "1.2",
      send: "go12",
    });
    assert.deepEqual(tls12, { version: "TLS 1.2", alpn: "", answer: "echo:go12" });
  } finally {
    server.close();
  }
});
