// exportKeyingMaterial: equal to Node's on either side and on both ends of the module.
// TLS 1.2 and 1.3; which secrets stay held natively; TLS 1.2's reserved labels.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  acceptTls,
  connectTls,
  listenTls,
  startTls,
  type StreamPair,
  type TlsClientOptions,
  type TlsConn,
  TlsError,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readAll, rejectsWithCode, text } from "../helpers/io.ts";
import { liveObjectsWhen, steadyLiveObjects } from "../helpers/live.ts";
import { runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };
const client = { serverName: "localhost", caCerts: [p.ca.cert] } satisfies TlsClientOptions;

const nodeServer = `
const tls = require("node:tls");
const fs = require("node:fs");
const [cert, key, max] = process.argv.slice(1);
const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), maxVersion: max }, (socket) => {
  const out = {
    protocol: socket.getProtocol(),
    binding: socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding").toString("hex"),
    withContext: socket.exportKeyingMaterial(48, "EXPERIMENTAL rustls-sockets", Buffer.from("ctx")).toString("hex"),
  };
  socket.end(JSON.stringify(out));
  server.close();
});
server.listen(0, "127.0.0.1", () => console.log("PORT " + server.address().port));
`;

/** Node's TLS server that reports its exporter values to the client, then exits. */
function startNodeServer(max: string): Promise<{ port: number; done: Promise<number | null> }> {
  const child = spawn("node", ["-e", nodeServer, p.server.certPath, p.server.keyPath, max], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const done = new Promise<number | null>((resolve) => child.on("close", resolve));
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`node did not start: ${output}`)), 20_000);
    const onData = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      const match = /PORT (\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ port: Number(match[1]), done });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) => reject(new Error(`cannot run node: ${error.message}`)));
  });
}

/** Reads until the JSON report is complete (Node may end without close_notify). */
async function readReport(
  conn: { read(buf: Uint8Array): Promise<number | null> },
): Promise<Record<string, string>> {
  let got = "";
  const buf = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(buf);
    if (n === null) throw new Error(`report incomplete: ${got}`);
    got += new TextDecoder().decode(buf.subarray(0, n));
    try {
      return JSON.parse(got);
    } catch {
      // more to come
    }
  }
}

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

const nodeClient = `
const tls = require("node:tls");
const fs = require("node:fs");
const [port, ca, max] = process.argv.slice(1);
const socket = tls.connect({ host: "127.0.0.1", port: Number(port), ca: fs.readFileSync(ca), servername: "localhost", maxVersion: max }, () => {
  console.log(JSON.stringify({
    protocol: socket.getProtocol(),
    binding: socket.exportKeyingMaterial(32, "EXPORTER-Channel-Binding").toString("hex"),
    withContext: socket.exportKeyingMaterial(48, "EXPERIMENTAL rustls-sockets", Buffer.from("ctx")).toString("hex"),
  }));
  socket.on("data", () => {});
  socket.on("end", () => socket.end());
});
socket.on("error", (e) => { console.error(String(e)); process.exit(1); });
`;

/** A connected pair of the module's own client and server over in-memory streams. */
async function pair(
  clientExtra: Partial<TlsClientOptions>,
  serverExtra: Record<string, unknown> = {},
): Promise<[TlsConn, TlsConn]> {
  const aToB = new TransformStream<Uint8Array, Uint8Array>();
  const bToA = new TransformStream<Uint8Array, Uint8Array>();
  const [a, b] = await Promise.all([
    startTls({ readable: bToA.readable, writable: aToB.writable } as StreamPair, {
      ...client,
      ...clientExtra,
    }),
    acceptTls({ readable: aToB.readable, writable: bToA.writable } as StreamPair, {
      ...serverIdentity,
      ...serverExtra,
    }),
  ]);
  await Promise.all([a.handshake(), b.handshake()]);
  return [a, b];
}

/** The natively held secrets once they reach `expected` (or after 5 s). */
async function secretsHeld(expected: number): Promise<number> {
  return (await liveObjectsWhen((now) => now.secrets === expected, 5_000)).secrets;
}

