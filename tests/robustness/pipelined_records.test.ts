// Handshake records that do not arrive one per read, in both directions.
// A ClientHello with another record behind it in one TCP segment, and every
// record of a handshake cut into pieces of a few bytes. Raw sockets
// (node:net) and a re-chunking TCP proxy between the module's client and
// server; the ClientHellos come from node:tls, an independent TLS stack.
import assert from "node:assert/strict";
import { connect as netConnect, createServer, type Server, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { setImmediate } from "node:timers";
import {
  acceptTls,
  connectTls,
  listenTls,
  type StreamPair,
  type TlsConn,
  TlsError,
  type TlsListener,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { equalBytes, readExactly, rejectsWithCode } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const VERSIONS = ["TLSv1.3", "TLSv1.2"] as const;
/** Long enough that an answer before it cannot be the handshake timeout's doing. */
const HANDSHAKE_TIMEOUT_MS = 20_000;
/** `14 03 03 00 03 01 01 01`: a ChangeCipherSpec record whose payload is 3 bytes, not 1. */
const BAD_CHANGE_CIPHER_SPEC = Uint8Array.of(0x14, 0x03, 0x03, 0x00, 0x03, 0x01, 0x01, 0x01);
/** A plaintext warning-level close_notify alert record. */
const CLOSE_NOTIFY = Uint8Array.of(0x15, 0x03, 0x03, 0x00, 0x02, 0x01, 0x00);

function listening(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port))
  );
}

/** The first record node:tls sends (its ClientHello) for `version`, as one byte string. */
async function clientHelloFrom(version: "TLSv1.2" | "TLSv1.3"): Promise<Uint8Array> {
  let resolveHello: (hello: Uint8Array) => void = () => {};
  const hello = new Promise<Uint8Array>((resolve) => (resolveHello = resolve));
  const sockets: Socket[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    let got = new Uint8Array(0);
    socket.on("data", (chunk: Uint8Array) => {
      const next = new Uint8Array(got.length + chunk.length);
      next.set(got);
      next.set(chunk, got.length);
      got = next;
      if (got.length >= 5 && got.length >= 5 + ((got[3] << 8) | got[4])) {
        resolveHello(got.slice(0, 5 + ((got[3] << 8) | got[4])));
        socket.destroy();
      }
    });
    socket.on("error", () => {});
  });
  const port = await listening(server);
  const client = tlsConnect({
    host: "127.0.0.1",
    port,
    servername: "localhost",
    minVersion: version,
    maxVersion: version,
    rejectUnauthorized: false,
  });
  client.on("error", () => {});
  try {
    const bytes = await hello;
    assert.equal(bytes[0], 0x16, "a handshake record");
    assert.equal(bytes[5], 0x01, "holding a ClientHello");
    return bytes;
  } finally {
    client.destroy();
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** Serves `listener`: each connection's handshake outcome, then an echo until EOF. */
function serve(listener: TlsListener): { outcomes: Promise<unknown>[]; done: Promise<void> } {
  const outcomes: Promise<unknown>[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const outcome = conn.handshake().then(async (info) => {
        const buf = new Uint8Array(64 * 1024);
        for (;;) {
          const n = await conn.read(buf).catch(() => null);
          if (n === null) break;
          await conn.write(buf.subarray(0, n));
        }
        conn.close();
        return info;
      }, (error) => {
        conn.close();
        return error;
      });
      outcomes.push(outcome);
    }
  })();
  return { outcomes, done };
}

/** Connects a raw socket, sends `bytes` in one write, and collects all it receives until EOF. */
function rawExchange(port: number, bytes: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(port, "127.0.0.1");
    socket.setNoDelay(true);
    const chunks: Uint8Array[] = [];
    socket.on("connect", () => socket.write(bytes));
    socket.on("data", (chunk: Uint8Array) => chunks.push(chunk));
    socket.on("error", reject);
    socket.on("close", () => resolve(joined(chunks)));
  });
}

/** The content type and length of each TLS record in `stream`. */
function records(stream: Uint8Array): { type: number; length: number }[] {
  const found: { type: number; length: number }[] = [];
  for (let at = 0; at + 5 <= stream.length; at += 5 + ((stream[at + 3] << 8) | stream[at + 4])) {
    found.push({ type: stream[at], length: (stream[at + 3] << 8) | stream[at + 4] });
  }
  return found;
}

/**
 * Whether the last record of `stream` is an alert: in the clear in TLS 1.2
 * (type 21, 2 bytes), under the handshake keys in TLS 1.3 (type 23 with room
 * for exactly 2 bytes, the inner type and a 16-byte tag: shorter than any
 * handshake message of the flight).
 */
function endsWithAlert(stream: Uint8Array, version: "TLSv1.2" | "TLSv1.3"): boolean {
  const last = records(stream).at(-1);
  if (version === "TLSv1.2") return last?.type === 0x15 && last.length === 2;
  return last?.type === 0x17 && last.length === 2 + 1 + 16;
}

