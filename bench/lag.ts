/**
 * Event-loop lag while TLS handshakes run: 200 full handshakes are kept in
 * flight (each one that finishes starts the next) for a few seconds while a
 * 1 ms interval timer records how late each tick fires; the p99 of that
 * delay is the lag. The module and the runtime's own TLS client are measured
 * in the same run against the same Go crypto/tls server (a separate
 * process), then the module's client against the module's own server in
 * this process (both sides' handshakes on this event loop). Each row is
 * the median of REPEATS runs in a row, with the range of the runs' p99.
 *
 *   deno run -A bench/lag.ts [--quick]      bun bench/lag.ts [--quick]
 */
import { connect as nodeTlsConnect } from "node:tls";
import { connectTls, listenTls } from "../mod.ts";
import { goServer } from "../tests/helpers/peers.ts";
import { pki } from "../tests/helpers/pki.ts";
import { median, percentile } from "./stats.ts";

const args = "Deno" in globalThis ? Deno.args : process.argv.slice(2);
const quick = args.includes("--quick");
/** Handshakes kept in flight. */
const IN_FLIGHT = quick ? 20 : 200;
const DURATION_MS = quick ? 300 : 2000;
/** Runs per scenario (the Go rows alternate); the table shows medians and the p99 range. */
const REPEATS = quick ? 1 : 3;
const runtime = "Bun" in globalThis ? `Bun ${process.versions.bun}` : `Deno ${Deno.version.deno}`;
const isDeno = !("Bun" in globalThis);

interface Lag {
  p50: number;
  p99: number;
  max: number;
  ms: number;
  done: number;
}

/** Keeps IN_FLIGHT handshakes going for DURATION_MS while sampling a 1 ms timer's delay. */
async function lagDuring(one: () => Promise<void>): Promise<Lag> {
  const delays: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    delays.push(Math.max(0, now - last - 1));
    last = now;
  }, 1);
  const started = performance.now();
  let done = 0;
  const lane = async (): Promise<void> => {
    while (performance.now() - started < DURATION_MS) {
      await one();
      done++;
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
  const ms = performance.now() - started;
  clearInterval(timer);
  delays.sort((a, b) => a - b);
  return {
    p50: percentile(delays, 0.5),
    p99: percentile(delays, 0.99),
    max: delays[delays.length - 1] ?? 0,
    ms,
    done,
  };
}

async function oursTo(port: number, ca: string): Promise<void> {
  const conn = await connectTls({
    hostname: "127.0.0.1",
    port,
    serverName: "localhost",
    caCerts: [ca],
  });
  conn.close();
}

async function builtInTo(port: number, ca: string): Promise<void> {
  if (isDeno) {
    const conn = await Deno.connectTls({ hostname: "127.0.0.1", port, caCerts: [ca] });
    await conn.handshake();
    conn.close();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const socket = nodeTlsConnect({ host: "127.0.0.1", port, ca, servername: "localhost" }, () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
}

function row(name: string, runs: Lag[]): string {
  const p99s = runs.map((r) => r.p99);
  const rate = median(runs.map((r) => r.done / (r.ms / 1000))).toFixed(0);
  const range = `${Math.min(...p99s).toFixed(2)}-${Math.max(...p99s).toFixed(2)}`;
  return `${name.padEnd(44)} | ${median(runs.map((r) => r.p50)).toFixed(2).padStart(6)} | ${
    median(p99s).toFixed(2).padStart(6)
  } | ${range.padStart(11)} | ${Math.max(...runs.map((r) => r.max)).toFixed(2).padStart(7)} | ${
    rate.padStart(6)
  }`;
}

const { ca, server } = pki();
const go = await goServer({ cert: server.certPath, key: server.keyPath });
try {
  console.log(
    `${runtime}: event-loop lag (1 ms timer delay, ms) with ${IN_FLIGHT} full handshakes in flight`,
  );
  console.log(`(medians of ${REPEATS} runs; "p99 runs" = the runs' lowest-highest p99)`);
  console.log(`${"scenario".padEnd(44)} |    p50 |    p99 |    p99 runs |     max |   hs/s`);
  // Deno.connectTls verifies "127.0.0.1" against the IP SAN (it has no serverName option).
  const runs: [string, () => Promise<void>][] = [
    ["module client -> Go server", () => oursTo(go.port, ca.cert)],
    [
      `${isDeno ? "Deno.connectTls" : "node:tls"} client -> Go server`,
      () => builtInTo(go.port, ca.cert),
    ],
  ];
  // Alternated, so that drift on a noisy machine hits both alike. (Deno's
  // blocking pool stays busy for seconds after 200 concurrent Deno.connectTls
  // handshakes; the module's readiness does not depend on that pool.)
  for (const [, one] of runs) await one(); // warm up (library load, configuration)
  const results: Lag[][] = runs.map(() => []);
  for (let i = 0; i < REPEATS; i++) {
    for (const [at, [, one]] of runs.entries()) results[at].push(await lagDuring(one));
  }
  for (const [at, [name]] of runs.entries()) console.log(row(name, results[at]));
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: server.cert,
    key: server.key,
  });
  const serving = (async () => {
    for await (const conn of listener) {
      conn.handshake().catch(() => {}).finally(() => conn.close());
    }
  })();
  const local = (): Promise<void> => oursTo(listener.addr.port, ca.cert);
  await local();
  const localRuns: Lag[] = [];
  for (let i = 0; i < REPEATS; i++) localRuns.push(await lagDuring(local));
  console.log(row("module client -> module server (one process)", localRuns));
  listener.close();
  await serving;
  console.log(`(${DURATION_MS} ms of load per run; target: the module's p99 <= 5 ms)`);
} finally {
  await go.stop();
}
