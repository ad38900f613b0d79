// Mozilla's NSS as a peer: tstclnt for listenTls, an NSS echo server for connectTls.
// The echo server is tests/peers/nss/nss_echo.c on libnss3; TLS 1.2 and TLS
// 1.3, 16 MiB each way checked byte-exact, the version checked on both sides.
import assert from "node:assert/strict";
import type { TlsVersion } from "../../mod.ts";
import { echoThroughPeerServer, peerClientThroughEcho } from "../helpers/bulk.ts";
import { test } from "../helpers/harness.ts";
import { assertSameBytes } from "../helpers/io.ts";
import { nssEchoServer, tstclnt, tstclntVersion } from "../helpers/jvm_nss_peers.ts";
import { pki } from "../helpers/pki.ts";

const { ca, server } = pki();
const versions: TlsVersion[] = ["TLSv1.2", "TLSv1.3"];

for (const version of versions) {
  test(
    `NSS server (${version} only): connectTls sends 16 MiB and reads them back byte-exact`,
    async () => {
      const peer = await nssEchoServer(version);
      try {
        await echoThroughPeerServer(peer, { caCert: ca.cert, version, name: "NSS" });
      } finally {
        await peer.stop();
      }
    },
    120_000,
  );

  test(
    `NSS tstclnt (${version} only): sends 16 MiB to listenTls and reads the echo byte-exact`,
    async () => {
      await peerClientThroughEcho(
        { cert: server.cert, key: server.key },
        { version, name: "tstclnt" },
        (port, files) =>
          tstclnt({ port, serverName: "localhost", protocol: version, sendPath: files.send }),
        (_outcome, client, data) => {
          assert.equal(tstclntVersion(client), version, "tstclnt's view");
          assertSameBytes(client.stdoutBytes(), data, "read back by tstclnt");
        },
      );
    },
    120_000,
  );
}
