// npm:pg against a real PostgreSQL with ssl = on, its TLS made by this
// module: pg's `stream` option gets createSocket() with postgresSslRequest,
// so the SSLRequest and the handshake are ours and pg speaks its protocol
// over the TlsNodeSocket. A query, the server's view of the connection
// (pg_stat_ssl), a 1 MiB row, and a server certificate pg must refuse.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import pg from "pg";
import { createSocket, type NodeTlsError, postgresSslRequest } from "../../node.ts";
import { test } from "../helpers/harness.ts";
import { pki } from "../helpers/pki.ts";
import { type PostgresServer, startPostgres } from "../helpers/postgres.ts";

const p = pki();
// The helper's role with a password (SCRAM-SHA-256 over TLS).
const USER = "tester";
const PASSWORD = "tester-password";

async function withPostgres(fn: (server: PostgresServer) => Promise<void>): Promise<void> {
  const server = await startPostgres({
    certPath: p.server.certPath,
    keyPath: p.server.keyPath,
    caPath: p.ca.certPath,
  });
  try {
    await fn(server);
  } catch (error) {
    throw new Error(`${error}\nPostgreSQL log:\n${server.log().slice(-3000)}`, { cause: error });
  } finally {
    await server.stop();
  }
}

test("pg over createSocket: a query, pg_stat_ssl, a 1 MiB row", async () => {
  await withPostgres(async (server) => {
    const client = new pg.Client({
      host: "localhost",
      port: server.port,
      user: USER,
      password: PASSWORD,
      database: "postgres",
      keepAlive: true,
      stream: () => createSocket({ ca: [p.ca.cert], negotiate: postgresSslRequest }),
    });
    await client.connect();
    try {
      const sum = await client.query<{ sum: number }>("SELECT $1::int + $2::int AS sum", [40, 2]);
      assert.equal(sum.rows[0].sum, 42);
      const ssl = await client.query<{ ssl: boolean; version: string }>(
        "SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()",
      );
      assert.equal(ssl.rows[0].ssl, true, "the server sees TLS");
      assert.match(ssl.rows[0].version, /^TLSv1\.[23]$/);
      const big = await client.query<{ payload: string }>(
        "SELECT repeat('x', 1048576) || md5('tail') AS payload",
      );
      assert.equal(big.rows[0].payload.length, 1048576 + 32);
      assert.ok(big.rows[0].payload.endsWith(createHash("md5").update("tail").digest("hex")));
      // And the other way: a 1 MiB parameter, hashed by the server.
      const value = "y".repeat(1048576);
      const echoed = await client.query<{ length: number; md5: string }>(
        "SELECT length($1::text) AS length, md5($1::text) AS md5",
        [value],
      );
      assert.equal(echoed.rows[0].length, 1048576);
      assert.equal(echoed.rows[0].md5, createHash("md5").update(value).digest("hex"));
    } finally {
      await client.end();
    }
  });
}, 60_000);

test("pg over createSocket: a server certificate for another name is refused", async () => {
  await withPostgres(async (server) => {
    const client = new pg.Client({
      host: "127.0.0.1",
      port: server.port,
      user: USER,
      password: PASSWORD,
      database: "postgres",
      stream: () =>
        createSocket({ ca: [p.ca.cert], servername: "db.other", negotiate: postgresSslRequest }),
    });
    const error = await client.connect().then(
      () => assert.fail("connected despite a certificate for another name"),
      (error: NodeTlsError) => error,
    );
    assert.equal(error.code, "ERR_TLS_CERT_ALTNAME_INVALID", error.message);
    assert.equal(error.tlsCode, "CERT_NAME_MISMATCH");
  });
}, 60_000);
