// listenTls served to independent clients: openssl s_client, curl, gnutls-cli, Go, Python, the runtime's own client.
import assert from "node:assert/strict";
import { connect as nodeTlsConnect } from "node:tls";
import { runtime, test } from "../helpers/harness.ts";
import { goClient, runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

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

test("gnutls-cli (TLS 1.3 and 1.2) talks to listenTls", async () => {
  const server = await answerServer(serverIdentity);
  try {
    for (const vers of ["+VERS-TLS1.3", "+VERS-TLS1.2"]) {
      const result = await runTool("gnutls-cli", [
        "--x509cafile",
        p.ca.certPath,
        "--priority",
        `NORMAL:-VERS-ALL:${vers}`,
        "-p",
        String(server.port),
        "localhost",
      ], "hello gnutls\n");
      assert.match(result.stdout, /echo:hello gnutls/, result.stdout + result.stderr);
    }
    await server.finished(2);
    assert.deepEqual(server.infos.map((i) => i.protocol), ["TLSv1.3", "TLSv1.2"]);
  } finally {
    server.close();
  }
});

test("Go crypto/tls client: TLS 1.3 and 1.2 talk to listenTls", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const tls13 = await goClient({ port: server.port, ca: p.ca.certPath, send: "go" });
    assert.deepEqual(tls13, { version: "TLS 1.3", alpn: "", answer: "echo:go" });
    const tls12 = await goClient({
      port: server.port,
      ca: p.ca.certPath,
      max: "1.2",
      send: "go12",
    });
    assert.deepEqual(tls12, { version: "TLS 1.2", alpn: "", answer: "echo:go12" });
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

test(`the runtime's own TLS client (${runtime}) talks to listenTls`, async () => {
  const server = await answerServer(serverIdentity);
  try {
    let answer = "";
    if (runtime === "deno") {
      const conn = await Deno.connectTls({
        hostname: "localhost",
        port: server.port,
        caCerts: [p.ca.cert],
      });
      await conn.write(new TextEncoder().encode("hello deno"));
      const buf = new Uint8Array(1024);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        answer += new TextDecoder().decode(buf.subarray(0, n));
      }
      conn.close();
    } else {
      answer = await new Promise<string>((resolve, reject) => {
        const socket = nodeTlsConnect({
          host: "127.0.0.1",
          port: server.port,
          servername: "localhost",
          ca: p.ca.cert,
        });
        let data = "";
        socket.on("secureConnect", () => socket.write("hello deno"));
        socket.on("data", (chunk: Uint8Array) => (data += new TextDecoder().decode(chunk)));
        socket.on("end", () => resolve(data));
        socket.on("error", reject);
      });
    }
    assert.equal(answer, "echo:hello deno");
  } finally {
    server.close();
  }
});
