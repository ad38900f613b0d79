/**
 * Round-trip latency with many concurrent connections: the module and the
 * runtime's own TLS client, side by side in one run, against the same Go
 * crypto/tls echo server (a separate process). Each connection sends 64
 * bytes and waits for the echo, ROUNDS times.
 *
 *   deno run -A bench/roundtrip.ts [--quick]
 *   bun bench/roundtrip.ts [--quick]
 *
 * Prints p50/p99 per round trip for K = 1 and K = 64 connections and the
 * ratio ours / built-in (below 1.0 = we are faster): medians of REPEATS
 * alternating runs, with the range of one run's p99 ratio. A third row has
 * one connection while FILE_LOOPS loops of `readFile` keep the runtime's
 * thread pool busy (Deno's blocking pool, which its file I/O, DNS and
 * `nonblocking` FFI calls share).
 */
import { readFile, writeFile } from "node:fs/promises";
import { connect as nodeTlsConnect } from "node:tls";
import { connectTls } from "../mod.ts";
import { goServer } from "../tests/helpers/peers.ts";
import { pki } from "../tests/helpers/pki.ts";
import { median, percentile } from "./stats.ts";

const args = "Deno" in globalThis ? Deno.args : process.argv.slice(2);
const quick = args.includes("--quick");
const ROUNDS = quick ? 50 : 2000;
/** Runs per figure, the module's and the built-in's alternating; the table shows medians. */
const REPEATS = quick ? 1 : 3;
/** Concurrent `readFile` loops (of a 256 KiB file) in the busy-pool row. */
const FILE_LOOPS = 64;
const runtime = "Bun" in globalThis ? `Bun ${process.versions.bun}` : `Deno ${Deno.version.deno}`;

interface Pipe {
  roundTrip(message: Uint8Array): Promise<void>;
  close(): void;
}

/** A pipe over anything with Deno-style `read`/`write` (the module's TlsConn, Deno.TlsConn). */
function readerPipe(conn: {
  read(buf: Uint8Array): Promise<number | null>;
  write(buf: Uint8Array): Promise<number>;
  close(): void;
}): Pipe {
  const buf = new Uint8Array(64);
  return {
    async roundTrip(message): Promise<void> {
      await conn.write(message);
      let have = 0;
      while (have < message.length) {
        const n = await conn.read(buf.subarray(have));
        if (n === null) throw new Error("EOF");
        have += n;
      }
    },
    close: () => conn.close(),
  };
}

async function ours(port: number, ca: string): Promise<Pipe> {
  return readerPipe(await connectTls({ hostname: "localhost", port, caCerts: [ca] }));
}

async function builtIn(port: number, ca: string): Promise<Pipe> {
  if ("Deno" in globalThis && !("Bun" in globalThis)) {
    const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
    await conn.handshake();
    return readerPipe(conn);
  }
  const socket = nodeTlsConnect({ host: "localhost", port, ca, servername: "localhost" });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", () => resolve());
    socket.once("error", reject);
  });
  socket.setNoDelay(true);
  let waiting: { need: number; resolve: () => void } | undefined;
  let have = 0;
  socket.on("data", (chunk: Uint8Array) => {
    have += chunk.length;
    if (waiting && have >= waiting.need) {
      have -= waiting.need;
      const done = waiting.resolve;
      waiting = undefined;
      done();
    }
  });
  return {
    roundTrip(message): Promise<void> {
      return new Promise<void>((resolve) => {
        waiting = { need: message.length, resolve };
        socket.write(message);
      });
    },
    close: () => socket.destroy(),
  };
}

async function measure(
  open: (port: number, ca: string) => Promise<Pipe>,
  port: number,
  ca: string,
  connections: number,
  busyFile?: string,
): Promise<{ p50: number; p99: number }> {
  const pipes = await Promise.all(Array.from({ length: connections }, () => open(port, ca)));
  let reading = busyFile !== undefined;
  const fileLoops = Array.from({ length: reading ? FILE_LOOPS : 0 }, async () => {
    while (reading) await readFile(busyFile!);
  });
  if (reading) await new Promise((resolve) => setTimeout(resolve, 50));
  const message = new Uint8Array(64).fill(7);
  const samples: number[] = [];
  for (const pipe of pipes) await pipe.roundTrip(message); // warm up
  await Promise.all(pipes.map(async (pipe) => {
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await pipe.roundTrip(message);
      samples.push(performance.now() - t0);
    }
  }));
  reading = false;
  await Promise.all(fileLoops);
  for (const pipe of pipes) pipe.close();
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5) * 1000, p99: percentile(samples, 0.99) * 1000 };
}

const { ca, server, dir } = pki();
const busyFile = `${dir}/busy.bin`;
await writeFile(busyFile, new Uint8Array(256 * 1024));
const peer = await goServer({ cert: server.certPath, key: server.keyPath });
try {
  console.log(`${runtime}: 64-byte round trips, ${ROUNDS} per connection (µs)`);
  console.log(
    `(medians of ${REPEATS} alternating runs; "p99 runs" = one run's lowest-highest p99 ratio)`,
  );
  console.log(
    "connections | ours p50 | ours p99 | built-in p50 | built-in p99 | ratio p50 | ratio p99 | p99 runs",
  );
  for (const [k, file] of [[1], [64], [1, busyFile]] as [number, string?][]) {
    const a: { p50: number; p99: number }[] = [];
    const b: { p50: number; p99: number }[] = [];
    for (let i = 0; i < REPEATS; i++) {
      a.push(await measure(ours, peer.port, ca.cert, k, file));
      b.push(await measure(builtIn, peer.port, ca.cert, k, file));
    }
    const ratios = a.map((run, i) => run.p99 / b[i].p99);
    const [ap50, ap99, bp50, bp99] = [
      median(a.map((r) => r.p50)),
      median(a.map((r) => r.p99)),
      median(b.map((r) => r.p50)),
      median(b.map((r) => r.p99)),
    ];
    console.log(
      [
        (file ? `${k}, busy pool` : String(k)).padStart(11),
        ap50.toFixed(0).padStart(8),
        ap99.toFixed(0).padStart(8),
        bp50.toFixed(0).padStart(12),
        bp99.toFixed(0).padStart(12),
        (ap50 / bp50).toFixed(2).padStart(9),
        (ap99 / bp99).toFixed(2).padStart(9),
        `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`,
      ].join(" | "),
    );
  }
} finally {
  await peer.stop();
}
