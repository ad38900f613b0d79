// node:http and node:http2 servers behind createServer + serveHttp, driven
// by curl: three keep-alive requests on one TLS connection and a POST body
// (HTTP/1.1), two concurrent streams on one session (HTTP/2), and curl
// closing without close_notify is a plain end, not a session error.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import http from "node:http";
import http2 from "node:http2";
import { join } from "node:path";
import { createServer, serveHttp, type TlsNodeServer, type TlsNodeSocket } from "../../node.ts";
import { test } from "../helpers/harness.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();

/** Runs curl; resolves with its output whatever its exit status (the test judges). */
function curl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("curl", args, { encoding: "utf8", maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function listening(server: TlsNodeServer): Promise<number> {
  server.listen(0, "127.0.0.1");
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve);
    server.once("error", reject);
  });
  const address = server.address();
  assert.ok(address && typeof address === "object");
  return address.port;
}

async function closed(server: TlsNodeServer): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test("node:http behind createServer: three keep-alive requests on one connection, a POST", async () => {
  const seen: { method: string; url: string; port: number; sha256: string }[] = [];
  const app = http.createServer((req, res) => {
    const hash = createHash("sha256");
    req.on("data", (chunk: Uint8Array) => hash.update(chunk));
    req.on("end", () => {
      const sha256 = hash.digest("hex");
      seen.push({ method: req.method!, url: req.url!, port: req.socket.remotePort!, sha256 });
      res.setHeader("content-type", "text/plain");
      res.end(`${req.method} ${req.url} ${sha256}\n`);
    });
  });
  const tls = createServer({ cert: p.server.cert, key: p.server.key, ALPNProtocols: ["http/1.1"] });
  const sockets: TlsNodeSocket[] = [];
  tls.on("secureConnection", (socket: TlsNodeSocket) => sockets.push(socket));
  serveHttp(tls, app);
  const port = await listening(tls);
  const body = randomBytes(200_000);
  const bodyPath = join(p.dir, "http-post.bin");
  writeFileSync(bodyPath, body);
  try {
    const base = `https://localhost:${port}`;
    const result = await curl([
      "-sS",
      "-v",
      "--cacert",
      p.ca.certPath,
      `${base}/one`,
      `${base}/two`,
      `${base}/three`,
      "--next",
      "--cacert",
      p.ca.certPath,
      "--data-binary",
      `@${bodyPath}`,
      `${base}/post`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const bodyHash = createHash("sha256").update(body).digest("hex");
    const emptyHash = createHash("sha256").digest("hex");
    assert.deepEqual(result.stdout.trim().split("\n"), [
      `GET /one ${emptyHash}`,
      `GET /two ${emptyHash}`,
      `GET /three ${emptyHash}`,
      `POST /post ${bodyHash}`,
    ]);
    assert.equal(sockets.length, 1, "one TLS connection for all four requests");
    assert.equal(new Set(seen.map((s) => s.port)).size, 1);
    assert.equal(result.stderr.match(/Re-using existing connection/g)?.length, 3, result.stderr);
  } finally {
    await closed(tls);
  }
});

test("node:http2 behind createServer: two concurrent streams on one session", async () => {
  const app = http2.createServer();
  const sessions = new Set<unknown>();
  const sessionErrors: Error[] = [];
  app.on("sessionError", (error: Error) => sessionErrors.push(error));
  app.on("session", (session: http2.ServerHttp2Session) => {
    session.on("error", (error: Error) => sessionErrors.push(error));
  });
  // Each response waits until both streams are open: only concurrent streams can finish.
  const open: http2.ServerHttp2Stream[] = [];
  let bothOpen: () => void = () => {};
  const both = new Promise<void>((resolve) => bothOpen = resolve);
  app.on("stream", (stream, headers) => {
    sessions.add(stream.session);
    open.push(stream);
    if (open.length === 2) bothOpen();
    void both.then(() => {
      const socket = stream.session?.socket as unknown as TlsNodeSocket | undefined;
      stream.respond({ ":status": 200, "content-type": "text/plain" });
      stream.end(`${headers[":path"]} ${socket?.alpnProtocol} ${open.length}\n`);
    });
  });
  const tls = createServer({ cert: p.server.cert, key: p.server.key, ALPNProtocols: ["h2"] });
  serveHttp(tls, app);
  const port = await listening(tls);
  try {
    const base = `https://localhost:${port}`;
    const result = await curl([
      "-sS",
      "-v",
      "--http2",
      "--parallel",
      "--cacert",
      p.ca.certPath,
      `${base}/a`,
      `${base}/b`,
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stdout.trim().split("\n").sort(), ["/a h2 2", "/b h2 2"]);
    assert.equal(sessions.size, 1, "both streams on one session");
    assert.match(result.stderr, /using HTTP\/2/);
    // curl closes without close_notify; that ends the session quietly.
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error("the session did not close")), 5_000);
      const session = [...sessions][0] as http2.ServerHttp2Session;
      if (session.closed || session.destroyed) {
        clearTimeout(deadline);
        resolve();
      } else {
        session.once("close", () => {
          clearTimeout(deadline);
          resolve();
        });
      }
    });
    assert.deepEqual(sessionErrors, []);
  } finally {
    await closed(tls);
  }
});
