// Session resumption: our client and openssl s_client resume; tickets are kept per endpoint.
import assert from "node:assert/strict";
import { connectTls } from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { text } from "../helpers/io.ts";
import { goServer, runTool } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer, ask } from "../helpers/server.ts";

const p = pki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };

for (const maxVersion of ["TLSv1.3", "TLSv1.2"] as const) {
  test(`resumption (${maxVersion}): the module's client resumes across connectTls calls`, async () => {
    const server = await answerServer(serverIdentity);
    try {
      const options = { maxVersion, alpnProtocols: [`resume-${maxVersion}`] };
      const first = await ask(server.port, options);
      assert.equal(first.info.resumed, false);
      const second = await ask(server.port, options);
      assert.equal(second.info.resumed, true);
      assert.equal(second.info.protocol, maxVersion);
      await server.finished(2);
      assert.deepEqual(server.infos.map((i) => i.resumed), [false, true]);
    } finally {
      server.close();
    }
  });
}

test("resumption with openssl s_client -sess_out / -sess_in", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const session = `${p.dir}/openssl-session-${runtime}.pem`;
    const common = [
      "s_client",
      "-connect",
      `127.0.0.1:${server.port}`,
      "-servername",
      "localhost",
      "-CAfile",
      p.ca.certPath,
      "-ign_eof",
    ];
    const first = await runTool("openssl", [...common, "-sess_out", session], "one\n");
    assert.match(first.stdout, /^New, TLSv1\.3/m, first.stdout);
    const second = await runTool("openssl", [...common, "-sess_in", session], "two\n");
    assert.match(second.stdout, /^Reused, TLSv1\.3/m, second.stdout);
    await server.finished(2);
    assert.deepEqual(server.infos.map((i) => i.resumed), [false, true]);
  } finally {
    server.close();
  }
});

test("two servers sharing a name (Go, then listenTls, both 'localhost'): tickets do not cross", async () => {
  // rustls keys client sessions by name; the module keys its client
  // configurations by endpoint too, so the Go server's ticket is never offered
  // to ours (rustls 0.23.46 would fail that handshake after a HelloRetryRequest).
  const go = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  const server = await answerServer(serverIdentity);
  try {
    const options = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
    const first = await connectTls({ ...options, port: go.port });
    await first.write(text("ticket please"));
    await first.read(new Uint8Array(64)); // the Go server's tickets arrive with the echo
    first.close();
    const result = await ask(server.port, {});
    assert.equal(result.answer, "echo:hi");
    assert.equal(result.info.resumed, false);
  } finally {
    server.close();
    await go.stop();
  }
});
