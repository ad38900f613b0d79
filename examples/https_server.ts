/**
 * Part of the demo: serves HTTPS with the module's `listenTls`, fetches
 * itself once with `curl` and once with the module's own client, and prints
 * both answers. Runs unchanged under `deno run -A` and `bun`.
 *
 * @module
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { connectTls, listenTls, type TlsConn } from "../mod.ts";

const [dir] = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : process.argv.slice(2);
const runtime = "Bun" in globalThis ? "Bun" : "Deno";
const read = (name: string): string => readFileSync(`${dir}/${name}`, "utf8");

const listener = await listenTls({
  hostname: "127.0.0.1",
  port: 0,
  cert: read("server.crt"),
  key: read("server.key"),
  alpnProtocols: ["http/1.1"],
});

async function serve(conn: TlsConn): Promise<void> {
  try {
    const info = await conn.handshake();
    const buf = new Uint8Array(8192);
    const n = await conn.read(buf);
    const requestLine = new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\r\n")[0];
    const body =
      `hello from rustls-sockets on ${runtime}: ${info.protocol} ${info.cipherSuite}, you asked "${requestLine}"\n`;
    await conn.write(new TextEncoder().encode(
      `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    ));
    await conn.closeWrite();
  } catch (error) {
    console.error("server:", error);
  } finally {
    conn.close();
  }
}
const serving = (async () => {
  for await (const conn of listener) void serve(conn);
})();

const url = `https://localhost:${listener.addr.port}/demo`;
const curl = await new Promise<string>((resolve, reject) => {
  execFile("curl", ["-sS", "--cacert", `${dir}/ca.crt`, url], (error, stdout, stderr) => {
    if (error) reject(new Error(`curl failed: ${stderr}`));
    else resolve(stdout);
  });
});
console.log(`${runtime}: listenTls on ${url}`);
console.log(`  curl         ${curl.trim()}`);

const conn = await connectTls({
  hostname: "localhost",
  port: listener.addr.port,
  caCerts: [read("ca.crt")],
  alpnProtocols: ["http/1.1"],
});
await conn.write(new TextEncoder().encode("GET /self HTTP/1.1\r\nHost: localhost\r\n\r\n"));
let response = "";
const buf = new Uint8Array(8192);
for (;;) {
  const n = await conn.read(buf);
  if (n === null) break;
  response += new TextDecoder().decode(buf.subarray(0, n));
}
conn.close();
console.log(`  own client   ${response.split("\r\n\r\n")[1].trim()}`);

listener.close();
await serving;
