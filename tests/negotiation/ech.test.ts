// Encrypted Client Hello (ech) with Go crypto/tls: the name sent encrypted, GREASE, bad configs.
// A config of another server fails; builds without HPKE (ring) refuse the option.
import assert from "node:assert/strict";
import { connectTls, type HandshakeInfo, type TlsClientOptions } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { readExactly, rejectsWithCode, str } from "../helpers/io.ts";
import { echConfigList, goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const client: TlsClientOptions = { serverName: "localhost", caCerts: [p.ca.cert] };

test("ECH: the real name travels encrypted to Go crypto/tls; GREASE; a stale config fails", async () => {
  const { providerName, native } = await import("../../lib/core/native.ts");
  if (providerName(await native()) !== "aws-lc-rs") {
    // ring has no HPKE: the option must say so rather than silently send the name in the clear.
    await rejectsWithCode(
      connectTls({ port: 1, ...client, ech: "grease" }),
      "NOT_SUPPORTED",
    );
    return;
  }
  const peer = await goServer({
    cert: p.server.certPath,
    key: p.server.keyPath,
    mode: "report",
    echPublicName: "public.test",
  });
  const other = await goServer({
    cert: p.server.certPath,
    key: p.server.keyPath,
    mode: "report",
    echPublicName: "public.test",
  });
  try {
    const configList = echConfigList(peer);
    const report = async (
      options: TlsClientOptions,
    ): Promise<{ info: HandshakeInfo; seen: unknown }> => {
      const conn = await connectTls({
        hostname: "127.0.0.1",
        port: peer.port,
        ...client,
        ...options,
      });
      const info = await conn.handshake();
      const line = str(await readExactly(conn, 1)) + await readLine(conn);
      conn.close();
      return { info, seen: JSON.parse(line) };
    };
    const ech = await report({ ech: { configList } });
    assert.equal(ech.info.protocol, "TLSv1.3");
    assert.deepEqual(ech.seen, { echAccepted: true, serverName: "localhost", version: "TLS 1.3" });
    const grease = await report({ ech: "grease" });
    assert.deepEqual(grease.seen, {
      echAccepted: false,
      serverName: "localhost",
      version: "TLS 1.3",
    });
    // A config of another server (a key this one lacks): rustls refuses to go on in the clear.
    await assert.rejects(
      connectTls({
        hostname: "127.0.0.1",
        port: peer.port,
        ...client,
        ech: { configList: echConfigList(other) },
      }),
      (error: Error & { code?: string }) => typeof error.code === "string",
    );
    await rejectsWithCode(
      connectTls({ port: 1, ...client, ech: { configList }, maxVersion: "TLSv1.2" }),
      "INVALID_CONFIG",
    );
    await rejectsWithCode(
      connectTls({ port: 1, ...client, ech: { configList: new Uint8Array([1, 2, 3]) } }),
      "INVALID_CONFIG",
    );
  } finally {
    peer.stop();
    other.stop();
  }
});

async function readLine(conn: { read(buf: Uint8Array): Promise<number | null> }): Promise<string> {
  let line = "";
  const one = new Uint8Array(1);
  while (!line.endsWith("\n")) {
    if ((await conn.read(one)) === null) break;
    line += str(one);
  }
  return line;
}
