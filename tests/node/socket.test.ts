// The node:tls-shaped socket and server of node.ts over real sockets: what
// TlsNodeSocket reports (certificates, cipher, addresses, exporter), its
// end/half-close, a TCP close without close_notify as a plain end, Node's
// error codes with the TlsError as cause, setTimeout, rejectUnauthorized,
// STARTTLS over a node:net socket, and createServer's events, mTLS and close.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";
import type { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { connect as netConnect, createServer as netServer, type Socket } from "node:net";
import { acceptTls, connectTls, listen, listenTls, type TlsConn, TlsError } from "../../mod.ts";
import {
  connect,
  createServer,
  type NodeTlsError,
  type TlsNodeSocket,
  toNodeSocket,
} from "../../node.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, readAll, str, text } from "../helpers/io.ts";
import { silentServer } from "../helpers/peers.ts";
import { freePort } from "../helpers/net.ts";
import { openssl, pki } from "../helpers/pki.ts";

const p = pki();
const TIMEOUT = 10_000;

/** Resolves with `event`'s arguments, rejects on `error` (unless that is the event) or after `ms`. */
function once<T extends unknown[] = unknown[]>(
  emitter: EventEmitter,
  event: string,
  ms = TIMEOUT,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    const done = (...args: unknown[]): void => {
      clearTimeout(timer);
      emitter.off("error", failed);
      resolve(args as T);
    };
    const failed = (error: Error): void => {
      clearTimeout(timer);
      emitter.off(event, done);
      reject(error);
    };
    emitter.once(event, done);
    if (event !== "error") emitter.once("error", failed);
  });
}

/** The socket's error event. */
async function socketError(socket: TlsNodeSocket): Promise<NodeTlsError> {
  const [error] = await once<[NodeTlsError]>(socket, "error");
  return error;
}

/** Everything `socket` delivers until `end`. */
function collect(socket: TlsNodeSocket): Promise<Buffer> {
  const chunks: Buffer[] = [];
  socket.on("data", (chunk: Buffer) => chunks.push(chunk));
  return once(socket, "end").then(() => Buffer.concat(chunks));
}

/** A listenTls server that hands each accepted, handshaken connection to `serve`. */
async function tlsServer(
  serve: (conn: TlsConn) => Promise<void>,
  options: Record<string, unknown> = {},
): Promise<{ port: number; close(): void; served: Promise<void>[] }> {
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
    ...options,
  });
  const served: Promise<void>[] = [];
  (async () => {
    for await (const conn of listener) {
      // The client may leave first (destroy()): the server's failure is not the test's.
      served.push(
        conn.handshake().then(() => serve(conn)).catch(() => {}).finally(() => conn.close()),
      );
    }
  })();
  return { port: listener.addr.port, close: () => listener.close(), served };
}

