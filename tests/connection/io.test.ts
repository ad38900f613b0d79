// Reading, writing and closing a connection: call order, half-close, close_notify, Web streams.
// Also an EOF without close_notify, and use after close().
import assert from "node:assert/strict";
import { connectTls, listenTls, type TlsConn, type TlsListener } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import {
  assertSameBytes,
  readAll,
  readExactly,
  rejectsWithCode,
  str,
  text,
} from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const { ca, server } = p;
const goOptions = { cert: server.certPath, key: server.keyPath };
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
/** A server of the module's own on a free port. */
const ownServer = { hostname: "127.0.0.1", port: 0, cert: p.server.cert, key: p.server.key };

/** Runs `body` with a listener of {@link ownServer}, closed after it. */
async function withOwnServer(body: (listener: TlsListener) => Promise<void>): Promise<void> {
  const listener = await listenTls(ownServer);
  try {
    await body(listener);
  } finally {
    listener.close();
  }
}

test("two concurrent reads are served in call order; a read and a write run together", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const conn = await connectTls({ ...client, port: peer.port });
    const first = new Uint8Array(3);
    const second = new Uint8Array(3);
    const reads = Promise.all([readInto(conn, first), readInto(conn, second)]);
    await conn.write(text("abcdef"));
    await reads;
    assert.equal(str(first) + str(second), "abcdef");
    conn.close();
  } finally {
    await peer.stop();
  }
});

async function readInto(conn: TlsConn, buf: Uint8Array): Promise<void> {
  let have = 0;
  while (have < buf.length) have += (await conn.read(buf.subarray(have)))!;
}

/** The byte at `position` of the call-order tests' streams: no two nearby 64 KiB runs alike. */
const patternAt = (position: number): number => (position * 7 + (position >>> 16)) & 0xff;

function pattern(from: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = patternAt(from + i);
  return out;
}

test("writes and reads issued together, some with a signal, keep call order through full sockets", () =>
  withOwnServer(async (listener) => {
    const CHUNK = 2 * 1024 * 1024;
    const COUNT = 8;
    const TOTAL = CHUNK * COUNT;
    const serving = (async () => {
      const conn = await listener.accept();
      const got = await readExactly(conn, TOTAL);
      // Echo it back, so the client's queued reads see the same stream (the
      // echo completes only once the client reads it all).
      return { conn, got, echoed: conn.write(got) };
    })();
    const conn = await connectTls({ ...client, port: listener.addr.port });
    const signal = new AbortController().signal;
    // 16 MiB, more than the two sockets' buffers hold: the first writes wait for
    // room and the later ones queue behind them, with and without a signal, and
    // a KeyUpdate in between.
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < COUNT; i++) {
      writes.push(conn.write(pattern(i * CHUNK, CHUNK), i % 2 ? { signal } : undefined));
      if (i === 3) writes.push(conn.refreshTrafficKeys());
    }
    // Eight reads issued at once, some with a signal: each takes the bytes that
    // follow those of the read before it.
    const bufs = Array.from({ length: 8 }, () => new Uint8Array(256 * 1024));
    const reads = bufs.map((buf, i) => conn.read(buf, i % 2 ? undefined : { signal }));
    await Promise.all(writes);
    const { conn: accepted, got, echoed } = await serving;
    assertSameBytes(got, pattern(0, TOTAL), "what the server got (the writes in call order)");
    let at = 0;
    for (const [i, n] of (await Promise.all(reads)).entries()) {
      assert.ok(n !== null && n > 0, `read ${i} got bytes`);
      assert.deepEqual(
        bufs[i].subarray(0, n),
        pattern(at, n),
        `read ${i} took the next ${n} bytes`,
      );
      at += n;
    }
    assertSameBytes(await readExactly(conn, TOTAL - at), pattern(at, TOTAL - at), "the rest");
    await echoed;
    accepted.close();
    conn.close();
  }));

