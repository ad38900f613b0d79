// Bad input and faults: garbage, oversized records, resets, a slowloris client; typed errors.
import assert from "node:assert/strict";
import { connect as netConnect, createServer, type Socket } from "node:net";
import { connectTls, listenTls, startTls, type TlsConn, TlsError } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readExactly, rejectsWithCode, str, text } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };

/** A TCP server that sends `reply` to each client, then closes. */
async function rawServer(reply: Uint8Array): Promise<{ port: number; stop(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    socket.on("error", () => {});
    socket.once("data", () => socket.end(reply));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Connects a raw TCP client to `port`, sends `data`, and closes. */
async function rawClient(port: number, data: Uint8Array, end = true): Promise<Socket> {
  const socket = netConnect(port, "127.0.0.1");
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  if (end) socket.end(data);
  else socket.write(data);
  return socket;
}

const random = (n: number): Uint8Array => crypto.getRandomValues(new Uint8Array(n));
const CLIENT_HELLO_START = Uint8Array.of(
  0x16,
  0x03,
  0x01,
  0x02,
  0x00,
  0x01,
  0x00,
  0x01,
  0xfc,
  0x03,
  0x03,
);

test("client: a peer speaking plain HTTP or random bytes is PEER_MISBEHAVED", async () => {
  for (
    const reply of [text("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"), random(4096)]
  ) {
    const server = await rawServer(reply);
    try {
      const error = await connectTls({ ...client, port: server.port }).catch((e: TlsError) => e);
      assert.ok(error instanceof TlsError, String(error));
      assert.ok(
        ["PEER_MISBEHAVED", "UNEXPECTED_EOF"].includes(error.code),
        error.code + " " + error.message,
      );
    } finally {
      await server.stop();
    }
  }
});

test("client: an oversized record is PEER_MISBEHAVED", async () => {
  // A handshake record header announcing 2^14 + 2048 + 1 bytes: over TLS's limit.
  const header = Uint8Array.of(0x16, 0x03, 0x03, 0x48, 0x01);
  const server = await rawServer(new Uint8Array([...header, ...random(100)]));
  try {
    await rejectsWithCode(connectTls({ ...client, port: server.port }), "PEER_MISBEHAVED");
  } finally {
    await server.stop();
  }
});

test("server: plain HTTP, random bytes, a truncated ClientHello and a flood of empty records fail typed", async () => {
  const server = await answerServer({ cert: p.server.cert, key: p.server.key });
  try {
    await rawClient(server.port, text("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await rawClient(server.port, random(2048));
    await rawClient(server.port, CLIENT_HELLO_START); // then EOF
    const empties = new Uint8Array(5 * 10_000);
    for (let i = 0; i < 10_000; i++) empties.set([0x16, 0x03, 0x01, 0x00, 0x00], i * 5);
    await rawClient(server.port, empties);
    await server.finished(4);
    const codes = server.errors.map((e) => e.code).sort();
    assert.equal(codes.length, 4, JSON.stringify(server.errors.map((e) => e.message)));
    for (const code of codes) assert.ok(["PEER_MISBEHAVED", "UNEXPECTED_EOF"].includes(code), code);
    assert.ok(codes.includes("UNEXPECTED_EOF"), "the truncated hello ends in UNEXPECTED_EOF");
    // and it still serves a real client afterwards
    const conn = await connectTls({ ...client, port: server.port });
    await conn.write(text("still here"));
    assert.equal(str(await readExactly(conn, 15)), "echo:still here");
    conn.close();
  } finally {
    server.close();
  }
});

test("a reset during the handshake and during the transfer is CONNECTION_RESET", async () => {
  const early = await goServer({
    cert: p.server.certPath,
    key: p.server.keyPath,
    mode: "reset-early",
  });
  const late = await goServer({
    cert: p.server.certPath,
    key: p.server.keyPath,
    mode: "reset-late",
  });
  try {
    await rejectsWithCode(connectTls({ ...client, port: early.port }), "CONNECTION_RESET");
    const conn = await connectTls({ ...client, port: late.port });
    assert.equal(str(await readExactly(conn, 4)), "data");
    await conn.write(text("go!!"));
    await rejectsWithCode(conn.read(new Uint8Array(16)), "CONNECTION_RESET");
    conn.close();
  } finally {
    await early.stop();
    await late.stop();
  }
});

test("a slowloris client (a byte every 100 ms) blocks nobody and dies at handshakeTimeout", async () => {
  const server = await answerServer({
    cert: p.server.cert,
    key: p.server.key,
    handshakeTimeout: 400,
  });
  const slow = await rawClient(server.port, new Uint8Array(0), false);
  let sent = 0;
  const drip = setInterval(
    () => slow.write(CLIENT_HELLO_START.subarray(sent % 11, (sent++ % 11) + 1)),
    100,
  );
  try {
    const conn = await connectTls({ ...client, port: server.port });
    await conn.write(text("fast"));
    assert.equal(str(await readExactly(conn, 9)), "echo:fast");
    conn.close();
    await server.finished(2);
    assert.deepEqual(server.errors.map((e) => e.code), ["TIMED_OUT"]);
  } finally {
    clearInterval(drip);
    slow.destroy();
    server.close();
  }
});

/** An application data record no key decrypts (its tag cannot match). */
const UNDECRYPTABLE_RECORD = Uint8Array.of(0x17, 0x03, 0x03, 0x00, 0x20, ...new Uint8Array(32));

/** A client over the raw-fd transport or over a `node:net` socket (the stream transport). */
const carriers: Record<string, (port: number) => Promise<TlsConn>> = {
  "raw fd": (port) => connectTls({ ...client, port }),
  "node:net socket": async (port) => {
    const socket = netConnect({ host: "127.0.0.1", port });
    await new Promise<void>((resolve, reject) => {
      socket.once("connect", resolve);
      socket.once("error", reject);
    });
    return await startTls(socket, { serverName: "localhost", caCerts: [p.ca.cert] });
  },
};

for (const [carrier, connect] of Object.entries(carriers)) {
  test(`client over a ${carrier}: data with an undecryptable record behind it in one segment: all the data, then the error`, async () => {
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: p.server.cert,
      key: p.server.key,
    });
    // A relay that, once armed, sends the server's next chunk with the bad record appended,
    // in one write: the client reads both in one read(2).
    let armed = false;
    let appended = false;
    const sockets: Socket[] = [];
    const relay = createServer((inbound) => {
      const outbound = netConnect(listener.addr.port, "127.0.0.1");
      inbound.setNoDelay(true);
      sockets.push(inbound, outbound);
      inbound.on("error", () => {});
      outbound.on("error", () => {});
      inbound.on("data", (chunk: Uint8Array) => outbound.write(chunk));
      outbound.on("data", (chunk: Uint8Array) => {
        if (!armed) return void inbound.write(chunk);
        armed = false;
        const joined = new Uint8Array(chunk.length + UNDECRYPTABLE_RECORD.length);
        joined.set(chunk);
        joined.set(UNDECRYPTABLE_RECORD, chunk.length);
        inbound.write(joined);
        appended = true;
      });
    });
    await new Promise<void>((resolve) => relay.listen(0, "127.0.0.1", resolve));
    const served = (async () => {
      const conn = await listener.accept();
      const buf = new Uint8Array(64);
      try {
        await conn.read(buf); // "ping"
        await conn.write(text("pong"));
        await conn.read(buf); // "arm": the relay is armed
        await conn.write(text("the last reply"));
        await conn.read(buf).catch(() => null); // until the client goes
      } finally {
        conn.close();
      }
    })();
    try {
      const conn = await connect((relay.address() as { port: number }).port);
      try {
        await conn.write(text("ping"));
        assert.equal(str(await readExactly(conn, 4)), "pong"); // the handshake's records are all through
        armed = true;
        await conn.write(text("arm"));
        // Read in pieces smaller than the record: all of it comes before the failure.
        assert.equal(str(await readExactly(conn, "the last reply".length, 4)), "the last reply");
        assert.ok(appended, "the relay appended the bad record to the reply's segment");
        // A write now fails with what the bad record did, as does the next read.
        const writeError = await conn.write(text("more")).then(() => undefined, (e: unknown) => e);
        assert.ok(writeError instanceof TlsError, `a typed error for the write: ${writeError}`);
        assert.equal(writeError.code, "PEER_MISBEHAVED");
        const readError = await conn.read(new Uint8Array(64)).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(readError instanceof TlsError, `a typed error after the data: ${readError}`);
        assert.equal(readError.code, "PEER_MISBEHAVED");
      } finally {
        conn.close();
      }
      await served;
    } finally {
      listener.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    }
  });
}
