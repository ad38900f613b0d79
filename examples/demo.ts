/**
 * The demo: connects to the local HTTPS server scripts/demo.sh started, with
 * this module, and prints what was negotiated and the server's answer.
 * Runs unchanged under `deno run -A` and `bun`.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { connectTls } from "../mod.ts";

const [portText, caFile] = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : process.argv.slice(2);
const runtime = "Bun" in globalThis ? `Bun ${process.versions.bun}` : `Deno ${Deno.version.deno}`;

const started = performance.now();
await using conn = await connectTls({
  hostname: "localhost",
  port: Number(portText),
  caCerts: [readFileSync(caFile, "utf8")],
  alpnProtocols: ["http/1.1"],
});
const info = await conn.handshake();
const handshakeMs = performance.now() - started;

await conn.write(new TextEncoder().encode("GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"));
const buf = new Uint8Array(16 * 1024);
const n = await conn.read(buf);
const statusLine = new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];

console.log(`${runtime}: connected to ${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`);
console.log(`  protocol        ${info.protocol}`);
console.log(`  cipher suite    ${info.cipherSuite}`);
console.log(`  key exchange    ${info.keyExchangeGroup}`);
console.log(`  ALPN            ${info.alpnProtocol ?? "(none)"}`);
console.log(`  server name     ${info.serverName}`);
console.log(
  `  peer chain      ${info.peerCertificates.length} certificate(s), leaf ${
    info.peerCertificates[0].length
  } bytes DER`,
);
console.log(`  handshake       ${handshakeMs.toFixed(1)} ms (TCP connect included)`);
console.log(`  response        ${statusLine}`);
