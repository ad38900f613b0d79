// Running a server: graceful shutdown, connection limits, idle timeouts, certificate reload.
import assert from "node:assert/strict";
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { connect as nodeTlsConnect, type TLSSocket } from "node:tls";
import { connectTls, listenTls, type TlsConn, type TlsError, type TlsListener } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readAll, readExactly, rejectsWithCode, str, text } from "../helpers/io.ts";
import { freePort } from "../helpers/net.ts";
import { goServer, runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";
import { until } from "../helpers/wait.ts";

const p = pki();
const identity = { cert: p.server.cert, key: p.server.key };

/** A client of the runtime's own `node:tls`, connected and verified. */
function nodeClient(port: number): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = nodeTlsConnect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ca: p.ca.cert,
    });
    socket.once("secureConnect", () => resolve(socket));
    socket.once("error", reject);
  });
}

/** Everything `socket` receives until it ends, and how it ended. */
function received(socket: TLSSocket): { data: () => string; ended: Promise<string> } {
  let data = "";
  socket.on("data", (chunk: Uint8Array) => (data += new TextDecoder().decode(chunk)));
  const ended = new Promise<string>((resolve) => {
    socket.once("end", () => resolve("end"));
    socket.once("close", () => resolve("close"));
    socket.once("error", (error: Error) => resolve(`error:${error.message}`));
  });
  return { data: () => data, ended };
}

/** Serves each connection with `handle`, counting handshakes and failures. */
function serve(listener: TlsListener, handle: (conn: TlsConn) => Promise<void>): {
  handshakes: () => number;
  failures: TlsError[];
} {
  let handshakes = 0;
  const failures: TlsError[] = [];
  (async () => {
    for await (const conn of listener) {
      (async () => {
        await conn.handshake();
        handshakes++;
        await handle(conn);
      })().catch((error: TlsError) => failures.push(error)).finally(() => conn.close());
    }
  })();
  return { handshakes: () => handshakes, failures };
}

test("shutdown: a request under way finishes, new connections are refused, then it resolves", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
  const port = listener.addr.port;
  let release!: () => void;
  const mayAnswer = new Promise<void>((resolve) => (release = resolve));
  let requests = 0;
  serve(listener, async (conn) => {
    const buf = new Uint8Array(64);
    const n = await conn.read(buf);
    requests++;
    await mayAnswer;
    await conn.write(text(`answer to ${str(buf.subarray(0, n ?? 0))}`));
    await conn.closeWrite();
  });
  const client = await nodeClient(port);
  const got = received(client);
  client.write("request");
  await until(() => requests === 1, "the server read the request");
  assert.equal(listener.activeConnections, 1);

  let shutDown = false;
  const shutdown = listener.shutdown().then(() => (shutDown = true));
  // The listener refuses new connections at once.
  await assert.rejects(nodeClient(port), /ECONNREFUSED/);
  assert.equal(shutDown, false, "shutdown waits for the open connection");
  assert.equal(listener.activeConnections, 1);

  release();
  assert.equal(await got.ended, "end");
  assert.equal(got.data(), "answer to request");
  await shutdown;
  assert.equal(listener.activeConnections, 0);
  client.destroy();
});

test("shutdown with a timeout closes what is still open at the deadline", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
  const reads: string[] = [];
  serve(listener, async (conn) => {
    try {
      await conn.read(new Uint8Array(64)); // the client never sends anything
      reads.push("data");
    } catch (error) {
      reads.push((error as TlsError).code);
      throw error;
    }
  });
  const client = await nodeClient(listener.addr.port);
  const got = received(client);
  await until(() => listener.activeConnections === 1, "the connection is accepted");
  const started = Date.now();
  await listener.shutdown({ timeout: 300 });
  const took = Date.now() - started;
  assert.ok(took >= 250 && took < 5_000, `shutdown took ${took} ms`);
  assert.equal(listener.activeConnections, 0);
  await until(() => reads.length === 1, "the pending read settled");
  assert.deepEqual(reads, ["CLOSED"]);
  assert.notEqual(await got.ended, undefined);
  client.destroy();
});