test("connect: secureConnect, then what a TLSSocket reports", async () => {
  const server = await tlsServer(async (conn) => {
    await conn.write(text("hello"));
    await conn.closeWrite();
  }, { alpnProtocols: ["x-test", "http/1.1"], exportKeyingMaterial: true });
  try {
    const socket = connect({
      host: "localhost",
      port: server.port,
      ca: Buffer.from(p.ca.cert),
      ALPNProtocols: ["x-test"],
      exportKeyingMaterial: true,
    });
    assert.equal(socket.connecting, true);
    assert.equal(socket.getPeerCertificate(), null);
    const received = collect(socket);
    await once(socket, "secureConnect");
    assert.equal(socket.connecting, false);
    assert.equal(socket.encrypted, true);
    assert.equal(socket.authorized, true);
    assert.equal(socket.authorizationError, null);
    assert.equal(socket.alpnProtocol, "x-test");
    assert.equal(socket.servername, "localhost");
    assert.match(socket.getProtocol()!, /^TLSv1\.[23]$/);
    const cipher = socket.getCipher()!;
    assert.equal(cipher.version, socket.getProtocol());
    assert.match(cipher.standardName, /^TLS_/);
    assert.equal(socket.remoteAddress, "127.0.0.1");
    assert.equal(socket.remotePort, server.port);
    assert.equal(socket.remoteFamily, "IPv4");
    assert.equal(socket.localAddress, "127.0.0.1");
    assert.deepEqual(socket.address(), {
      address: "127.0.0.1",
      family: "IPv4",
      port: socket.localPort,
    });
    const cert = socket.getPeerCertificate();
    assert.ok(cert && "raw" in cert);
    assert.equal(cert.subject.CN, "localhost");
    assert.equal(cert.issuer.CN, "rustls-sockets test ca");
    assert.ok(Buffer.isBuffer(cert.raw));
    assert.deepEqual(new Uint8Array(cert.raw), pemToDer(p.server.cert));
    assert.match(cert.subjectaltname ?? "", /DNS:localhost/);
    assert.match(cert.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const x509 = socket.getPeerX509Certificate();
    assert.ok(x509 instanceof X509Certificate);
    assert.equal(x509.fingerprint256, cert.fingerprint256);
    const keying = socket.exportKeyingMaterial(32, "EXPORTER-test");
    assert.equal(keying.length, 32);
    assert.ok(Buffer.isBuffer(keying));
    assert.equal(str(await received), "hello");
    socket.destroy();
  } finally {
    server.close();
  }
});

test("getPeerCertificate(true) links the chain the peer sent", async () => {
  const server = await tlsServer(async (conn) => {
    await conn.closeWrite();
  }, { cert: p.server.cert + p.ca.cert });
  try {
    const socket = connect({ host: "127.0.0.1", port: server.port, ca: p.ca.cert });
    await once(socket, "secureConnect");
    const leaf = socket.getPeerCertificate(true);
    assert.ok(leaf && "issuerCertificate" in leaf);
    const root = leaf.issuerCertificate!;
    assert.equal(root.subject.CN, "rustls-sockets test ca");
    assert.equal(root.issuerCertificate, root, "a self-signed root is its own issuer");
    assert.equal(socket.servername, false, "an IP address sends no SNI");
    socket.destroy();
  } finally {
    server.close();
  }
});

test("end() sends close_notify and half-closes; the peer still answers", async () => {
  let sawCloseNotify = false;
  const server = await tlsServer(async (conn) => {
    const request = await readAll(conn); // null = close_notify
    sawCloseNotify = true;
    await conn.write(text(`got ${str(request)}`));
    await conn.closeWrite();
  });
  try {
    const socket = connect({ port: server.port, ca: [p.ca.cert], allowHalfOpen: true });
    const closed = once(socket, "close");
    const received = collect(socket);
    socket.end("question");
    assert.equal(str(await received), "got question");
    assert.equal(sawCloseNotify, true);
    await closed;
  } finally {
    server.close();
  }
});

test("a TCP close without close_notify ends the stream; writing after it is EPIPE", async () => {
  const server = await tlsServer(async (conn) => {
    await conn.write(text("partial"));
    conn.close(); // no close_notify
  });
  try {
    const socket = connect({ port: server.port, ca: [p.ca.cert], allowHalfOpen: true });
    const errors: Error[] = [];
    socket.on("error", (error) => errors.push(error));
    assert.equal(str(await collect(socket)), "partial");
    assert.deepEqual(errors, [], "no error for the missing close_notify");
    const writeError = await new Promise<NodeTlsError>((resolve) => {
      socket.write("late", (error) => resolve(error as NodeTlsError));
    });
    assert.equal(writeError.code, "EPIPE");
    assert.ok(writeError.cause instanceof TlsError);
    assert.equal(writeError.tlsCode, "UNEXPECTED_EOF");
  } finally {
    server.close();
  }
});

/** A self-signed leaf for localhost (DEPTH_ZERO_SELF_SIGNED_CERT). */
function selfSigned(): { cert: string; key: string } {
  openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    "self.key",
    "-out",
    "self.crt",
    "-days",
    "5",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost",
    "-addext",
    "basicConstraints=critical,CA:FALSE",
    "-addext",
    "extendedKeyUsage=serverAuth",
  ], p.dir);
  return {
    cert: readFileSync(`${p.dir}/self.crt`, "utf8"),
    key: readFileSync(`${p.dir}/self.key`, "utf8"),
  };
}

