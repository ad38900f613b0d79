// Fairness: a run of reads or writes that never wait must still let the event loop turn.
// Such operations continue as microtasks; without the turn budget,
// connections waiting for readiness, timers and the runtime's own I/O wait
// until the run ends (measured without it: round trips of waiting
// connections delayed by 10-110 ms while 64 others kept going).
import assert from "node:assert/strict";
import { setImmediate } from "node:timers";
import { acceptTls, connectTls, listenTls, startTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readExactly, streamPipe, text } from "../helpers/io.ts";
import { tcpPort, tcpSocketState } from "../helpers/net.ts";
import { goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { until } from "../helpers/wait.ts";
import { FREE_OPERATIONS, yieldsSoFar } from "../../lib/runtime/fairness.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
const serverIdentity = { cert: p.server.cert, key: p.server.key };
/** What the busy connection reads: small enough to sit whole in a socket's receive buffer. */
const BLOB = 64 * 1024;
/** The size of its reads: 4,096 of them. */
const READ_CHUNK = 16;
/** The size of the writes in the write test. */
const CHUNK = 64;

test("a long run of reads that never wait lets other sockets' readiness through", async () => {
  // The busy connection's peer sends BLOB bytes, then close_notify and its FIN.
  const sender = await listenTls({ hostname: "127.0.0.1", port: 0, ...serverIdentity });
  const sent = sender.accept().then(async (conn) => {
    await conn.write(new Uint8Array(BLOB).fill(0x61));
    await conn.closeWrite();
    conn.close();
  });
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const busy = await connectTls({ ...client, port: sender.addr.port });
    const other = await connectTls({ ...client, port: peer.port });
    await sent;
    // Every byte must sit in the socket before the run starts, so that each
    // of the 4,096 reads below finds data without waiting: once the peer's
    // FIN is in (CLOSE_WAIT), every byte sent before it is.
    const busyPort = tcpPort(busy.localAddr);
    await until(
      () => tcpSocketState(busyPort, sender.addr.port)?.state === "CLOSE_WAIT",
      "all of the busy connection's data (then the peer's FIN) to arrive",
    );
    const unread = tcpSocketState(busyPort, sender.addr.port)!.receiveQueue;
    assert.ok(unread >= BLOB, `the data waits unread in the socket (${unread} bytes)`);

    let reads = 0;
    let otherAt = -1;
    // The other connection's read is parked on readiness before its echo can
    // arrive, so it completes only through a readiness batch: it starts before
    // "ping" is sent, and a turn of the event loop lets its first look at the
    // socket (a microtask) happen before the write.
    let otherState = "pending";
    const otherRead = readExactly(other, 4).then(() => {
      otherState = "done";
      otherAt = reads;
    }, (error) => {
      otherState = "failed";
      throw error;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(otherState, "pending", "the other connection's read waits for its echo");
    await other.write(text("ping"));
    // (No timer is pending during the run: in Deno a pending timer makes the
    // loop poll, which would hide a yield that lets only timers through.)
    const buf = new Uint8Array(READ_CHUNK);
    for (let have = 0; have < BLOB; reads++) {
      const n = await busy.read(buf);
      assert.ok(n !== null && n > 0);
      have += n;
    }
    await otherRead;
    assert.ok(
      otherAt >= 0 && otherAt < reads,
      `the other connection was served after read ${otherAt} of ${reads}`,
    );
    busy.close();
    other.close();
  } finally {
    sender.close();
    await peer.stop();
  }
});

test("a long run of writes that never wait lets timers through", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const conn = await connectTls({ ...client, port: peer.port });
    let writes = 0;
    let timerAt = -1;
    setTimeout(() => timerAt = writes, 0);
    // 2,048 writes of 64 bytes (128 KiB, well within the socket buffers: none waits).
    const chunk = new Uint8Array(CHUNK).fill(0x62);
    for (; writes < 2_048; writes++) await conn.write(chunk);
    assert.ok(
      timerAt >= 0 && timerAt < writes,
      `the timer ran after write ${timerAt} of ${writes}`,
    );
    const echoed = await readExactly(conn, 2_048 * CHUNK);
    assert.ok(echoed.every((byte) => byte === 0x62));
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("TLS over an in-memory Web Streams pair (all microtasks) still lets timers run", async () => {
  const [clientSide, serverSide] = streamPipe();
  const [client, server] = await Promise.all([
    startTls(clientSide, { serverName: "localhost", caCerts: [p.ca.cert] }),
    acceptTls(serverSide, { cert: p.server.cert, key: p.server.key }),
  ]);
  await Promise.all([client.handshake(), server.handshake()]);
  // From here on nothing waits for the event loop: both ends and the carrier are promises.
  let reads = 0;
  let timerAt = -1;
  setTimeout(() => timerAt = reads, 0);
  const record = new Uint8Array(16 * 1024).fill(0x63);
  const sending = (async () => {
    for (let i = 0; i < 256; i++) await server.write(record);
    await server.closeWrite();
  })();
  let have = 0;
  const buf = new Uint8Array(16 * 1024);
  for (;;) {
    const n = await client.read(buf);
    if (n === null) break;
    have += n;
    reads++;
  }
  await sending;
  assert.equal(have, 256 * record.length);
  assert.ok(timerAt >= 0 && timerAt < reads, `the timer ran after read ${timerAt} of ${reads}`);
  client.close();
  server.close();
});

test("a download whose reads never wait yields about once per FREE_OPERATIONS reads", async () => {
  const BYTES = 64 * 1024 * 1024;
  const READ = 128 * 1024;
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...serverIdentity });
  try {
    const sending = listener.accept().then(async (conn) => {
      const chunk = new Uint8Array(1024 * 1024);
      for (let sent = 0; sent < BYTES; sent += chunk.length) await conn.write(chunk);
      return conn;
    });
    const conn = await connectTls({ ...client, port: listener.addr.port });
    const buf = new Uint8Array(READ);
    const yields0 = yieldsSoFar();
    let reads = 0;
    for (let got = 0; got < BYTES; reads++) {
      const n = await conn.read(buf.subarray(0, Math.min(READ, BYTES - got)));
      assert.notEqual(n, null);
      got += n!;
    }
    const yields = yieldsSoFar() - yields0;
    assert.ok(yields > 0, "a run of reads that never wait yields at all");
    // Both ends share this thread, so the writer's operations count too.
    assert.ok(yields <= (2 * reads) / FREE_OPERATIONS + 16, `${yields} yields for ${reads} reads`);
    (await sending).close();
    conn.close();
  } finally {
    listener.close();
  }
});