test("maxConnections: 2: a third client gets no handshake; after one closes, a new one is served", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...identity,
    maxConnections: 2,
  });
  const port = listener.addr.port;
  const server = serve(listener, async (conn) => {
    const buf = new Uint8Array(64);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      await conn.write(buf.subarray(0, n));
    }
  });
  try {
    const first = await nodeClient(port);
    const second = await nodeClient(port);
    await until(() => server.handshakes() === 2, "two handshakes");
    assert.equal(listener.activeConnections, 2);
    // The third TCP connection is accepted and closed at once: no handshake.
    await assert.rejects(nodeClient(port), /ECONNRESET|socket disconnected|EPIPE|closed/i);
    assert.equal(server.handshakes(), 2);
    assert.equal(listener.activeConnections, 2);

    first.end(); // close_notify, then the server's read ends and it closes
    await until(() => listener.activeConnections === 1, "the first connection closed");
    const fourth = await nodeClient(port);
    const echo = received(fourth);
    fourth.write("ping");
    await until(() => echo.data() === "ping", "the fourth client is echoed");
    assert.equal(server.handshakes(), 3);
    second.destroy();
    fourth.destroy();
  } finally {
    listener.close();
  }
});

test("idleTimeout on listenTls: a silent client is cut with TIMED_OUT, a talking one is not", async () => {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    ...identity,
    idleTimeout: 300,
  });
  const outcomes: { code: string; after: number }[] = [];
  serve(listener, async (conn) => {
    const started = Date.now();
    const buf = new Uint8Array(64);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        await conn.write(buf.subarray(0, n));
      }
      outcomes.push({ code: "EOF", after: Date.now() - started });
    } catch (error) {
      outcomes.push({ code: (error as TlsError).code, after: Date.now() - started });
    }
  });
  try {
    const silent = await nodeClient(listener.addr.port);
    const talking = await nodeClient(listener.addr.port);
    const echoes = received(talking);
    // The talking client sends every 100 ms for 1.2 s: four times the idle timeout.
    for (let i = 0; i < 12; i++) {
      talking.write("x");
      await until(() => echoes.data().length === i + 1, `echo ${i + 1}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal(outcomes.length, 1, JSON.stringify(outcomes));
    assert.equal(outcomes[0].code, "TIMED_OUT");
    assert.ok(
      outcomes[0].after >= 250 && outcomes[0].after < 1_200,
      `cut after ${outcomes[0].after} ms`,
    );
    assert.equal(listener.activeConnections, 1, "only the talking client is left");
    talking.end();
    await until(() => outcomes.length === 2, "the talking client's end");
    assert.equal(outcomes[1].code, "EOF");
    silent.destroy();
    talking.destroy();
  } finally {
    listener.close();
  }
});

test("idleTimeout on connectTls: a read waiting on a silent Go server rejects with TIMED_OUT", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: peer.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
      idleTimeout: 300,
    });
    // Progress resets the timer: an echo after 200 ms, then 200 ms more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    await conn.write(text("ping"));
    assert.equal(str(await readExactly(conn, 4)), "ping");
    const started = Date.now();
    await rejectsWithCode(conn.read(new Uint8Array(16)), "TIMED_OUT");
    const took = Date.now() - started;
    assert.ok(took >= 250 && took < 2_000, `cut after ${took} ms`);
    await rejectsWithCode(conn.write(text("late")), "TIMED_OUT");
  } finally {
    await peer.stop();
  }
});

test("idleTimeout and maxConnections are checked", async () => {
  await rejectsWithCode(listenTls({ port: 0, ...identity, idleTimeout: -1 }), "INVALID_CONFIG");
  await rejectsWithCode(listenTls({ port: 0, ...identity, maxConnections: 0 }), "INVALID_CONFIG");
  await rejectsWithCode(
    connectTls({ port: 1, idleTimeout: "1s" as unknown as number }),
    "INVALID_CONFIG",
  );
});

/** The DER of the certificate `openssl s_client` was shown (PEM, as it prints it). */
async function certificateSeen(port: number): Promise<string> {
  const result = await runTool("openssl", [
    "s_client",
    "-connect",
    `127.0.0.1:${port}`,
    "-servername",
    "localhost",
  ], "");
  const match = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(result.stdout);
  assert.ok(match, `s_client showed no certificate: ${result.stdout}${result.stderr}`);
  return match[0].replace(/\s+/g, "");
}

/** The first certificate of a PEM chain, as `certificateSeen` returns it. */
function leafPem(chain: string): string {
  return /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(chain)![0]
    .replace(/\s+/g, "");
}

test("setCertificates: openssl s_client sees the old certificate, then the new one; a bad pair changes nothing", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
  serve(listener, async () => {});
  try {
    const port = listener.addr.port;
    assert.equal(await certificateSeen(port), leafPem(p.server.cert));

    listener.setCertificates({ cert: p.named.cert, key: p.named.key });
    assert.equal(await certificateSeen(port), leafPem(p.named.cert));

    // A key of another certificate: refused, and the current one keeps serving.
    assert.throws(
      () => listener.setCertificates({ cert: p.server.cert, key: p.client.key }),
      (error: TlsError) => error.code === "INVALID_CONFIG",
    );
    assert.throws(
      () => listener.setCertificates({ cert: "not PEM", key: p.server.key }),
      (error: TlsError) => error.code === "INVALID_CONFIG",
    );
    assert.equal(await certificateSeen(port), leafPem(p.named.cert));

    // The SNI table is replaced as a whole.
    listener.setCertificates({ sni: { localhost: { cert: p.server.cert, key: p.server.key } } });
    assert.equal(await certificateSeen(port), leafPem(p.server.cert));
  } finally {
    listener.close();
  }
});

test("setCertificates does not disturb a connection under way", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
  serve(listener, async (conn) => {
    const buf = new Uint8Array(64);
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return;
      await conn.write(buf.subarray(0, n));
    }
  });
  try {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    listener.setCertificates({ cert: p.named.cert, key: p.named.key });
    await conn.write(text("still here"));
    assert.equal(str(await readExactly(conn, 10)), "still here");
    conn.close();
    // New handshakes get the new certificate (named for async.test, not localhost).
    await rejectsWithCode(
      connectTls({
        hostname: "127.0.0.1",
        port: listener.addr.port,
        serverName: "localhost",
        caCerts: [p.ca.cert],
      }),
      "CERT_NAME_MISMATCH",
    );
  } finally {
    listener.close();
  }
});

test("a connection dropped without close() stops counting once it is collected", async () => {
  const gc = (globalThis as { Bun?: { gc(force: boolean): void } }).Bun?.gc ??
    (globalThis as { gc?: () => void }).gc;
  assert.ok(gc, "a callable GC is needed (deno --v8-flags=--expose-gc; Bun.gc in Bun)");
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
  try {
    const client = await new Promise<TLSSocket>((resolve, reject) => {
      const socket = nodeTlsConnect({
        host: "127.0.0.1",
        port: listener.addr.port,
        servername: "localhost",
        ca: p.ca.cert,
      });
      socket.once("secureConnect", () => resolve(socket));
      socket.once("error", reject);
      // Accepted, handshaken and dropped in a scope of its own.
      (async () => {
        const conn = await listener.accept();
        await conn.handshake();
      })().catch(reject);
    });
    assert.equal(listener.activeConnections, 1);
    const deadline = Date.now() + 10_000;
    while (listener.activeConnections > 0 && Date.now() < deadline) {
      gc.call(undefined, true);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(listener.activeConnections, 0);
    client.destroy();
  } finally {
    listener.close();
  }
});

/** Starts the reuse-port fixture as a child process of this runtime; resolves once it listens. */
async function reusePortServer(name: string, port: number): Promise<ChildProcess> {
  const args = [name, String(port), p.server.certPath, p.server.keyPath];
  const child = spawn(process.execPath, scriptArgs(fixture("reuse_port_server.ts"), args), {
    stdio: ["pipe", "pipe", "pipe"],
  });
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not listen: ${output}`)), 20_000);
    const onData = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      if (output.includes("LISTENING")) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}): ${output}`));
    });
  });
  return child;
}

test("reusePort: two processes on one port each serve some of 200 connections", async () => {
  const port = await freePort();
  const first = await reusePortServer("first", port);
  const second = await reusePortServer("second", port);
  try {
    // The precondition: without reusePort the port is taken.
    await rejectsWithCode(listenTls({ hostname: "127.0.0.1", port, ...identity }), "NETWORK_ERROR");
    const served = new Map<string, number>();
    let errors = 0;
    for (let i = 0; i < 200; i++) {
      try {
        const conn = await connectTls({
          hostname: "127.0.0.1",
          port,
          serverName: "localhost",
          caCerts: [p.ca.cert],
        });
        const name = str(await readAll(conn));
        served.set(name, (served.get(name) ?? 0) + 1);
        conn.close();
      } catch {
        errors++;
      }
    }
    assert.equal(errors, 0);
    assert.deepEqual([...served.keys()].sort(), ["first", "second"], JSON.stringify([...served]));
    assert.equal(served.get("first")! + served.get("second")!, 200);
  } finally {
    for (const child of [first, second]) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.stdin!.end();
      await exited;
    }
  }
});

test("reusePort is checked: a boolean, for TCP listeners only", async () => {
  await rejectsWithCode(
    listenTls({ port: 0, ...identity, reusePort: "yes" as unknown as boolean }),
    "INVALID_CONFIG",
  );
  await rejectsWithCode(
    listenTls({ path: "/tmp/rustls-sockets-never.sock", ...identity, reusePort: true }),
    "INVALID_CONFIG",
  );
});

/** A DER OCSP response saying "good" for `leaf`, signed by the test CA (`openssl ocsp`). */
function ocspResponseFor(leaf: { certPath: string }): Uint8Array {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-ocsp-"));
  const serial = execFileSync("openssl", ["x509", "-in", leaf.certPath, "-noout", "-serial"], {
    encoding: "utf8",
  }).trim().replace(/^serial=/, "");
  writeFileSync(join(dir, "index.txt"), `V\t301231235959Z\t\t${serial}\tunknown\t/CN=localhost\n`);
  execFileSync("openssl", [
    "ocsp",
    "-issuer",
    p.ca.certPath,
    "-cert",
    leaf.certPath,
    "-reqout",
    join(dir, "request.der"),
  ], { stdio: "pipe" });
  execFileSync("openssl", [
    "ocsp",
    "-index",
    join(dir, "index.txt"),
    "-rsigner",
    p.ca.certPath,
    "-rkey",
    p.ca.keyPath,
    "-CA",
    p.ca.certPath,
    "-reqin",
    join(dir, "request.der"),
    "-respout",
    join(dir, "response.der"),
    "-ndays",
    "1",
  ], { stdio: "pipe" });
  const der = new Uint8Array(readFileSync(join(dir, "response.der")));
  rmSync(dir, { recursive: true, force: true });
  return der;
}

for (const version of ["-tls1_3", "-tls1_2"]) {
  test(`OCSP stapling (${version}): openssl s_client -status sees the response; connectTls reports its bytes`, async () => {
    const response = ocspResponseFor(p.server);
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      ...identity,
      ocspResponse: response,
    });
    serve(listener, async () => {});
    try {
      const result = await runTool("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${listener.addr.port}`,
        "-servername",
        "localhost",
        "-status",
        version,
      ], "");
      assert.match(result.stdout, /OCSP Response Status: successful/, result.stdout);
      assert.match(result.stdout, /Cert Status: good/);

      const conn = await connectTls({
        hostname: "127.0.0.1",
        port: listener.addr.port,
        serverName: "localhost",
        caCerts: [p.ca.cert],
        maxVersion: version === "-tls1_2" ? "TLSv1.2" : "TLSv1.3",
      });
      const info = await conn.handshake();
      assert.deepEqual(info.ocspResponse, response);
      conn.close();
    } finally {
      listener.close();
    }
  });
}

test("OCSP: no response stapled is null; setCertificates and sni entries staple theirs", async () => {
  const listener = await listenTls({ hostname: "127.0.0.1", port: 0, ...identity });
  serve(listener, async () => {});
  const ask = async (serverName: string, caCerts = [p.ca.cert]) => {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: listener.addr.port,
      serverName,
      caCerts,
    });
    const info = await conn.handshake();
    conn.close();
    return info.ocspResponse;
  };
  try {
    assert.equal(await ask("localhost"), null);
    const forServer = ocspResponseFor(p.server);
    const forNamed = ocspResponseFor(p.named);
    listener.setCertificates({
      ...identity,
      ocspResponse: forServer,
      sni: { "async.test": { cert: p.named.cert, key: p.named.key, ocspResponse: forNamed } },
    });
    assert.deepEqual(await ask("localhost"), forServer);
    assert.deepEqual(await ask("async.test"), forNamed);
    assert.throws(
      () => listener.setCertificates({ ...identity, ocspResponse: new Uint8Array(0) }),
      (error: TlsError) => error.code === "INVALID_CONFIG",
    );
    assert.deepEqual(await ask("localhost"), forServer, "a refused update changed nothing");
  } finally {
    listener.close();
  }
});