test("certificate failures carry Node's codes, the TlsError as cause", async () => {
  const cases: [string, { cert: string; key: string }, string, string][] = [
    ["expired", p.expired, "CERT_HAS_EXPIRED", "CERT_EXPIRED"],
    ["wrong name", p.wrongName, "ERR_TLS_CERT_ALTNAME_INVALID", "CERT_NAME_MISMATCH"],
    ["other CA", p.untrusted, "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNKNOWN_ISSUER"],
    ["self-signed", selfSigned(), "DEPTH_ZERO_SELF_SIGNED_CERT", "UNKNOWN_ISSUER"],
  ];
  for (const [what, identity, nodeCode, tlsCode] of cases) {
    const server = await tlsServer(async () => {}, { cert: identity.cert, key: identity.key });
    try {
      const socket = connect({ host: "localhost", port: server.port, ca: [p.ca.cert] });
      const closed = new Promise((resolve) => socket.once("close", resolve));
      const error = await socketError(socket);
      assert.equal(error.code, nodeCode, `${what}: ${error.message}`);
      assert.equal(error.tlsCode, tlsCode, what);
      assert.ok(error.cause instanceof TlsError, what);
      assert.equal(error.cause.code, tlsCode, what);
      await closed;
      assert.equal(socket.destroyed, true);
    } finally {
      server.close();
    }
  }
});

test("transport failures: ECONNREFUSED, ETIMEDOUT, ECONNRESET", async () => {
  const refused = connect({ port: await freePort(), host: "127.0.0.1", ca: [p.ca.cert] });
  const refusal = await socketError(refused);
  assert.equal(refusal.code, "ECONNREFUSED");
  assert.equal(refusal.tlsCode, "CONNECTION_REFUSED");

  const silent = await silentServer();
  try {
    const timedOut = connect({
      port: silent.port,
      host: "127.0.0.1",
      ca: [p.ca.cert],
      handshakeTimeout: 200,
    });
    const timeout = await socketError(timedOut);
    assert.equal(timeout.code, "ETIMEDOUT");
  } finally {
    await silent.stop();
  }

  // The peer hangs up in the middle of the handshake.
  const hangUp = netServer((socket: Socket) => {
    socket.once("data", () => socket.destroy());
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => hangUp.listen(0, "127.0.0.1", resolve));
  try {
    const port = (hangUp.address() as { port: number }).port;
    const reset = await socketError(connect({ port, host: "127.0.0.1", ca: [p.ca.cert] }));
    assert.equal(reset.code, "ECONNRESET", reset.message);
  } finally {
    await new Promise<void>((resolve) => hangUp.close(() => resolve()));
  }
});

test("option names: Node's are translated, unknown ones throw, rejectUnauthorized: false", async () => {
  assert.throws(
    () => connect({ port: 443, ciphers: "HIGH" } as never),
    (error: NodeTlsError) =>
      error.code === "ERR_INVALID_ARG_VALUE" && /cipherSuites/.test(error.message),
  );
  assert.throws(
    () => connect({ port: 443, minVersion: "TLSv1.1" } as never),
    (error: NodeTlsError) => error.code === "ERR_INVALID_ARG_VALUE",
  );
  const server = await tlsServer(async (conn) => await conn.closeWrite(), {
    cert: p.untrusted.cert,
    key: p.untrusted.key,
  });
  try {
    const socket = connect({
      port: server.port,
      host: "127.0.0.1",
      servername: "localhost",
      rejectUnauthorized: false,
      keepAlive: true,
      noDelay: true,
    });
    await once(socket, "secureConnect");
    assert.equal(socket.authorized, false);
    assert.match(socket.authorizationError ?? "", /rejectUnauthorized: false/);
    socket.destroy();
  } finally {
    server.close();
  }
});

test("checkServerIdentity refuses after the module's own checks", async () => {
  const server = await tlsServer(async (conn) => await conn.closeWrite());
  try {
    let seen = "";
    const socket = connect({
      port: server.port,
      ca: [p.ca.cert],
      checkServerIdentity: (host, cert) => {
        seen = `${host} ${cert.subject.CN}`;
        return new Error("not this one");
      },
    });
    const error = await socketError(socket);
    assert.equal(seen, "localhost localhost");
    assert.equal(error.tlsCode, "VERIFY_REJECTED");
    assert.match(error.message, /not this one/);
  } finally {
    server.close();
  }
});

test("setTimeout emits timeout after the idle period, restarted by activity", async () => {
  const server = await tlsServer(async (conn) => {
    const buf = new Uint8Array(64);
    while ((await conn.read(buf)) !== null) await conn.write(text("pong"));
  });
  try {
    const socket = connect({ port: server.port, ca: [p.ca.cert] });
    socket.on("data", () => {});
    await once(socket, "secureConnect");
    const ms = 300;
    let last = performance.now();
    const fired = once(socket, "timeout", 5_000).then(() => performance.now());
    socket.setTimeout(ms);
    assert.equal(socket.timeout, ms);
    for (let i = 0; i < 3; i++) {
      // Activity before the period ends keeps the timer from firing.
      await new Promise((resolve) => setTimeout(resolve, ms / 2));
      socket.write("ping");
      await once(socket, "data");
      last = performance.now();
    }
    const at = await fired;
    assert.ok(at - last >= ms - 5, `timeout came ${at - last} ms after the last activity`);
    assert.equal(socket.destroyed, false, "timeout does not close the socket");
    socket.setTimeout(0);
    assert.equal(socket.timeout, undefined);
    socket.destroy();
  } finally {
    server.close();
  }
});

test("STARTTLS over a node:net socket (the socket option)", async () => {
  const plainListener = await listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    const plain = await plainListener.accept();
    const hello = new Uint8Array(9);
    let got = 0;
    while (got < 9) got += (await plain.read(hello.subarray(got))) ?? 9;
    assert.equal(str(hello), "STARTTLS\n");
    await plain.write(text("GO\n"));
    const conn = await acceptTls(plain, { cert: p.server.cert, key: p.server.key });
    await conn.write(text("secret"));
    await conn.closeWrite();
    conn.close();
  })();
  try {
    const net = netConnect({ host: "127.0.0.1", port: plainListener.addr.port });
    await once(net, "connect");
    net.write("STARTTLS\n");
    const [go] = await once<[Buffer]>(net, "data");
    assert.equal(String(go), "GO\n");
    const socket = connect({ socket: net, servername: "localhost", ca: [p.ca.cert] });
    assert.equal(str(await collect(socket)), "secret");
    assert.equal(socket.authorized, true);
    await served;
  } finally {
    plainListener.close();
  }
});