/** The bytes written to a carrier, as one stream. */
function joined(chunks: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/**
 * Sends node:tls's ClientHello for `version` with `record` behind it in one
 * segment to a listener with a long handshake deadline; returns what the
 * server sent until it closed, how long that took, and its handshake's outcome.
 */
async function coalescedHello(
  version: "TLSv1.2" | "TLSv1.3",
  record: Uint8Array,
): Promise<{ received: Uint8Array; elapsed: number; outcome: unknown }> {
  const hello = await clientHelloFrom(version);
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
    handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
  });
  const served = serve(listener);
  try {
    const started = Date.now();
    const received = await rawExchange(listener.addr.port, joined([hello, record]));
    const elapsed = Date.now() - started;
    return { received, elapsed, outcome: await served.outcomes[0] };
  } finally {
    listener.close();
    await served.done;
  }
}

for (const version of VERSIONS) {
  test(`server, ${version}: a ClientHello and a bad record in one segment get a fatal answer at once`, async () => {
    const { received, elapsed, outcome } = await coalescedHello(version, BAD_CHANGE_CIPHER_SPEC);
    assert.ok(
      elapsed < HANDSHAKE_TIMEOUT_MS / 2,
      `the server ended the connection after ${elapsed} ms: the handshake timeout did it`,
    );
    const seen = records(received);
    assert.equal(seen[0]?.type, 0x16, "the server's first flight came first");
    assert.ok(endsWithAlert(received, version), `an alert follows: ${JSON.stringify(seen)}`);
    assert.ok(outcome instanceof TlsError, `the handshake failed: ${outcome}`);
    assert.equal(outcome.code, "PEER_MISBEHAVED");
  });
}

// TLS 1.3 only: a TLS 1.2 handshake ignores a close_notify that no key
// authenticates yet (rustls' rule), so it runs into its deadline, as rustls'
// own server does.
test("server, TLSv1.3: a ClientHello and a close_notify in one segment end the handshake at once", async () => {
  const { elapsed, outcome } = await coalescedHello("TLSv1.3", CLOSE_NOTIFY);
  assert.ok(elapsed < HANDSHAKE_TIMEOUT_MS / 2, `ended after ${elapsed} ms: by the timeout`);
  assert.ok(outcome instanceof TlsError, `the handshake failed: ${outcome}`);
  assert.notEqual(outcome.code, "TIMED_OUT");
});

for (const version of VERSIONS) {
  test(`acceptTls over streams, ${version}: a ClientHello and a bad record in one chunk fail at once`, async () => {
    const hello = await clientHelloFrom(version);
    const chunk = joined([hello, BAD_CHANGE_CIPHER_SPEC]);
    const written: Uint8Array[] = [];
    const carrier: StreamPair = {
      // One chunk, then the stream stays open: only the held records can end the handshake.
      readable: new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(chunk) }),
      writable: new WritableStream<Uint8Array>({ write: (c) => void written.push(c.slice()) }),
    };
    const started = Date.now();
    const error = await rejectsWithCode(
      acceptTls(carrier, {
        cert: p.server.cert,
        key: p.server.key,
        handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      }),
      "PEER_MISBEHAVED",
    );
    assert.ok(Date.now() - started < HANDSHAKE_TIMEOUT_MS / 2, `${error.message}`);
    assert.ok(endsWithAlert(joined(written), version), "the server's flight, then its alert");
  });
}

/**
 * A TCP proxy to `target` that re-chunks both directions: it writes
 * every chunk on in pieces of 1-7 bytes, one event-loop turn apart.
 */
async function splittingProxy(target: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const pump = (from: Socket, to: Socket): void => {
    let queue = Promise.resolve();
    from.on("data", (chunk: Uint8Array) => {
      const bytes = chunk.slice();
      queue = queue.then(async () => {
        for (let at = 0; at < bytes.length;) {
          const size = 1 + (at % 7);
          if (to.destroyed) return;
          to.write(bytes.subarray(at, at + size));
          at += size;
          await new Promise((resolve) => setImmediate(resolve));
        }
      });
    });
    from.on("end", () => queue.then(() => to.end()));
    from.on("error", () => to.destroy());
  };
  const server = createServer((inbound) => {
    const outbound = netConnect(target, "127.0.0.1");
    inbound.setNoDelay(true);
    outbound.setNoDelay(true);
    sockets.push(inbound, outbound);
    pump(inbound, outbound);
    pump(outbound, inbound);
  });
  const port = await listening(server);
  return {
    port,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

for (const version of VERSIONS) {
  test(
    `client and server, ${version}: every record cut into 1-7 byte segments both ways`,
    async () => {
      const listener = await listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: p.server.cert,
        key: p.server.key,
        maxVersion: version,
      });
      const served = serve(listener);
      const proxy = await splittingProxy(listener.addr.port);
      let conn: TlsConn | undefined;
      try {
        conn = await connectTls({
          hostname: "127.0.0.1",
          port: proxy.port,
          serverName: "localhost",
          caCerts: [p.ca.cert],
          handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
        });
        assert.equal((await conn.handshake()).protocol, version);
        const data = crypto.getRandomValues(new Uint8Array(4 * 1024));
        await conn.write(data);
        assert.ok(equalBytes(await readExactly(conn, data.length), data), "echoed byte-exact");
        await conn.closeWrite();
        const outcome = await served.outcomes[0];
        assert.ok(!(outcome instanceof Error), `the server's handshake: ${outcome}`);
      } finally {
        conn?.close();
        listener.close();
        await served.done;
        await proxy.close();
      }
    },
    60_000,
  );
}