test("a write issued right after closeWrite() rejects CLOSED and never follows close_notify", () =>
  withOwnServer(async (listener) => {
    const received = listener.accept().then(async (conn) => {
      const bytes = await readAll(conn); // until the client's close_notify
      conn.close();
      return bytes;
    });
    const conn = await connectTls({ ...client, port: listener.addr.port });
    await conn.handshake();
    const closing = conn.closeWrite();
    await rejectsWithCode(conn.write(text("late")), "CLOSED");
    await closing;
    assert.equal((await received).length, 0, "nothing came after close_notify");
    conn.close();
  }));

test("a write issued as the one before settles still waits for those queued earlier", () =>
  withOwnServer(async (listener) => {
    // A is larger than what the two sockets' buffers take, so it must wait for room.
    const sizes = [16 * 1024 * 1024, 64 * 1024, 64 * 1024];
    const total = sizes[0] + sizes[1] + sizes[2];
    const serving = (async () => {
      const conn = await listener.accept();
      const got = await readExactly(conn, total);
      conn.close();
      return got;
    })();
    const conn = await connectTls({ ...client, port: listener.addr.port });
    await conn.handshake();
    // B queues behind A; C is issued the moment A settles, when nothing runs
    // but B still waits for its turn: C must come after B.
    let third: Promise<number> | undefined;
    const first = conn.write(new Uint8Array(sizes[0]).fill(1)).then(() => {
      third = conn.write(new Uint8Array(sizes[2]).fill(3));
    });
    const second = conn.write(new Uint8Array(sizes[1]).fill(2), {
      signal: new AbortController().signal,
    });
    await Promise.all([first, second]);
    await third;
    const got = await serving;
    let at = 0;
    sizes.forEach((size, i) => {
      const part = got.subarray(at, at + size);
      assert.ok(part.every((b) => b === i + 1), `part ${i} holds the bytes of write ${i + 1}`);
      at += size;
    });
    conn.close();
  }));

test("half-close both ways: the client closes its write side, the server still answers, then closes", async () => {
  const listener = await listenTls(ownServer);
  const served = (async () => {
    const conn = await listener.accept();
    let request = "";
    const buf = new Uint8Array(64);
    for (;;) {
      const n = await conn.read(buf); // until the client's close_notify
      if (n === null) break;
      request += str(buf.subarray(0, n));
    }
    await conn.write(text(`got ${request} after your close`));
    await conn.closeWrite();
    conn.close();
  })();
  try {
    const conn = await connectTls({ ...client, port: listener.addr.port });
    await conn.write(text("ping"));
    await conn.closeWrite();
    let answer = "";
    const buf = new Uint8Array(64);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      answer += str(buf.subarray(0, n));
    }
    assert.equal(answer, "got ping after your close");
    conn.close();
    await served;
  } finally {
    listener.close();
  }
});

test("Go crypto/tls: closeWrite sends close_notify, the peer answers with its own: read() === null", async () => {
  const peer = await goServer(goOptions);
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
    await conn.write(text("half-close"));
    await conn.closeWrite();
    await rejectsWithCode(conn.write(text("more")), "CLOSED");
    assert.equal(str(await readAll(conn)), "half-close");
    assert.equal(await conn.read(new Uint8Array(8)), null, "EOF stays EOF");
    conn.close();
  } finally {
    await peer.stop();
  }
});

test("Go crypto/tls: a close without close_notify is UNEXPECTED_EOF, after the data", async () => {
  const peer = await goServer({ ...goOptions, mode: "abrupt" });
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
    assert.equal(str(await readExactly(conn, 3)), "bye");
    await rejectsWithCode(conn.read(new Uint8Array(8)), "UNEXPECTED_EOF");
    conn.close();
  } finally {
    await peer.stop();
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

test("readable / writable Web streams carry the data and close with close_notify", async () => {
  const peer = await goServer(goOptions);
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
    const writer = conn.writable.getWriter();
    await writer.write(text("streams "));
    await writer.write(text("work"));
    await writer.close();
    let received = "";
    for await (const chunk of conn.readable) received += str(chunk);
    assert.equal(received, "streams work");
    conn.close();
  } finally {
    await peer.stop();
  }
});
