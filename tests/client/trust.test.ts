// Trust and verification controls: chains, key types, wildcards, EKU, CRLs,
// pins, verifyPeer, extraCaCerts, dangerouslyDisableVerification, describeCertificate.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  connectTls,
  type ConnectTlsOptions,
  describeCertificate,
  type HandshakeInfo,
  listenTls,
  type TlsConn,
  TlsError,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, rejectsWithCode, str, text } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { chainPki, type Identity, pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";
import { until } from "../helpers/wait.ts";

const c = chainPki();

async function withGo(
  leaf: Identity,
  body: (port: number) => Promise<void>,
  serveChain = true,
): Promise<void> {
  const peer = await goServer({
    cert: serveChain ? leaf.chainPath : leaf.certPath,
    key: leaf.keyPath,
  });
  try {
    await body(peer.port);
  } finally {
    await peer.stop();
  }
}

function connect(port: number, extra: Partial<ConnectTlsOptions> = {}): Promise<TlsConn> {
  return connectTls({
    hostname: "127.0.0.1",
    port,
    serverName: "localhost",
    caCerts: [c.root],
    ...extra,
  });
}

test("root -> intermediate -> leaf verifies for RSA-2048, ECDSA P-256, P-384 and Ed25519 leaves", async () => {
  const expected = {
    rsa2048: "RSA 2048",
    ecdsaP256: "ECDSA P-256",
    ecdsaP384: "ECDSA P-384",
    ed25519: "Ed25519",
  };
  for (const [name, keyType] of Object.entries(expected)) {
    await withGo(c.leaves[name as keyof typeof expected], async (port) => {
      const conn = await connect(port);
      const info = await conn.handshake();
      assert.equal(info.peerCertificates.length, 2, `${name}: leaf and intermediate`);
      const leaf = await describeCertificate(info.peerCertificates[0]);
      assert.equal(leaf.publicKeyType, keyType);
      assert.equal(leaf.isCA, false);
      conn.close();
    });
  }
});

test("a server that omits its intermediate: UNKNOWN_ISSUER, saying so", async () => {
  const { issuer } = await describeCertificate(pemToDer(c.leaves.ecdsaP256.cert));
  await withGo(c.leaves.ecdsaP256, async (port) => {
    const error = await rejectsWithCode(connect(port), "UNKNOWN_ISSUER");
    assert.ok(error.message.includes(`is issued by ${issuer}`), error.message);
    assert.match(error.message, /the server sent no intermediate/);
  }, false);
});

test("wildcard *.example.test matches one label only", async () => {
  await withGo(c.leaves.wildcard, async (port) => {
    (await connect(port, { serverName: "a.example.test" })).close();
    await rejectsWithCode(connect(port, { serverName: "a.b.example.test" }), "CERT_NAME_MISMATCH");
    await rejectsWithCode(connect(port, { serverName: "example.test" }), "CERT_NAME_MISMATCH");
  });
});

test("a leaf for clientAuth only, used by a server: CERT_INVALID_PURPOSE", async () => {
  await withGo(c.leaves.clientAuthOnly, async (port) => {
    await rejectsWithCode(connect(port), "CERT_INVALID_PURPOSE");
  });
});

test("a self-signed leaf and an unrelated root: UNKNOWN_ISSUER", async () => {
  await withGo(c.leaves.selfSigned, async (port) => {
    await rejectsWithCode(connect(port), "UNKNOWN_ISSUER");
  });
  await withGo(c.leaves.ecdsaP256, async (port) => {
    await rejectsWithCode(connect(port, { caCerts: [pki().ca.cert] }), "UNKNOWN_ISSUER");
  });
});

test("crls: a revoked leaf is CERT_REVOKED; an unrevoked one passes with the same CRL", async () => {
  await withGo(c.leaves.revoked, async (port) => {
    await rejectsWithCode(connect(port, { crls: [c.crl] }), "CERT_REVOKED");
    (await connect(port)).close(); // without the CRL rustls cannot know
  });
  await withGo(c.leaves.ecdsaP256, async (port) => {
    (await connect(port, { crls: [c.crl] })).close();
  });
  await rejectsWithCode(connect(1, { crls: ["not a crl"] }), "INVALID_CONFIG");
});

test("crls: a CRL past its nextUpdate fails verification unless dangerouslyIgnoreCrlExpiry", async () => {
  await withGo(c.leaves.ecdsaP256, async (port) => {
    const error = await rejectsWithCode(connect(port, { crls: [c.expiredCrl] }), "CERT_INVALID");
    assert.match(error.message, /nextUpdate/);
    (await connect(port, { crls: [c.expiredCrl], dangerouslyIgnoreCrlExpiry: true })).close();
    (await connect(port, { crls: [c.crl] })).close();
  });
  await withGo(c.leaves.revoked, async (port) => {
    // Ignoring expiry still honours what the CRL says.
    await rejectsWithCode(
      connect(port, { crls: [c.expiredCrl], dangerouslyIgnoreCrlExpiry: true }),
      "CERT_REVOKED",
    );
  });
});

test("pinnedPublicKeys: a pin of the leaf passes; the intermediate's or others fail with PIN_MISMATCH", async () => {
  await withGo(c.leaves.ecdsaP256, async (port) => {
    const probe = await connect(port);
    const [leafDer, icaDer] = (await probe.handshake()).peerCertificates;
    probe.close();
    const leafPin = (await describeCertificate(leafDer)).publicKeyPin;
    const icaPin = (await describeCertificate(icaDer)).publicKeyPin;
    assert.match(leafPin, /^sha256\/\/[A-Za-z0-9+/]{43}=$/);
    (await connect(port, { pinnedPublicKeys: [leafPin] })).close();
    (await connect(port, { pinnedPublicKeys: ["sha256//" + "A".repeat(43) + "=", leafPin] }))
      .close();
    // Only the end-entity certificate counts (documented): a CA pin cannot be told
    // apart from a certificate the peer merely sent.
    await rejectsWithCode(connect(port, { pinnedPublicKeys: [icaPin] }), "PIN_MISMATCH");
    const error = await rejectsWithCode(
      connect(port, { pinnedPublicKeys: ["sha256//" + "A".repeat(43) + "="] }),
      "PIN_MISMATCH",
    );
    assert.match(error.message, new RegExp(leafPin.replace(/[+/]/g, "\\$&")));
    await rejectsWithCode(connect(port, { pinnedPublicKeys: ["sha1//abc"] }), "INVALID_CONFIG");
  });
});

test("pinnedPublicKeys: a server that appends the pinned site's certificate to its own chain fails with PIN_MISMATCH", async () => {
  // The pinned site's public certificate (its key is what the client pins).
  const pinnedSite = c.leaves.rsa2048;
  const pinnedPin = (await describeCertificate(pemToDer(pinnedSite.cert))).publicKeyPin;
  // Another certificate valid for the name, serving its chain plus the pinned site's certificate.
  const impostor = c.leaves.ecdsaP256;
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: impostor.chain + "\n" + pinnedSite.cert,
    key: impostor.key,
  });
  const serving = (async () => {
    for await (const conn of listener) conn.handshake().catch(() => {}).finally(() => conn.close());
  })();
  try {
    const port = listener.addr.port;
    const probe = await connect(port);
    assert.equal((await probe.handshake()).peerCertificates.length, 3, "the extra cert is sent");
    probe.close();
    await rejectsWithCode(connect(port, { pinnedPublicKeys: [pinnedPin] }), "PIN_MISMATCH");
  } finally {
    listener.close();
    await serving;
  }
});

