// Certificate verification: each failure a client can meet gets its own code.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { connectTls, describeCertificate } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { pemToDer, rejectsWithCode } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { type Identity, pki } from "../helpers/pki.ts";
import { fixture, scriptArgs } from "../helpers/scripts.ts";

const p = pki();

async function withServer(
  identity: Identity,
  body: (port: number) => Promise<void>,
): Promise<void> {
  const peer = await goServer({ cert: identity.certPath, key: identity.keyPath });
  try {
    await body(peer.port);
  } finally {
    await peer.stop();
  }
}

test("valid chain for localhost and for 127.0.0.1 (IP SAN)", async () => {
  await withServer(p.server, async (port) => {
    for (const hostname of ["localhost", "127.0.0.1"]) {
      const conn = await connectTls({ hostname, port, caCerts: [p.ca.cert] });
      conn.close();
    }
  });
});

test("unknown issuer: UNKNOWN_ISSUER, naming the untrusted issuer", async () => {
  await withServer(p.untrusted, async (port) => {
    const error = await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] }),
      "UNKNOWN_ISSUER",
    );
    assert.match(error.message, /CN=localhost .* is issued by CN=rustls-sockets test other-ca/);
    assert.match(error.message, /the server sent no intermediate/);
  });
});

test("wrong name: CERT_NAME_MISMATCH naming the expected name", async () => {
  await withServer(p.wrongName, async (port) => {
    const error = await rejectsWithCode(
      connectTls({ hostname: "localhost", port, caCerts: [p.ca.cert] }),
      "CERT_NAME_MISMATCH",
    );
    assert.match(error.message, /is not valid for "localhost": it is issued for other\.test /);
  });
  // ...and serverName makes the same certificate acceptable
  await withServer(p.wrongName, async (port) => {
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
  await withServer(p.wrongName, async (port) => {
    await rejectsWithCode(
      connectTls({ hostname: "127.0.0.1", port, caCerts: [p.ca.cert] }),
      "CERT_NAME_MISMATCH",
    );
  });
});

test("expired: CERT_EXPIRED, with the certificate and its date", async () => {
  const { notAfter } = await describeCertificate(pemToDer(p.expired.cert));
  await withServer(p.expired, async (port) => {
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
  await withServer(p.notYetValid, async (port) => {
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

test("caCerts means ONLY those roots: another CA is not enough", async () => {
  await withServer(p.server, async (port) => {
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
  await withServer(p.server, async (port) => {
    const rejected = await runPlatformClient(port, {});
    assert.deepEqual(rejected, { ok: false, code: "UNKNOWN_ISSUER" });
    const accepted = await runPlatformClient(port, { SSL_CERT_FILE: p.ca.certPath });
    assert.equal(accepted.ok, true, JSON.stringify(accepted));
  });
}, 60_000);