test("toNodeSocket wraps a TlsConn made elsewhere", async () => {
  const server = await tlsServer(async (conn) => {
    await conn.write(text("from the server"));
    await conn.closeWrite();
  });
  try {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: server.port,
      serverName: "localhost",
      caCerts: [p.ca.cert],
    });
    const socket = toNodeSocket(conn);
    assert.equal(str(await collect(socket)), "from the server");
    assert.equal(socket.tlsConn, conn);
    assert.equal(socket.authorized, true);
    socket.destroy();
  } finally {
    server.close();
  }
});

test("createServer: secureConnection, mTLS with requestCert, tlsClientError, close", async () => {
  const server = createServer({
    cert: p.server.cert,
    key: p.server.key,
    ca: [p.ca.cert],
    requestCert: true,
    rejectUnauthorized: false,
  });
  const identities: string[] = [];
  server.on("secureConnection", (socket: TlsNodeSocket) => {
    const cert = socket.getPeerCertificate();
    identities.push(
      socket.authorized && cert && "subject" in cert ? String(cert.subject.CN) : "anonymous",
    );
    socket.resume(); // read on, so the client's close_notify ends this side too
    socket.end(`hello ${identities.at(-1)}`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  assert.ok(address && typeof address === "object");
  try {
    const withCert = connect({
      port: address.port,
      ca: [p.ca.cert],
      cert: p.client.cert,
      key: p.client.key,
    });
    assert.equal(str(await collect(withCert)), "hello test client");
    const without = connect({ port: address.port, ca: [p.ca.cert] });
    assert.equal(str(await collect(without)), "hello anonymous");

    // A client that does not trust the server refuses it with an alert.
    const refused = once<[NodeTlsError, TlsNodeSocket]>(server, "tlsClientError");
    const distrustful = connect({ port: address.port, ca: [p.otherCa.cert] });
    distrustful.on("error", () => {});
    const [clientError, socket] = await refused;
    assert.equal(clientError.code, "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", clientError.message);
    assert.equal(clientError.tlsCode, "ALERT_RECEIVED");
    assert.equal(typeof socket.destroy, "function");
  } finally {
    const closed = once(server, "close");
    server.close();
    await closed;
    assert.equal(server.listening, false);
    assert.equal(server.address(), null);
  }
  assert.deepEqual(identities, ["test client", "anonymous"]);
});
