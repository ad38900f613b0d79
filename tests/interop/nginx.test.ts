// nginx from Debian serving HTTPS to connectTls: keep-alive requests, refused versions.
// A TLS 1.2-only and a TLS 1.3-only server block; the module's client
// fetches several responses on one keep-alive connection.
import assert from "node:assert/strict";
import { connectTls, type TlsConn } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { HttpClient, type NginxServer, startNginx } from "../helpers/nginx.ts";
import { pemToDer } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();

async function withNginx(fn: (nginx: NginxServer) => Promise<void>): Promise<void> {
  const nginx = await startNginx({ certPath: p.server.certPath, keyPath: p.server.keyPath });
  try {
    await fn(nginx);
  } catch (error) {
    throw new Error(`${error}\nnginx error log:\n${nginx.errorLog()}`, { cause: error });
  } finally {
    await nginx.stop();
  }
}

for (const version of ["TLSv1.2", "TLSv1.3"] as const) {
  test(`nginx ${version}-only: three responses on one keep-alive connection`, async () => {
    await withNginx(async (nginx) => {
      const port = version === "TLSv1.2" ? nginx.tls12Port : nginx.tls13Port;
      const conn: TlsConn = await connectTls({
        hostname: "127.0.0.1",
        port,
        serverName: "localhost",
        caCerts: [p.ca.cert],
        alpnProtocols: ["http/1.1"],
      });
      const info = await conn.handshake();
      assert.equal(info.protocol, version);
      assert.equal(info.alpnProtocol, "http/1.1");
      assert.deepEqual(info.peerCertificates[0], pemToDer(p.server.cert));
      const http = new HttpClient(conn, "localhost");
      const hello = await http.request("/hello");
      assert.equal(hello.status, 200);
      assert.equal(hello.body, "hello from nginx\n");
      const proto = await http.request("/proto");
      assert.equal(proto.body.split(" ")[0], version, "nginx saw the same version");
      const echo = await http.request("/echo-path?n=3");
      assert.equal(echo.body, "/echo-path?n=3\n");
      assert.equal(echo.headers.get("connection"), "keep-alive");
      await conn.closeWrite();
      conn.close();
    });
  });
}

test("nginx: a version the block refuses fails the handshake with a typed error", async () => {
  await withNginx(async (nginx) => {
    await assert.rejects(
      connectTls({
        hostname: "127.0.0.1",
        port: nginx.tls12Port,
        serverName: "localhost",
        caCerts: [p.ca.cert],
        minVersion: "TLSv1.3",
      }),
      (error: Error & { code?: string }) => {
        assert.ok(
          error.code === "ALERT_RECEIVED" || error.code === "PEER_INCOMPATIBLE",
          `${error.code}: ${error.message}`,
        );
        return true;
      },
    );
  });
});
