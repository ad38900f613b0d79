// The runtime's own thread pool (Deno: the blocking pool that file I/O, DNS
// and `nonblocking` FFI calls share; Bun: its work pool) must not hold up our
// sockets: readiness comes from the library's own thread, signalled to the
// event loop without a pool thread. Measured before: right after 200
// concurrent `Deno.connectTls` handshakes our next connect took 4.8 s, and
// under 64 `Deno.readFile` loops a round trip's p99 was 468 ms.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { connectTls } from "../mod.ts";
import { runtime, test } from "./helpers/harness.ts";
import { readExactly, text } from "./helpers/io.ts";
import { goServer } from "./helpers/peers.ts";
import { pki } from "./helpers/pki.ts";

const p = pki();
const client = { hostname: "127.0.0.1", serverName: "localhost", caCerts: [p.ca.cert] };
/** More than Deno's blocking pool has threads (32 measured). */
const PARKED = 48;
const PARK_US = 2_000_000;

/**
 * Occupies the runtime's pool. Deno: PARKED `nonblocking` FFI sleeps (each
 * parks one pool thread for PARK_US; `firstDone` settles when the first one
 * ends). Bun has no off-thread FFI calls: PARKED loops of file reads keep its
 * work pool busy until `stop()`.
 */
async function fillPool(): Promise<{ firstDone: () => boolean; stop: () => Promise<void> }> {
  if (runtime === "deno") {
    const libc = Deno.dlopen("libc.so.6", {
      usleep: { parameters: ["u32"], result: "i32", nonblocking: true },
    });
    const sleeps = Array.from({ length: PARKED }, () => libc.symbols.usleep(PARK_US));
    let first = false;
    void Promise.race(sleeps).then(() => first = true);
    return {
      firstDone: () => first,
      stop: async () => {
        await Promise.all(sleeps);
        libc.close();
      },
    };
  }
  const path = `${p.dir}/pool-filler.bin`;
  await writeFile(path, new Uint8Array(4 << 20));
  let running = true;
  const loops = Array.from({ length: PARKED }, async () => {
    while (running) await readFile(path);
  });
  return {
    firstDone: () => !running,
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
      await new Promise((resolve) => setTimeout(resolve, 100));
      // A round trip on a connection made before, and a whole new connection.
      await early.write(text("ping"));
      assert.equal(new TextDecoder().decode(await readExactly(early, 4)), "ping");
      const late = await connectTls({ ...client, port: peer.port });
      for (let i = 0; i < 20; i++) {
        await late.write(text("pong"));
        assert.equal(new TextDecoder().decode(await readExactly(late, 4)), "pong");
      }
      assert.equal(pool.firstDone(), false, "the connections waited for the pool");
      late.close();
    } finally {
      await pool.stop();
    }
    early.close();
  } finally {
    await peer.stop();
  }
});
