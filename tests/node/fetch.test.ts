// createFetch (undici over this module's TLS) against a real nginx: GET, a
// POST body that nginx proxies to a local node:http server, keep-alive
// reuse proven by nginx's own $connection serial number, and a pinned key
// that does not match failing with PIN_MISMATCH before any request is sent.
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { createHash, randomBytes } from "node:crypto";
import { createServer as httpServer, type IncomingMessage, type ServerResponse } from "node:http";
import { createFetch, type NodeTlsError } from "../../node.ts";
import { describeCertificate, TlsError } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer } from "../helpers/io.ts";
import { startNginx } from "../helpers/nginx.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();

/** A plain HTTP server that answers with the SHA-256 of the body and nginx's connection header. */
async function upstream(): Promise<{ port: number; close(): Promise<void> }> {
  const server = httpServer((req: IncomingMessage, res: ServerResponse) => {
    const hash = createHash("sha256");
    req.on("data", (chunk: Uint8Array) => hash.update(chunk));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({
        method: req.method,
        sha256: hash.digest("hex"),
        nginxConnection: req.headers["x-nginx-connection"],
      }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test("createFetch against nginx: GET, POST, keep-alive reuse, pin mismatch", async () => {
  const backend = await upstream();
  const nginx = await startNginx({
    certPath: p.server.certPath,
    keyPath: p.server.keyPath,
    upstreamPort: backend.port,
  });
  const tlsFetch = createFetch({ caCerts: [p.ca.cert] });
  try {
    for (const port of [nginx.tls12Port, nginx.tls13Port]) {
      const get = await tlsFetch(`https://localhost:${port}/proto`);
      assert.equal(get.status, 200);
      assert.match(await get.text(), port === nginx.tls12Port ? /^TLSv1\.2 / : /^TLSv1\.3 /);
    }

    // Keep-alive: with one connection per origin, three GETs and a POST of
    // 1 MiB (proxied by nginx to the backend, which hashes it) share one TLS
    // connection, as nginx's own connection serial and request count show.
    const oneConnection = createFetch({ caCerts: [p.ca.cert], connections: 1 });
    const seen: string[][] = [];
    const body = randomBytes(1024 * 1024);
    let answer: { method: string; sha256: string; nginxConnection: string };
    try {
      for (let i = 0; i < 3; i++) {
        const response = await oneConnection(`https://localhost:${nginx.tls13Port}/connection`);
        seen.push((await response.text()).trim().split(" "));
      }
      const posted = await oneConnection(`https://localhost:${nginx.tls13Port}/upstream/post`, {
        method: "POST",
        body,
        headers: { "content-type": "application/octet-stream" },
      });
      assert.equal(posted.status, 200);
      answer = await posted.json() as typeof answer;
    } finally {
      await oneConnection.close();
    }
    assert.equal(new Set(seen.map(([connection]) => connection)).size, 1, JSON.stringify(seen));
    assert.deepEqual(seen.map(([, requests]) => Number(requests)), [1, 2, 3]);
    assert.equal(answer.method, "POST");
    assert.equal(answer.sha256, createHash("sha256").update(body).digest("hex"));
    assert.equal(answer.nginxConnection, seen[0][0], "the POST went over the same connection");

    // The right pin passes; a wrong one fails with the pin error.
    const pin = (await describeCertificate(pemToDer(p.server.cert))).publicKeyPin;
    const pinned = createFetch({ caCerts: [p.ca.cert], pinnedPublicKeys: [pin] });
    try {
      assert.equal((await pinned(`https://localhost:${nginx.tls13Port}/hello`)).status, 200);
    } finally {
      await pinned.close();
    }
    const wrongPin = createFetch({
      caCerts: [p.ca.cert],
      pinnedPublicKeys: [`sha256//${Buffer.alloc(32).toString("base64")}`],
    });
    try {
      await assert.rejects(wrongPin(`https://localhost:${nginx.tls13Port}/hello`), (error) => {
        assert.ok(error instanceof TypeError, String(error));
        const cause = error.cause as NodeTlsError;
        assert.equal(cause.code, "PIN_MISMATCH");
        assert.ok(cause.cause instanceof TlsError);
        assert.equal(cause.cause.code, "PIN_MISMATCH");
        return true;
      });
    } finally {
      await wrongPin.close();
    }
  } catch (error) {
    throw new Error(`${error}\nnginx log:\n${nginx.errorLog().slice(-2000)}`, { cause: error });
  } finally {
    await tlsFetch.close();
    await nginx.stop();
    await backend.close();
  }
}, 60_000);

test("createFetch refuses an address option and unknown keys at once", () => {
  assert.throws(
    () => createFetch({ hostname: "example.com" } as never),
    (error: NodeTlsError) => error.code === "ERR_INVALID_ARG_VALUE",
  );
  assert.throws(
    () => createFetch({ rejectUnauthorised: false } as never),
    (error: NodeTlsError) => error.code === "ERR_INVALID_ARG_VALUE",
  );
});
