// TLS over carriers other than our TCP sockets: Web Streams, Unix sockets, node:net, TLS in TLS.
// Also the runtime's own connections as carriers.
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  acceptTls,
  connectTls,
  listenTls,
  startTls,
  type StreamPair,
  type TlsConn,
} from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import {
  pemToDer,
  readAll,
  readExactly,
  rejectsWithCode,
  str,
  streamPipe,
  text,
} from "../helpers/io.ts";
import { liveObjectsWhen, steadyLiveObjects } from "../helpers/live.ts";
import { openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

function pattern(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

test("Web Streams pair: client and server handshake, 4 MiB both ways, close_notify", async () => {
  const [clientSide, serverSide] = streamPipe();
  const [client, server] = await Promise.all([
    startTls(clientSide, { serverName: "localhost", caCerts: [p.ca.cert], alpnProtocols: ["x"] }),
    acceptTls(serverSide, { ...serverIdentity, alpnProtocols: ["x"] }),
  ]);
  const info = await client.handshake();
  assert.equal(info.alpnProtocol, "x");
  assert.deepEqual(info.peerCertificates[0], pemToDer(p.server.cert));
  assert.equal((await server.handshake()).serverName, "localhost");
  assert.deepEqual(client.remoteAddr, { transport: "stream" });
  const up = pattern(4 << 20, 1);
  const down = pattern(4 << 20, 2);
  const [, , gotUp, gotDown] = await Promise.all([
    client.write(up).then(() => client.closeWrite()),
    server.write(down).then(() => server.closeWrite()),
    readAll(server),
    readAll(client),
  ]);
  assert.equal(gotUp.length, up.length);
  assert.deepEqual(gotUp, up);
  assert.deepEqual(gotDown, down);
  client.close();
  server.close();
});

test("Web Streams pair: a bad certificate fails like connectTls, and the server sees the alert", async () => {
  const [clientSide, serverSide] = streamPipe();
  const serverDone = acceptTls(serverSide, { cert: p.expired.cert, key: p.expired.key }).then(
    () => "accepted",
    (error: Error & { code?: string }) => error.code,
  );
  await rejectsWithCode(
    startTls(clientSide, { serverName: "localhost", caCerts: [p.ca.cert] }),
    "CERT_EXPIRED",
  );
  assert.equal(await serverDone, "ALERT_RECEIVED");
});

test("Web Streams pair: the peer ending the stream without close_notify is UNEXPECTED_EOF", async () => {
  const [clientSide, serverSide] = streamPipe();
  const [client, server] = await Promise.all([
    startTls(clientSide, { serverName: "localhost", caCerts: [p.ca.cert] }),
    acceptTls(serverSide, serverIdentity),
  ]);
  await server.write(text("partial"));
  server.close(); // no close_notify: the stream just ends
  assert.equal(str(await readExactly(client, 7)), "partial");
  await rejectsWithCode(client.read(new Uint8Array(10)), "UNEXPECTED_EOF");
  client.close();
});

test("startTls and acceptTls refuse what they cannot carry, and startTls needs serverName", async () => {
  await rejectsWithCode(startTls({} as StreamPair, { serverName: "localhost" }), "INVALID_CONFIG");
  const [clientSide] = streamPipe();
  await rejectsWithCode(
    startTls(clientSide, {} as { serverName: string }),
    "INVALID_CONFIG",
  );
  const locked = streamPipe()[0];
  const reader = locked.readable.getReader();
  await rejectsWithCode(startTls(locked, { serverName: "localhost" }), "INVALID_CONFIG");
  reader.releaseLock();
});

test("Unix-domain sockets: listenTls({ path }) and connectTls({ path }), file removed on close", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-unix-"));
  const path = join(dir, "tls.sock");
  try {
    const listener = await listenTls({ path, ...serverIdentity });
    assert.deepEqual(listener.addr, { transport: "unix", path });
    const served = (async () => {
      const conn = await listener.accept();
      const info = await conn.handshake();
      await conn.write(text(`hello ${info.serverName} over ${conn.localAddr.transport}`));
      await conn.closeWrite();
      await readAll(conn);
      conn.close();
    })();
    await rejectsWithCode(connectTls({ path, caCerts: [p.ca.cert] } as never), "INVALID_CONFIG");
    const conn = await connectTls({ path, serverName: "localhost", caCerts: [p.ca.cert] });
    assert.equal(conn.remoteAddr.transport, "unix");
    assert.equal(str(await readAll(conn)), "hello localhost over unix");
    await conn.closeWrite();
    conn.close();
    await served;
    listener.close();
    assert.equal(existsSync(path), false, "the socket file is removed");
    const gone = await rejectsWithCode(
      connectTls({ path, serverName: "localhost", caCerts: [p.ca.cert] }),
      "NETWORK_ERROR",
    );
    assert.match(gone.message, /ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("a node:net socket carries TLS to openssl s_server", async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, ["-rev"]);
  try {
    const socket = netConnect({ host: "127.0.0.1", port: peer.port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    const conn = await startTls(socket, { serverName: "localhost", caCerts: [p.ca.cert] });
    assert.equal(conn.remoteAddr.transport, "tcp");
    await conn.write(text("stressed\n"));
    assert.equal(str(await readExactly(conn, 9)), "desserts\n");
    conn.close();
  } finally {
    peer.stop();
  }
});

test(`a ${runtime === "deno" ? "Deno.Conn" : "TlsConn"} carries TLS; TLS inside TLS`, async () => {
  // The outer TLS connection is a ConnLike carrier too: a TLS tunnel.
  const inner = await listenTls({ port: 0, hostname: "127.0.0.1", ...serverIdentity });
  const outer = await listenTls({ port: 0, hostname: "127.0.0.1", ...serverIdentity });
  const served = (async () => {
    const tunnel = await outer.accept();
    const conn = await acceptTls(tunnel, { cert: p.named.cert, key: p.named.key });
    const info = await conn.handshake();
    await conn.write(text(`inner ${info.protocol} for ${info.serverName}`));
    await conn.closeWrite();
    await readAll(conn);
    conn.close();
  })();
  try {
    const tunnel: TlsConn = await connectTls({
      port: outer.addr.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    const conn = await startTls(tunnel, { serverName: "async.test", caCerts: [p.ca.cert] });
    assert.deepEqual((await conn.handshake()).peerCertificates[0], pemToDer(p.named.cert));
    assert.equal(str(await readAll(conn)), "inner TLSv1.3 for async.test");
    await conn.closeWrite();
    conn.close();
    await served;
    if (runtime === "deno") {
      // Deno's own TCP connection as the carrier.
      const deno = (globalThis as unknown as {
        Deno: { connect(o: { hostname: string; port: number }): Promise<never> };
      }).Deno;
      const raw = await deno.connect({ hostname: "127.0.0.1", port: inner.addr.port });
      const servedInner = inner.accept().then(async (c) => {
        await c.write(text("via Deno.Conn"));
        await c.closeWrite();
        await readAll(c);
        c.close();
      });
      const viaDeno = await startTls(raw, { serverName: "localhost", caCerts: [p.ca.cert] });
      assert.equal(str(await readAll(viaDeno)), "via Deno.Conn");
      assert.equal(viaDeno.remoteAddr.transport, "tcp");
      await viaDeno.closeWrite();
      viaDeno.close();
      await servedInner;
    }
  } finally {
    inner.close();
    outer.close();
  }
});

test("stream transports free every native object", async () => {
  const before = await steadyLiveObjects();
  for (let i = 0; i < 5; i++) {
    const [clientSide, serverSide] = streamPipe();
    const [client, server] = await Promise.all([
      startTls(clientSide, { serverName: "localhost", caCerts: [p.ca.cert] }),
      acceptTls(serverSide, serverIdentity),
    ]);
    await client.write(text("x"));
    await readExactly(server, 1);
    client.close();
    server.close();
  }
  const after = await liveObjectsWhen((now) => now.connections === before.connections);
  assert.equal(after.connections, before.connections);
});

test(`the runtime's own TCP socket (${runtime === "deno" ? "Deno.connect" : "Bun.connect"}) carries TLS to openssl s_server`, async () => {
  const peer = await openSslServer(p.server.certPath, p.server.keyPath, ["-rev"]);
  try {
    let carrier: unknown;
    if (runtime === "deno") {
      carrier = await Deno.connect({ hostname: "127.0.0.1", port: peer.port });
    } else {
      const bun = (globalThis as unknown as {
        Bun: {
          connect(o: {
            hostname: string;
            port: number;
            socket: { data(): void };
          }): Promise<unknown>;
        };
      }).Bun;
      carrier = await bun.connect({
        hostname: "127.0.0.1",
        port: peer.port,
        socket: { data(): void {} },
      });
    }
    const conn = await startTls(carrier as StreamPair, {
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    assert.equal((await conn.handshake()).protocol, "TLSv1.3");
    assert.equal(conn.remoteAddr.transport, "tcp");
    const big = "x".repeat(20000) + "\n";
    await conn.write(text("stressed\n" + big));
    assert.equal(str(await readExactly(conn, 9)), "desserts\n");
    assert.equal((await readExactly(conn, big.length)).length, big.length);
    conn.close();
  } finally {
    peer.stop();
  }
});
