// connectTls against the runtime's own TLS server (Deno.listenTls / Bun's node:tls).
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { readExactly, str, text } from "../helpers/io.ts";
import { runtimeTlsServer } from "../helpers/runtime_server.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();

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
