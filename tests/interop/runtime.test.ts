// The runtime's own TLS as a peer: its server for connectTls, its client for listenTls.
// Deno.listenTls and Deno.connectTls under Deno, node:tls under Bun.
import assert from "node:assert/strict";
import { connect as nodeTlsConnect } from "node:tls";
import { connectTls } from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { readExactly, str, text } from "../helpers/io.ts";
import { pki } from "../helpers/pki.ts";
import { runtimeTlsServer } from "../helpers/runtime_server.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

test(`the runtime's own TLS server (${runtime}): ALPN and echo`, async () => {
  const peer = await runtimeTlsServer({
    cert: p.server.cert,
    key: p.server.key,
    alpnProtocols: ["h2", "http/1.1"],
  });
  try {
    const conn = await connectTls({
      hostname: "localhost",
      port: peer.port,
      caCerts: [p.ca.cert],
      alpnProtocols: ["http/1.1"],
    });
    const info = await conn.handshake();
    assert.equal(info.protocol, "TLSv1.3");
    assert.equal(info.alpnProtocol, "http/1.1");
    const message = "built-in peer ".repeat(1000);
    await conn.write(text(message));
    assert.equal(str(await readExactly(conn, message.length)), message);
    conn.close();
  } finally {
    await peer.stop();
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
