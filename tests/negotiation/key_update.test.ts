// KeyUpdate (conn.refreshTrafficKeys()): data keeps flowing both ways across updates.
import assert from "node:assert/strict";
import { connectTls, listenTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readExactly, rejectsWithCode, str, text } from "../helpers/io.ts";
import { goServer, openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };

test("KeyUpdate with the module on both ends: 20 updates from each side, data intact", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
  });
  const served = (async () => {
    const conn = await listener.accept();
    for (let i = 0; i < 20; i++) {
      const got = await readExactly(conn, 8);
      await conn.refreshTrafficKeys();
      await conn.write(got); // echo after renewing our keys
    }
    await conn.closeWrite();
    conn.close();
  })();
  try {
    const conn = await connectTls({ ...client, port: listener.addr.port });
    for (let i = 0; i < 20; i++) {
      await conn.refreshTrafficKeys();
      const message = `round ${String(i).padStart(2, "0")}`.slice(0, 8);
      await conn.write(text(message));
      assert.equal(str(await readExactly(conn, 8)), message);
    }
    assert.equal(await conn.read(new Uint8Array(4)), null);
    conn.close();
    await served;
  } finally {
    listener.close();
  }
});

test("KeyUpdate against openssl s_server (TLS 1.3): it keeps answering; TLS 1.2 refuses clearly", async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, ["-rev"]);
  try {
    const conn = await connectTls({ ...client, port: peer.port });
    // (s_server -rev answers about a second late after each KeyUpdate: two rounds suffice)
    for (let i = 0; i < 2; i++) {
      await conn.refreshTrafficKeys();
      await conn.write(text(`abc${i}\n`));
      assert.equal(str(await readExactly(conn, 5)), `${i}cba\n`);
    }
    conn.close();
    const old = await connectTls({ ...client, port: peer.port, maxVersion: "TLSv1.2" });
    await rejectsWithCode(old.refreshTrafficKeys(), "PEER_INCOMPATIBLE");
    old.close();
  } finally {
    await peer.stop();
  }
});

test("KeyUpdate against Go crypto/tls: 10 updates, 1 MiB echoed intact", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const conn = await connectTls({ ...client, port: peer.port });
    const chunk = new Uint8Array(100 * 1024).map((_, i) => i % 251);
    for (let i = 0; i < 10; i++) {
      await conn.refreshTrafficKeys();
      await conn.write(chunk);
      const echoed = await readExactly(conn, chunk.length);
      assert.ok(echoed.every((b, j) => b === chunk[j]), `round ${i}`);
    }
    conn.close();
  } finally {
    await peer.stop();
  }
});
