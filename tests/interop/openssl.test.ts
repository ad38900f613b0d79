// OpenSSL as a peer: s_server for connectTls; s_client, curl and Python's ssl for listenTls.
// (curl and Python's ssl use OpenSSL's libssl too.)
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, readExactly, str, text } from "../helpers/io.ts";
import { openSslServer, runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const { ca, server } = p;
const serverIdentity = { cert: p.server.cert, key: p.server.key };

test("openssl s_server TLS 1.3: handshake info and echo (-rev)", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, ["-tls1_3", "-rev"]);
  try {
    const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
    const info = await conn.handshake();
    assert.equal(info.protocol, "TLSv1.3");
    assert.match(info.cipherSuite, /^TLS13_/);
    assert.ok(info.keyExchangeGroup.length > 0);
    assert.equal(info.serverName, "localhost");
    assert.equal(info.resumed, false);
    assert.equal(info.alpnProtocol, null);
    assert.equal(info.peerCertificates.length, 1);
    assert.deepEqual(info.peerCertificates[0], pemToDer(server.cert));
    assert.equal(await conn.handshake(), info, "handshake() returns the same result again");
    assert.equal(await conn.write(text("hello openssl\n")), 14);
    assert.equal(str(await readExactly(conn, 14)), "lssnepo olleh\n");
    conn.close();
  } finally {
    await peer.stop();
  }
});

for (const version of ["-tls1_3", "-tls1_2"]) {
  test(`openssl s_client ${version} talks to listenTls`, async () => {
    const server = await answerServer(serverIdentity);
    try {
      const result = await runTool("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${server.port}`,
        "-servername",
        "localhost",
        "-CAfile",
        p.ca.certPath,
        "-verify_return_error",
        version,
        "-quiet",
      ], "hello openssl\n");
      assert.match(result.stdout, /echo:hello openssl/);
      await server.finished(1);
      assert.equal(server.infos[0].protocol, version === "-tls1_3" ? "TLSv1.3" : "TLSv1.2");
      assert.equal(server.infos[0].serverName, "localhost");
    } finally {
      server.close();
    }
  });
}

test("curl gets an HTTP/1.1 response from listenTls (ALPN http/1.1)", async () => {
  const server = await answerServer({ ...serverIdentity, alpnProtocols: ["http/1.1"] });
  try {
    const result = await runTool("curl", [
      "-sS",
      "--http1.1",
      "--cacert",
      p.ca.certPath,
      `https://localhost:${server.port}/`,
    ], "");
    assert.equal(result.stdout, "hello from rustls-js\n", result.stderr);
    await server.finished(1);
    assert.equal(server.infos[0].alpnProtocol, "http/1.1");
  } finally {
    server.close();
  }
});

test("Python ssl client talks to listenTls", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const script = `
import socket, ssl, sys, json
ctx = ssl.create_default_context(cafile=sys.argv[2])
with socket.create_connection(("127.0.0.1", int(sys.argv[1]))) as raw:
    with ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(b"hello python")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        print(json.dumps({"version": s.version(), "answer": data.decode()}))
`;
    const result = await runTool("python3", ["-c", script, String(server.port), p.ca.certPath], "");
    assert.deepEqual(
      JSON.parse(result.stdout),
      { version: "TLSv1.3", answer: "echo:hello python" },
      result.stderr,
    );
  } finally {
    server.close();
  }
});
