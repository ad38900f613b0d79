// Client certificates (mTLS): required, optional and judged by listenTls; sent by connectTls.
import assert from "node:assert/strict";
import {
  connectTls,
  type ConnectTlsOptions,
  listenTls,
  type TlsConn,
  TlsError,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, readExactly, rejectsWithCode, str, text } from "../helpers/io.ts";
import { openSslServer } from "../helpers/peers.ts";
import { chainPki, pki } from "../helpers/pki.ts";
import { answerServer, ask } from "../helpers/server.ts";
import { until } from "../helpers/wait.ts";

const p = pki();
const c = chainPki();
const serverIdentity = { cert: p.server.cert, key: p.server.key };
const { ca, server, client } = p;

/** connectTls to 127.0.0.1 as "localhost", trusting the chain PKI's root. */
function connect(port: number, extra: Partial<ConnectTlsOptions> = {}): Promise<TlsConn> {
  return connectTls({
    hostname: "127.0.0.1",
    port,
    serverName: "localhost",
    caCerts: [c.root],
    ...extra,
  });
}

test("mTLS required: a verified client chain is seen by the server; no certificate fails on both sides", async () => {
  const server = await answerServer({ ...serverIdentity, clientAuth: { caCerts: [p.ca.cert] } });
  try {
    const ok = await ask(server.port, { cert: p.client.cert, key: p.client.key });
    assert.equal(ok.answer, "echo:hi");
    await server.finished(1);
    assert.deepEqual(server.infos[0].peerCertificates[0], pemToDer(p.client.cert));

    const error = await rejectsWithCode(ask(server.port, {}), "ALERT_RECEIVED");
    assert.equal((error as unknown as { alert: string }).alert, "certificate_required");
    await server.finished(2);
    assert.equal(server.errors[0].code, "CERT_REQUIRED");
  } finally {
    server.close();
  }
});

test("mTLS with a client certificate from an unknown CA: UNKNOWN_ISSUER on the server", async () => {
  const server = await answerServer({
    ...serverIdentity,
    clientAuth: { caCerts: [p.otherCa.cert] },
  });
  try {
    const error = await rejectsWithCode(
      ask(server.port, { cert: p.client.cert, key: p.client.key }),
      "ALERT_RECEIVED",
    );
    assert.equal((error as unknown as { alert: string }).alert, "unknown_ca");
    await server.finished(1);
    assert.equal(server.errors[0].code, "UNKNOWN_ISSUER");
  } finally {
    server.close();
  }
});

test("mTLS optional: clients with and without certificates both work", async () => {
  const server = await answerServer({
    ...serverIdentity,
    clientAuth: { caCerts: [p.ca.cert], required: false },
  });
  try {
    assert.equal(
      (await ask(server.port, { cert: p.client.cert, key: p.client.key })).answer,
      "echo:hi",
    );
    assert.equal((await ask(server.port, {})).answer, "echo:hi");
    await server.finished(2);
    assert.deepEqual(server.infos.map((i) => i.peerCertificates.length).sort(), [0, 1]);
  } finally {
    server.close();
  }
});

test("server-side verifyPeer and clientAuth.crls judge client certificates", async () => {
  const leaf = c.leaves.ecdsaP256;
  const errors: string[] = [];
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: leaf.chain,
    key: leaf.key,
    clientAuth: { caCerts: [c.root], crls: [c.crl] },
    verifyPeer: (info) => {
      if (info.peerCertificates.length !== 2) throw new Error("expected leaf + intermediate");
    },
  });
  const serving = (async () => {
    for await (const conn of listener) {
      conn.handshake().then(
        () => conn.write(text("welcome")).then(() => conn.closeWrite()),
      ).catch((error: TlsError) => errors.push(error.code)).finally(() => conn.close());
    }
  })();
  try {
    const good = await connect(listener.addr.port, {
      cert: c.leaves.client.chain,
      key: c.leaves.client.key,
    });
    const buf = new Uint8Array(16);
    assert.equal(str(buf.subarray(0, (await good.read(buf))!)), "welcome");
    good.close();
    // a revoked client certificate
    const revoked = await connect(listener.addr.port, {
      cert: c.leaves.revokedClient.chain,
      key: c.leaves.revokedClient.key,
    }).then((conn) => conn.read(new Uint8Array(16)).finally(() => conn.close())).catch((
      e: TlsError,
    ) => e);
    assert.ok(revoked instanceof TlsError, "the revoked client is refused");
    // a client that sends its leaf without the intermediate: refused by rustls
    // (the chain does not reach the root) before verifyPeer would count it
    const leafOnly = await connect(listener.addr.port, {
      cert: c.leaves.client.cert,
      key: c.leaves.client.key,
    }).then((conn) => conn.read(new Uint8Array(16)).finally(() => conn.close())).catch((
      e: TlsError,
    ) => e);
    assert.ok(leafOnly instanceof TlsError, "the client without its intermediate is refused");
    await until(() => errors.length === 2, "the server to finish the two refused connections");
    assert.deepEqual(errors, ["CERT_REVOKED", "UNKNOWN_ISSUER"]);
    assert.equal((revoked as TlsError & { alert?: string }).alert, "certificate_revoked");
    assert.equal((leafOnly as TlsError & { alert?: string }).alert, "unknown_ca");
  } finally {
    listener.close();
    await serving;
  }
});

test("client certificate: s_server -Verify accepts ours and rejects its absence", async () => {
  const peer = await openSslServer(server.certPath, server.keyPath, [
    "-Verify",
    "1",
    "-verify_return_error",
    "-CAfile",
    ca.certPath,
    "-tls1_3",
    "-rev",
  ]);
  try {
    const conn = await connectTls({
      hostname: "localhost",
      port: peer.port,
      caCerts: [ca.cert],
      cert: client.cert,
      key: client.key,
    });
    await conn.write(text("mtls\n"));
    assert.equal(str(await readExactly(conn, 5)), "sltm\n");
    conn.close();

    // Without a certificate the TLS 1.3 server rejects us after its Finished:
    // the alert arrives on the first read, or already during connectTls when
    // the server answers fast enough.
    const anonymous = (async () => {
      const conn = await connectTls({ hostname: "localhost", port: peer.port, caCerts: [ca.cert] });
      try {
        await conn.read(new Uint8Array(16));
      } finally {
        conn.close();
      }
    })();
    const error = await rejectsWithCode(anonymous, "ALERT_RECEIVED");
    assert.equal((error as unknown as { alert: string }).alert, "certificate_required");
  } finally {
    await peer.stop();
  }
});
