// Java's JSSE as a peer: its server for connectTls, its client for listenTls, 16 MiB each way.
// The peer is tests/peers/jsse/JssePeer.java; TLS 1.2 and TLS 1.3, the bytes
// checked byte-exact, the version checked on both sides.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import type { TlsVersion } from "../../mod.ts";
import { BULK_BYTES, echoThroughPeerServer, peerClientThroughEcho } from "../helpers/bulk.ts";
import { test } from "../helpers/harness.ts";
import { assertSameBytes } from "../helpers/io.ts";
import { jsseClient, jsseServer } from "../helpers/jvm_nss_peers.ts";
import { pki } from "../helpers/pki.ts";

const { ca, server } = pki();
const versions: TlsVersion[] = ["TLSv1.2", "TLSv1.3"];

for (const version of versions) {
  test(
    `JSSE server (${version} only): connectTls sends 16 MiB and reads them back byte-exact`,
    async () => {
      const peer = await jsseServer({
        certPath: server.certPath,
        keyPath: server.keyPath,
        protocol: version,
      });
      try {
        await echoThroughPeerServer(peer, { caCert: ca.cert, version, name: "JSSE" });
      } finally {
        await peer.stop();
      }
    },
    120_000,
  );

  test(
    `JSSE client (${version} only): sends 16 MiB to listenTls and reads the echo byte-exact`,
    async () => {
      await peerClientThroughEcho(
        { cert: server.cert, key: server.key },
        { version, name: "JSSE" },
        (port, files) =>
          jsseClient({
            port,
            caPath: ca.certPath,
            serverName: "localhost",
            protocol: version,
            sendPath: files.send,
            receivePath: files.receive,
          }),
        (_outcome, client, data, receivePath) => {
          assert.match(client.output(), new RegExp(`^PROTOCOL ${version}$`, "m"), "JSSE's view");
          assertSameBytes(readFileSync(receivePath), data, "read back by JSSE");
          assert.match(client.output(), /^PEER_CLOSED$/m, "JSSE saw our close_notify");
          assert.match(client.output(), new RegExp(`^RECEIVED ${BULK_BYTES}$`, "m"));
        },
      );
    },
    120_000,
  );
}
