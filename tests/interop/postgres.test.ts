// PostgreSQL from Debian with ssl = on: the real protocol over our STARTTLS.
// SSLRequest on a plain connection, startTls, startup, SCRAM-SHA-256, SELECT 1;
// then mTLS with clientcert=verify-full; then SCRAM-SHA-256-PLUS with
// tls-server-end-point channel binding computed from the peer certificate.
import assert from "node:assert/strict";
import { connect, startTls, type StartTlsOptions, type TlsConn } from "../../mod.ts";
import { test } from "../helpers/harness.ts";
import { makeLeaf, pki } from "../helpers/pki.ts";
import {
  type PostgresServer,
  sslRequest,
  startPostgres,
  startup,
  tlsServerEndPoint,
} from "../helpers/postgres.ts";

const p = pki();

/** A client certificate for the role `certuser` (PostgreSQL matches CN to the role). */
function certUserIdentity(): { cert: string; key: string } {
  const { cert, key } = makeLeaf(p.dir, {
    name: "certuser",
    ca: "ca",
    cn: "certuser",
    san: "DNS:certuser.test",
    eku: "clientAuth",
  });
  return { cert, key };
}

let server: Promise<PostgresServer> | undefined;
let users = 0;

/** One server for the file's tests; stopped by the last one. */
async function withPostgres(fn: (pg: PostgresServer) => Promise<void>): Promise<void> {
  users++;
  server ??= startPostgres({
    certPath: p.server.certPath,
    keyPath: p.server.keyPath,
    caPath: p.ca.certPath,
  });
  const pg = await server;
  try {
    await fn(pg);
  } catch (error) {
    throw new Error(`${error}\nPostgreSQL log:\n${pg.log().slice(-3000)}`, { cause: error });
  } finally {
    if (--users === 0) {
      server = undefined;
      await pg.stop();
    }
  }
}

/** SSLRequest on a plaintext connection, then the TLS upgrade. */
async function upgrade(pg: PostgresServer, options: Partial<StartTlsOptions>): Promise<TlsConn> {
  const plain = await connect({ hostname: "127.0.0.1", port: pg.port });
  assert.equal(await sslRequest(plain), "S", "the server agrees to TLS");
  return await startTls(plain, { serverName: "localhost", caCerts: [p.ca.cert], ...options });
}

test("PostgreSQL: SSLRequest, startTls, SCRAM-SHA-256, SELECT 1", async () => {
  await withPostgres(async (pg) => {
    const conn = await upgrade(pg, {});
    const info = await conn.handshake();
    assert.equal(info.protocol, "TLSv1.3");
    const session = await startup(conn, {
      user: "tester",
      password: "tester-password",
      database: "postgres",
    });
    assert.equal(session.mechanism, "SCRAM-SHA-256");
    assert.deepEqual(await session.query("SELECT 1"), [["1"]]);
    const [[ssl, version]] = await session.query(
      "SELECT ssl::text, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert.deepEqual([ssl, version], ["true", "TLSv1.3"], "the server sees TLS");
    await session.terminate();
    conn.close();

    const wrong = await upgrade(pg, {});
    await assert.rejects(
      startup(wrong, { user: "tester", password: "not-it", database: "postgres" }),
      /password authentication failed/,
    );
    wrong.close();
  });
}, 60_000);

test("PostgreSQL: clientcert=verify-full (mTLS) admits the certificate's role only", async () => {
  await withPostgres(async (pg) => {
    const identity = certUserIdentity();
    const conn = await upgrade(pg, identity);
    const session = await startup(conn, {
      user: "certuser",
      password: "certuser-password",
      database: "certdb",
    });
    const [[cn]] = await session.query(
      "SELECT client_dn FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
    );
    assert.equal(cn, "/CN=certuser");
    await session.terminate();
    conn.close();

    // Without a certificate the verify-full line refuses the role.
    const bare = await upgrade(pg, {});
    await assert.rejects(
      startup(bare, { user: "certuser", password: "certuser-password", database: "certdb" }),
      /certificate|pg_hba|authentication/i,
    );
    bare.close();
  });
}, 60_000);

test(
  "PostgreSQL: SCRAM-SHA-256-PLUS with tls-server-end-point from the peer certificate",
  async () => {
    await withPostgres(async (pg) => {
      const conn = await upgrade(pg, {});
      const info = await conn.handshake();
      const binding = await tlsServerEndPoint(info.peerCertificates[0]);
      const session = await startup(conn, {
        user: "tester",
        password: "tester-password",
        database: "postgres",
        channelBinding: binding,
      });
      assert.equal(session.mechanism, "SCRAM-SHA-256-PLUS");
      assert.deepEqual(await session.query("SELECT 40 + 2"), [["42"]]);
      await session.terminate();
      conn.close();

      // A wrong binding (as a man in the middle would present) is refused.
      const other = await upgrade(pg, {});
      const forged = new Uint8Array(binding.length).fill(7);
      await assert.rejects(
        startup(other, {
          user: "tester",
          password: "tester-password",
          database: "postgres",
          channelBinding: forged,
        }),
        /channel binding|SCRAM|authentication/i,
      );
      other.close();
    });
  },
  60_000,
);
