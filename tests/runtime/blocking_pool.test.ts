// The runtime's own thread pool, full, must not hold up our handshakes or round trips.
// Deno: the blocking pool that file I/O, DNS and `nonblocking` FFI calls
// share; Bun: its work pool. Readiness comes from the library's own thread,
// signalled to the event loop without a pool thread. Measured with a wait on
// a pool thread: right after 200 concurrent `Deno.connectTls` handshakes our
// next connect took 4.8 s, and under 64 `Deno.readFile` loops a round trip's
// p99 was 468 ms.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { connectTls } from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { readExactly, text } from "../helpers/io.ts";
import { goServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
/** More than Deno's blocking pool has threads (32 measured). */
const PARKED = 48;
const PARK_US = 2_000_000;

/**
 * Occupies the runtime's pool; `check()` asserts that the pool stayed busy
 * and that nothing had to wait for it. Deno: PARKED `nonblocking` FFI sleeps
 * (each parks one pool thread for PARK_US), then one more call that must not
 * have run (else the pool was not full and the test would prove nothing).
 * Bun has no off-thread FFI calls: PARKED loops of file reads keep its work
 * pool busy until `stop()`, and must have completed reads meanwhile (one CI
 * run completed only 13 reads of a 4 MiB file in 0.36 s; the file is 1 MiB).
 */
async function fillPool(): Promise<{ check: () => void; stop: () => Promise<void> }> {
  if (runtime === "deno") {
    const libc = Deno.dlopen("libc.so.6", {
      usleep: { parameters: ["u32"], result: "i32", nonblocking: true },
    });
    const sleeps = Array.from({ length: PARKED }, () => libc.symbols.usleep(PARK_US));
    let firstDone = false;
    void Promise.race(sleeps).then(() => firstDone = true);
    await new Promise((resolve) => setTimeout(resolve, 100));
    let canaryDone = false;
    const canary = libc.symbols.usleep(1).then(() => canaryDone = true);
    return {
      check: () => {
        assert.equal(canaryDone, false, "the pool was not full: this test proves nothing");
        assert.equal(firstDone, false, "the connections waited for the pool");
      },
      stop: async () => {
        await Promise.all([...sleeps, canary]);
        libc.close();
      },
    };
  }
  const path = `${p.dir}/pool-filler.bin`;
  await writeFile(path, new Uint8Array(1 << 20));
  let running = true;
  let reads = 0;
  const loops = Array.from({ length: PARKED }, async () => {
    while (running) {
      await readFile(path);
      reads++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const before = reads;
  return {
    check: () => assert.ok(reads > before, "no file read completed meanwhile: the pool was idle"),
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}

test("a full thread pool of the runtime holds up neither handshakes nor round trips", async () => {
  const peer = await goServer({ cert: p.server.certPath, key: p.server.keyPath });
  try {
    const early = await connectTls({ ...client, port: peer.port });
    const pool = await fillPool();
    try {
      // A round trip on a connection made before, and a whole new connection.
      await early.write(text("ping"));
      assert.equal(new TextDecoder().decode(await readExactly(early, 4)), "ping");
      const late = await connectTls({ ...client, port: peer.port });
      for (let i = 0; i < 20; i++) {
        await late.write(text("pong"));
        assert.equal(new TextDecoder().decode(await readExactly(late, 4)), "pong");
      }
      pool.check();
      late.close();
    } finally {
      await pool.stop();
    }
    early.close();
  } finally {
    await peer.stop();
  }
});