test("verifyPeer: accepting sees the full HandshakeInfo; rejecting fails before any data moves", async () => {
  const leaf = c.leaves.ecdsaP256;
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: leaf.chain,
    key: leaf.key,
  });
  const serverSaw: string[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      (async () => {
        await conn.write(text("server data"));
        const buf = new Uint8Array(64);
        const n = await conn.read(buf);
        serverSaw.push(n === null ? "EOF" : str(buf.subarray(0, n)));
      })().catch((error: TlsError) => serverSaw.push(`error:${error.code}`)).finally(() =>
        conn.close()
      );
    }
  })();
  try {
    let seen: HandshakeInfo | undefined;
    const ok = await connect(listener.addr.port, {
      verifyPeer: async (info) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        seen = info;
      },
    });
    assert.equal(seen?.protocol, "TLSv1.3");
    assert.equal(seen?.peerCertificates.length, 2);
    assert.equal(seen?.serverName, "localhost");
    ok.close();

    const reason = new Error("not the server I expected");
    const error = await rejectsWithCode(
      connect(listener.addr.port, {
        verifyPeer: () => {
          throw reason;
        },
      }),
      "VERIFY_REJECTED",
    );
    assert.equal(error.cause, reason);
    // the server never got application data from the rejected client (nor from the other)
    await until(() => serverSaw.length === 2, "the server to finish both connections");
    assert.ok(
      !serverSaw.some((s) => s !== "EOF" && !s.startsWith("error:")),
      JSON.stringify(serverSaw),
    );
    assert.ok(serverSaw.includes("error:ALERT_RECEIVED"), "the rejected client's alert");
  } finally {
    listener.close();
    await serving;
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

test(
  "extraCaCerts adds to the system roots (SSL_CERT_FILE) instead of replacing them",
  async () => {
    const basic = pki();
    const systemSigned = await goServer({ cert: basic.server.certPath, key: basic.server.keyPath });
    const extraSigned = await goServer({
      cert: c.leaves.ecdsaP256.chainPath,
      key: c.leaves.ecdsaP256.keyPath,
    });
    const untrusted = await goServer({
      cert: basic.untrusted.certPath,
      key: basic.untrusted.keyPath,
    });
    try {
      const args = scriptArgs(fixture("extra_roots_connect.ts"), [
        c.rootPath,
        String(systemSigned.port),
        String(extraSigned.port),
        String(untrusted.port),
      ]);
      const stdout = await new Promise<string>((resolve, reject) => {
        execFile(
          process.execPath,
          args,
          { env: { ...process.env, SSL_CERT_FILE: basic.ca.certPath } },
          (error, out, err) => (error ? reject(new Error(`${error} ${err}`)) : resolve(out)),
        );
      });
      const results = stdout.trim().split("\n").map((line) => JSON.parse(line));
      assert.deepEqual(results.map((r) => r.ok), [true, true, false]);
      assert.equal(results[2].code, "UNKNOWN_ISSUER");
    } finally {
      await Promise.all([systemSigned.stop(), extraSigned.stop(), untrusted.stop()]);
    }
  },
  60_000,
);

test("dangerouslyDisableVerification accepts an untrusted, expired server and cannot be mixed", async () => {
  const basic = pki();
  const peer = await goServer({ cert: basic.expired.certPath, key: basic.expired.keyPath });
  try {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port: peer.port,
      dangerouslyDisableVerification: true,
    });
    assert.equal((await conn.handshake()).protocol, "TLSv1.3");
    conn.close();
    await rejectsWithCode(
      connectTls({
        hostname: "127.0.0.1",
        port: peer.port,
        dangerouslyDisableVerification: true,
        caCerts: [c.root],
      }),
      "INVALID_CONFIG",
    );
    // and without it, the same server is refused
    await rejectsWithCode(
      connectTls({ hostname: "127.0.0.1", port: peer.port, caCerts: [basic.ca.cert] }),
      "CERT_EXPIRED",
    );
  } finally {
    await peer.stop();
  }
});

test("describeCertificate summarises names, validity, serial, fingerprint and key", async () => {
  const basic = pki();
  const der = Uint8Array.from(
    atob(basic.server.cert.split("-----")[2].replace(/\s+/g, "")),
    (ch) => ch.charCodeAt(0),
  );
  const summary = await describeCertificate(der);
  assert.equal(summary.subject, "CN=localhost");
  assert.equal(summary.issuer, "CN=rustls-sockets test ca");
  assert.deepEqual(summary.dnsNames, ["localhost"]);
  assert.deepEqual(summary.ipAddresses, ["127.0.0.1", "::1"]);
  assert.ok(summary.notBefore < new Date() && new Date() < summary.notAfter);
  assert.match(summary.serialNumber, /^[0-9a-f]{2}(:[0-9a-f]{2})*$/);
  assert.match(summary.sha256Fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(summary.publicKeyType, "ECDSA P-256");
  await rejectsWithCode(describeCertificate(new Uint8Array([1, 2, 3])), "CERT_INVALID");
});