for (const version of ["TLSv1.3", "TLSv1.2"] as const) {
  test(`exportKeyingMaterial equals Node's exportKeyingMaterial (${version}, our client)`, async () => {
    const node = await startNodeServer(version);
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: node.port,
      ...client,
      exportKeyingMaterial: true,
    });
    assert.equal((await conn.handshake()).protocol, version);
    const theirs = await readReport(conn);
    assert.equal(theirs.protocol, version);
    assert.equal(hex(conn.exportKeyingMaterial(32, "EXPORTER-Channel-Binding")), theirs.binding);
    assert.equal(
      hex(conn.exportKeyingMaterial(48, "EXPERIMENTAL rustls-sockets", text("ctx"))),
      theirs.withContext,
    );
    assert.notEqual(
      hex(conn.exportKeyingMaterial(32, "EXPORTER-Channel-Binding", text("other"))),
      theirs.binding,
      "the context changes the output",
    );
    conn.close();
    assert.equal(await node.done, 0);
  });

  test(`exportKeyingMaterial equals Node's (${version}, our server, Node's client)`, async () => {
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      ...serverIdentity,
      maxVersion: version,
      exportKeyingMaterial: true,
    });
    try {
      const served = listener.accept().then(async (conn) => {
        await conn.handshake();
        const ours = {
          binding: hex(conn.exportKeyingMaterial(32, "EXPORTER-Channel-Binding")),
          withContext: hex(
            conn.exportKeyingMaterial(48, "EXPERIMENTAL rustls-sockets", text("ctx")),
          ),
        };
        await conn.write(text("go"));
        await conn.closeWrite();
        await readAll(conn).catch(() => {});
        conn.close();
        return ours;
      });
      const result = await runTool("node", [
        "-e",
        nodeClient,
        String(listener.addr.port),
        p.ca.certPath,
        version,
      ], "");
      const theirs = JSON.parse(result.stdout.trim() || "{}");
      assert.equal(theirs.protocol, version, result.stderr);
      assert.deepEqual(await served, { binding: theirs.binding, withContext: theirs.withContext });
    } finally {
      listener.close();
    }
  });
}

test("exportKeyingMaterial: equal on both ends of the module, any transport, TLS 1.2 and 1.3", async () => {
  for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
    const aToB = new TransformStream<Uint8Array, Uint8Array>();
    const bToA = new TransformStream<Uint8Array, Uint8Array>();
    const [a, b] = await Promise.all([
      startTls({ readable: bToA.readable, writable: aToB.writable } as StreamPair, {
        ...client,
        maxVersion,
        exportKeyingMaterial: true,
      }),
      acceptTls({ readable: aToB.readable, writable: bToA.writable } as StreamPair, {
        ...serverIdentity,
        exportKeyingMaterial: true,
      }),
    ]);
    assert.equal((await b.handshake()).protocol, maxVersion);
    assert.deepEqual(a.exportKeyingMaterial(64, "label"), b.exportKeyingMaterial(64, "label"));
    assert.throws(() => a.exportKeyingMaterial(0, "label"), /length/);
    a.close();
    b.close();
  }
  await rejectsWithCode(
    connectTls({ port: 1, ...client, keyLog: "file" as never }),
    "INVALID_CONFIG",
  );
});

test("secrets: none is kept after the handshake unless exportKeyingMaterial asks (then only the exporter's)", async () => {
  // Earlier tests' connections are freed on a worker after their close: wait for a steady count.
  const base = (await steadyLiveObjects()).secrets;
  for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
    // verifyPeer and a key log both make the handshake capture secrets: neither keeps them.
    const lines: string[] = [];
    const [a, b] = await pair(
      { maxVersion, verifyPeer: () => {}, keyLog: (line) => lines.push(line) },
      { verifyPeer: () => {}, keyLog: () => {} },
    );
    assert.ok(lines.length > 0, "the key log saw the handshake");
    assert.equal(await secretsHeld(base), base, `${maxVersion}: no secret outlives the handshake`);
    assert.throws(() => a.exportKeyingMaterial(32, "label"), (error: unknown) => {
      assert.ok(error instanceof TlsError);
      assert.equal(error.code, "NOT_SUPPORTED");
      assert.match(error.message, /exportKeyingMaterial: true/);
      return true;
    });
    a.close();
    b.close();

    const [c, d] = await pair(
      { maxVersion, exportKeyingMaterial: true, verifyPeer: () => {}, keyLog: () => {} },
      { exportKeyingMaterial: true, verifyPeer: () => {} },
    );
    // One secret per side: TLS 1.3's exporter secret, or TLS 1.2's master secret.
    assert.equal(await secretsHeld(base + 2), base + 2, `${maxVersion}: only the exporter's`);
    assert.deepEqual(c.exportKeyingMaterial(32, "label"), d.exportKeyingMaterial(32, "label"));
    c.close();
    d.close();
    assert.equal(await secretsHeld(base), base, `${maxVersion}: freed with the connections`);
  }
  await rejectsWithCode(
    connectTls({ port: 1, ...client, exportKeyingMaterial: "yes" as never }),
    "INVALID_CONFIG",
  );
});

test("exportKeyingMaterial: TLS 1.2 refuses the labels TLS derives its own keys with (RFC 5705 §4)", async () => {
  const [a, b] = await pair({ maxVersion: "TLSv1.2", exportKeyingMaterial: true }, {
    exportKeyingMaterial: true,
  });
  for (
    const label of [
      "client finished",
      "server finished",
      "master secret",
      "extended master secret",
      "key expansion",
    ]
  ) {
    assert.throws(() => a.exportKeyingMaterial(32, label), (error: unknown) => {
      assert.ok(error instanceof TlsError);
      assert.equal(error.code, "INVALID_CONFIG");
      assert.match(error.message, /reserved/);
      return true;
    }, label);
  }
  assert.equal(a.exportKeyingMaterial(32, "EXPORTER-Channel-Binding").length, 32);
  a.close();
  b.close();
});
