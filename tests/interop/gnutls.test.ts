// GnuTLS as a peer: gnutls-cli (TLS 1.3 and 1.2) talking to listenTls.
import assert from "node:assert/strict";
import { test } from "../helpers/harness.ts";
import { runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

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
