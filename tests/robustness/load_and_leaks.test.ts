// Load and leaks: concurrent connections, a 10,000-cycle soak, every native object freed.
// 200 and 1,000 concurrent connections; objects freed by close() and by the GC backstop.
import assert from "node:assert/strict";
import { connectTls, listenTls, liveNativeObjects, type LiveObjects } from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { readExactly, str, text } from "../helpers/io.ts";
import {
  collectGarbage,
  fdCount,
  liveObjectsWhen,
  steadyFdCount,
  steadyLiveObjects,
} from "../helpers/live.ts";
import { goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { answerServer, ask } from "../helpers/server.ts";
import { pollUntil } from "../helpers/wait.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
const serverIdentity = { cert: p.server.cert, key: p.server.key };

function rss(): number {
  return process.memoryUsage().rss;
}

test("200 concurrent clients, 0 errors", async () => {
  const server = await answerServer(serverIdentity);
  try {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) => ask(server.port, {}, `client ${i}`)),
    );
    assert.deepEqual(answers.map((a) => a.answer), answers.map((_, i) => `echo:client ${i}`));
    await server.finished(200);
    assert.equal(server.errors.length, 0);
  } finally {
    server.close();
  }
}, 60_000);

test("1,000 concurrent connections echoing, 0 errors", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const results = await Promise.allSettled(Array.from({ length: 1000 }, async (_, i) => {
      const conn = await connectTls({ ...client, port: peer.port });
      const message = `#${i}`.padEnd(64, ".");
      await conn.write(text(message));
      const echoed = str(await readExactly(conn, 64));
      conn.close();
      if (echoed !== message) throw new Error(`connection ${i} got ${echoed}`);
    }));
    const failed = results.filter((r) => r.status === "rejected");
    assert.equal(failed.length, 0, JSON.stringify(failed.slice(0, 3)));
  } finally {
    await peer.stop();
  }
}, 120_000);

test(
  "soak: 10,000 connect/handshake/close cycles; fds, native objects and RSS return to baseline",
  async () => {
    const server = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      cert: p.server.cert,
      key: p.server.key,
    });
    const serving = (async () => {
      for await (const conn of server) conn.handshake().catch(() => {}).finally(() => conn.close());
    })();
    try {
      const run = async (cycles: number): Promise<void> => {
        const lanes = 8;
        let next = 0;
        await Promise.all(Array.from({ length: lanes }, async () => {
          while (next++ < cycles) {
            const conn = await connectTls({ ...client, port: server.addr.port });
            await conn.handshake();
            conn.close();
          }
        }));
      };
      // The JS heap grows to a working size over the first thousands of
      // cycles (how far depends on the tests that ran before); a leak keeps
      // growing after that. So: warm up, then compare two equal halves.
      await run(2_000);
      const objects = await steadyLiveObjects();
      const before = { fds: await steadyFdCount(), objects, rss: rss() };
      const cycles = 10_000;
      const back = (now: LiveObjects): boolean =>
        now.connections === before.objects.connections &&
        now.clientConfigs === before.objects.clientConfigs;
      await run(cycles / 2);
      await liveObjectsWhen(back);
      const middle = rss();
      await run(cycles / 2);
      const afterObjects = await liveObjectsWhen(back);
      const afterFds = await pollUntil(fdCount, (fds) => fds <= before.fds + 2);
      const after = { fds: afterFds, objects: afterObjects, rss: rss() };
      console.log(
        `soak (${runtime}): ${cycles} cycles; fds ${before.fds} -> ${after.fds}; ` +
          `connections ${before.objects.connections} -> ${after.objects.connections}; ` +
          `client configs ${before.objects.clientConfigs} -> ${after.objects.clientConfigs}; ` +
          `RSS ${(before.rss / 2 ** 20).toFixed(1)} -> ${(middle / 2 ** 20).toFixed(1)} -> ${
            (after.rss / 2 ** 20).toFixed(1)
          } MiB`,
      );
      assert.ok(after.fds <= before.fds + 2, `fds ${before.fds} -> ${after.fds}`);
      assert.equal(after.objects.connections, before.objects.connections);
      assert.equal(after.objects.clientConfigs, before.objects.clientConfigs);
      // 5,000 cycles leaking even 4 KiB each would add 20 MiB.
      assert.ok(
        after.rss - middle < 16 * 2 ** 20,
        "RSS grew by 16 MiB or more over the second 5,000 cycles",
      );
    } finally {
      server.close();
      await serving;
    }
  },
  180_000,
);

test("every native object is freed: live counts return to their baseline; close() is idempotent", async () => {
  const before = await steadyLiveObjects();
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: p.server.cert,
    key: p.server.key,
  });
  const accepted = listener.accept().then(async (c) => (await c.handshake(), c));
  const conn = await connectTls({ ...client, port: listener.addr.port });
  const serverConn = await accepted;
  const during = await liveNativeObjects();
  assert.equal(during.connections, before.connections + 2);
  assert.equal(during.serverConfigs, before.serverConfigs + 1);
  conn.close();
  conn.close();
  serverConn.close();
  listener.close();
  listener.close();
  const after = await liveObjectsWhen((now) =>
    now.connections === before.connections && now.serverConfigs === before.serverConfigs
  );
  assert.equal(after.connections, before.connections);
  assert.equal(after.serverConfigs, before.serverConfigs);
});

test(
  "a connection and a listener dropped without close() are freed by the GC backstop",
  async () => {
    assert.ok(
      collectGarbage(),
      "tests run with a callable GC (deno --v8-flags=--expose-gc, Bun.gc)",
    );
    const objects = await steadyLiveObjects();
    const before = { objects, fds: await steadyFdCount() };
    await (async () => {
      const listener = await listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: p.server.cert,
        key: p.server.key,
      });
      // the server side handshakes while the client connects
      const accepted = listener.accept().then((c) => c.handshake());
      const conn = await connectTls({ ...client, port: listener.addr.port });
      await accepted;
      void conn;
    })();
    // liveObjectsWhen collects garbage before each reading
    const after = await liveObjectsWhen((now) =>
      now.connections === before.objects.connections &&
      now.serverConfigs === before.objects.serverConfigs
    );
    assert.equal(after.connections, before.objects.connections);
    assert.equal(after.serverConfigs, before.objects.serverConfigs);
    const fds = await pollUntil(fdCount, (n) => n <= before.fds + 1);
    assert.ok(fds <= before.fds + 1, `fds ${before.fds} -> ${fds}`);
  },
  60_000,
);
