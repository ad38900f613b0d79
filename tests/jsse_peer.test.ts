// Interop with Java's JSSE (tests/peers/jsse/JssePeer.java): JSSE as the server
// of connectTls and as the client of listenTls, TLS 1.2 and TLS 1.3, 16 MiB each
// way checked byte-exact, the version checked on both sides.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { connectTls, type TlsVersion } from "../mod.ts";
import {
  assertSameBytes,
  BULK_BYTES,
  type BulkEchoServer,
  bulkEchoServer,
  bulkFiles,
  randomBytes,
  sendAndReadBack,
  withDeadline,
} from "./helpers/bulk.ts";
import { test } from "./helpers/harness.ts";
import { jsseClient, jsseServer, type PeerProcess } from "./helpers/jvm_nss_peers.ts";
import { pki } from "./helpers/pki.ts";

const { ca, server } = pki();
const versions: TlsVersion[] = ["TLSv1.2", "TLSv1.3"];

for (const version of versions) {
  test(
    `JSSE server (${version} only): connectTls sends 16 MiB and reads them back byte-exact`,
    async () => {
      const data = randomBytes(BULK_BYTES);
      const peer = await jsseServer({
        certPath: server.certPath,
        keyPath: server.keyPath,
        protocol: version,
      });
      try {
        const conn = await connectTls({
          hostname: "127.0.0.1",
          port: peer.port,
          serverName: "localhost",
          caCerts: [ca.cert],
        });
        try {
          const info = await conn.handshake();
          assert.equal(info.protocol, version);
          assert.equal((await peer.waitFor(/PROTOCOL (\S+)/))[1], version, "JSSE's view");
          const { echoed, peerClosedCleanly } = await withDeadline(
            sendAndReadBack(conn, data),
            100_000,
            "16 MiB echo through JSSE",
            peer.output,
          );
          assertSameBytes(echoed, data, "echoed by JSSE");
          assert.ok(peerClosedCleanly, "JSSE answers close_notify with its own");
        } finally {
          conn.close();
        }
        assert.equal((await peer.waitFor(/ECHOED (\d+)/))[1], String(BULK_BYTES));
        await withDeadline(peer.succeeded(), 10_000, "JSSE exit", peer.output);
      } finally {
        await peer.stop();
      }
    },
    120_000,
  );

  test(
    `JSSE client (${version} only): sends 16 MiB to listenTls and reads the echo byte-exact`,
    async () => {
      const data = randomBytes(BULK_BYTES);
      const files = bulkFiles(data);
      let echo: BulkEchoServer | undefined;
      let client: PeerProcess | undefined;
      try {
        echo = await bulkEchoServer({ cert: server.cert, key: server.key }, BULK_BYTES);
        client = jsseClient({
          port: echo.port,
          caPath: ca.certPath,
          serverName: "localhost",
          protocol: version,
          sendPath: files.send,
          receivePath: files.receive,
        });
        const [outcome] = await withDeadline(
          Promise.all([echo.outcome, client.succeeded()]),
          100_000,
          "16 MiB from JSSE, echoed by listenTls",
          client.output,
        );
        assert.equal(outcome.info.protocol, version);
        assert.equal(outcome.info.serverName, "localhost");
        assert.match(client.output(), new RegExp(`^PROTOCOL ${version}$`, "m"), "JSSE's view");
        assertSameBytes(outcome.received, data, "received by listenTls");
        assertSameBytes(readFileSync(files.receive), data, "read back by JSSE");
        assert.match(client.output(), /^PEER_CLOSED$/m, "JSSE saw our close_notify");
        assert.match(client.output(), new RegExp(`^RECEIVED ${BULK_BYTES}$`, "m"));
        assert.ok(outcome.peerClosedCleanly, `JSSE's close: ${outcome.closeError}`);
      } finally {
        echo?.close();
        await client?.stop();
        files.remove();
      }
    },
    120_000,
  );
}
