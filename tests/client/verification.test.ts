// Certificate verification by the client: chains, key types, names, validity, EKU, CRLs, roots.
// Each failure a client can meet gets its own code and says why; which roots count (caCerts
// only, the platform's, extraCaCerts on top of them, none); describeCertificate.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import {
  connectTls,
  type ConnectTlsOptions,
  describeCertificate,
  type TlsConn,
} from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, rejectsWithCode } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { chainPki, type Identity, pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";

const p = pki();
const c = chainPki();

/** Runs `body` against a Go crypto/tls server with `identity` (its chain, or the leaf alone). */
async function withGo(
  identity: Identity,
  body: (port: number) => Promise<void>,
  serveChain = true,
): Promise<void> {
  const peer = await goServer({
    cert: serveChain ? identity.chainPath : identity.certPath,
    key: identity.keyPath,
  });
  try {
    await body(peer.port);
  } finally {
    await peer.stop();
  }
}

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

test("valid chain for localhost and for 127.0.0.1 (IP SAN)", async () => {
  await withGo(p.server, async (port) => {
    for (const hostname of ["localhost", "127.0.0.1"]) {
      const conn = await connectTls({ hostname, port, caCerts: [p.ca.cert] });
      conn.close();
    }
  });
});

test("unknown issuer: UNKNOWN_ISSUER, naming the untrusted issuer", async () => {
  await withGo(p.untrusted, async (port) => {
    const error = await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] }),
      "UNKNOWN_ISSUER",
    );
    assert.match(error.message, /CN=localhost .* is issued by CN=rustls-sockets test other-ca/);
    assert.match(error.message, /the server sent no intermediate/);
  });
});

test("wrong name: CERT_NAME_MISMATCH naming the expected name", async () => {
  await withGo(p.wrongName, async (port) => {
    const error = await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] }),
      "CERT_NAME_MISMATCH",
    );
    assert.match(error.message, /is not valid for "localhost": it is issued for other\.test /);
  });
  // ...and serverName makes the same certificate acceptable
  await withGo(p.wrongName, async (port) => {
    const conn = await connectTls({
      hostname: "127.0.0.1",
      port,
      serverName: "other.test",
      caCerts: [p.ca.cert],
    });
    assert.equal((await conn.handshake()).serverName, "other.test");
    conn.close();
  });
});

test("IP address not in the certificate: CERT_NAME_MISMATCH", async () => {
  await withGo(p.wrongName, async (port) => {
    await rejectsWithCode(
      connectTls({ hostname: "127.0.0.1", port, caCerts: [p.ca.cert] }),
      "CERT_NAME_MISMATCH",
    );
  });
});

test("expired: CERT_EXPIRED, with the certificate and its date", async () => {
  const { notAfter } = await describeCertificate(pemToDer(p.expired.cert));
  await withGo(p.expired, async (port) => {
    const error = await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] }),
      "CERT_EXPIRED",
    );
    assert.ok(
      error.message.includes(
        `CN=localhost (the server's own certificate) expired on ${notAfter.toISOString()}`,
      ),
      error.message,
    );
  });
});

test("not yet valid: CERT_NOT_YET_VALID, with the date it starts", async () => {
  const { notBefore } = await describeCertificate(pemToDer(p.notYetValid.cert));
  await withGo(p.notYetValid, async (port) => {
    const error = await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] }),
      "CERT_NOT_YET_VALID",
    );
    assert.ok(
      error.message.includes(`is valid only from ${notBefore.toISOString()}`),
      error.message,
    );
  });
});

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

test("caCerts means ONLY those roots: another CA is not enough", async () => {
  await withGo(p.server, async (port) => {
    await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.otherCa.cert] }),
      "UNKNOWN_ISSUER",
    );
  });
});

function runPlatformClient(
  port: number,
  env: Record<string, string>,
): Promise<{ ok: boolean; code?: string }> {
  const args = scriptArgs(fixture("platform_connect.ts"), [String(port)]);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      { env: { ...process.env, ...env } },
      (error, stdout, stderr) => {
        const line = stdout.trim().split("\n").pop() ?? "";
        try {
          resolve(JSON.parse(line));
        } catch {
          reject(new Error(`platform client failed: ${error} ${stdout} ${stderr}`));
        }
      },
    );
  });
}

test("platform verifier: system roots reject the test CA; SSL_CERT_FILE adds it", async () => {
  await withGo(p.server, async (port) => {
    const rejected = await runPlatformClient(port, {});
    assert.deepEqual(rejected, { ok: false, code: "UNKNOWN_ISSUER" });
    const accepted = await runPlatformClient(port, { SSL_CERT_FILE: p.ca.certPath });
    assert.equal(accepted.ok, true, JSON.stringify(accepted));
  });
}, 60_000);

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
