/**
 * The module against the runtime's own TLS with the peer in another process:
 * the Go load tool (`bench/peers/go-load`, Go crypto/tls) is the server for
 * the client rows (a source, a sink, an echo server) and the load generator
 * for the server rows (parallel handshake loops, 64-byte round trips). The
 * module's and the built-in's runs alternate (the order flips every run);
 * each figure is the median of REPEATS runs, with the range of one run's
 * ratio (ours / built-in) beside it, and beside each throughput, round-trip
 * and handshake row the process CPU time (`process.cpuUsage()`, user +
 * system, all threads) per MiB, round trip or handshake.
 *
 *   deno run -A --unstable-net bench/peer.ts [--quick] [--only=<name>[,<name>...]]
 *   bun bench/peer.ts [--quick] [--only=<name>[,<name>...]]
 *
 * The built-ins are `Deno.connectTls` / `Deno.listenTls` in Deno and
 * `node:tls` in Bun. `--unstable-net` lets `Deno.listenTls` take `reusePort`
 * (the Worker rows); without it those rows have no built-in figure.
 * `--quick` shrinks every measurement to one tiny run so CI can prove the
 * benchmark runs; its figures mean nothing. `--only` runs just the rows whose
 * name (as printed on stderr: "download", "client round trips", ...) contains
 * one of the given texts, for A/B runs of one change. Never fails on speed.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import { availableParallelism, loadavg } from "node:os";
import process from "node:process";
import { connect as nodeTlsConnect, type TLSSocket } from "node:tls";
import { connectTls } from "../mod.ts";
import { pki } from "../tests/helpers/pki.ts";
import {
  goHandshakes,
  type GoLoadServer,
  goLoadServer,
  goRoundTrips,
  type HandshakeCounts,
  removeGoLoad,
} from "./go_load.ts";
import { builtInReusePort, type Implementation, serve, writeAll } from "./peer_servers.ts";
import type { StartMessage } from "./peer_worker.ts";
import { median, percentile } from "./stats.ts";

const args = "Deno" in globalThis ? Deno.args : process.argv.slice(2);
const quick = args.includes("--quick");
/** `--only=a,b`: the texts a row's name must contain one of (none: every row). */
const only = args.find((a) => a.startsWith("--only="))?.slice("--only=".length).split(",") ?? [];
const isBun = "Bun" in globalThis;
const runtime = isBun ? `Bun ${process.versions.bun}` : `Deno ${Deno.version.deno}`;
const builtInName = isBun ? "node:tls" : "Deno.connectTls / Deno.listenTls";

/** Runs per figure, the module's and the built-in's alternating. */
const REPEATS = quick ? 1 : 3;
const MiB = 2 ** 20;
/** Bytes per download and per upload. */
const TRANSFER_BYTES = (quick ? 4 : 256) * MiB;
const CHUNK = 64 * 1024;
/** How long the client's sequential handshakes run, per run. */
const CLIENT_HANDSHAKE_MS = quick ? 300 : 2_000;
/** How long the Go handshake loops run against a server, per run. */
const SERVER_HANDSHAKE_S = quick ? 0.3 : 3;
const GO_LOOPS = 16;
const CONNECTIONS = 64;
/** Round trips per connection. */
const ROUNDS = quick ? 20 : 2_000;
const MESSAGE = new Uint8Array(64).fill(7);

const p = pki();
const cert = p.server.cert;
const key = p.server.key;
const ca = p.ca.cert;
const caPath = p.ca.certPath;

// ---- clients ----------------------------------------------------------------

/** One client connection to a Go server, whatever the implementation. */
interface ClientConn {
  /** Asks the Go source for `bytes` bytes and reads them all. */
  download(bytes: number): Promise<void>;
  /** Sends the Go sink `bytes` bytes (`CHUNK` at a time) and waits for its ack. */
  upload(bytes: number, chunk: Uint8Array): Promise<void>;
  /** Sends `message` to the Go echo server and reads it back. */
  roundTrip(message: Uint8Array): Promise<void>;
  close(): void;
}

/** The 8-byte big-endian count the Go source and sink start with. */
function header(bytes: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(bytes));
  return out;
}

/** A client over Deno-style `read`/`write` (the module's TlsConn, Deno.TlsConn). */
function readerConn(conn: {
  read(buf: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<number>;
  close(): void;
}): ClientConn {
  const buf = new Uint8Array(2 * CHUNK);
  const readAtLeast = async (bytes: number): Promise<void> => {
    for (let got = 0; got < bytes;) {
      const n = await conn.read(bytes - got < buf.length ? buf.subarray(0, bytes - got) : buf);
      if (n === null) throw new Error("EOF before all bytes arrived");
      got += n;
    }
  };
  return {
    async download(bytes): Promise<void> {
      await writeAll(conn, header(bytes));
      await readAtLeast(bytes);
    },
    async upload(bytes, chunk): Promise<void> {
      await writeAll(conn, header(bytes));
      for (let sent = 0; sent < bytes; sent += chunk.length) await writeAll(conn, chunk);
      await readAtLeast(1);
    },
    async roundTrip(message): Promise<void> {
      await writeAll(conn, message);
      await readAtLeast(message.length);
    },
    close: () => conn.close(),
  };
}

/** A client over a node:tls socket, used as node:tls is used: events and `drain`. */
function nodeConn(socket: TLSSocket): ClientConn {
  let got = 0;
  let need = 0;
  let wake: (() => void) | undefined;
  let failed: Error | undefined;
  socket.on("data", (chunk: Uint8Array) => {
    got += chunk.length;
    if (wake && got >= need) {
      got -= need;
      const done = wake;
      wake = undefined;
      done();
    }
  });
  const fail = (error: Error): void => {
    failed = error;
    wake?.();
  };
  socket.on("error", fail);
  socket.on("end", () => fail(new Error("EOF before all bytes arrived")));
  const expect = (bytes: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (failed) return reject(failed);
      if (got >= bytes) {
        got -= bytes;
        return resolve();
      }
      need = bytes;
      wake = () => (failed ? reject(failed) : resolve());
    });
  const write = (data: Uint8Array): Promise<void> =>
    socket.write(data)
      ? Promise.resolve()
      : new Promise((resolve) => socket.once("drain", resolve));
  return {
    async download(bytes): Promise<void> {
      const all = expect(bytes);
      socket.write(header(bytes));
      await all;
    },
    async upload(bytes, chunk): Promise<void> {
      const ack = expect(1);
      socket.write(header(bytes));
      for (let sent = 0; sent < bytes; sent += chunk.length) await write(chunk);
      await ack;
    },
    roundTrip(message): Promise<void> {
      const echoed = expect(message.length);
      socket.write(message);
      return echoed;
    },
    // end(), not destroy(): in Bun, "secureConnect" can come before the client's Finished
    // left, and destroy() would drop it (the server's handshake would then fail).
    close: () => socket.end(),
  };
}

/** How a client connects, beside the defaults (an IP literal, every key exchange group). */
interface ConnectVariant {
  /** Connect to "localhost" through the resolver (/etc/hosts) instead of "127.0.0.1". */
  byName?: boolean;
  /** Offer X25519 only (the default prefers X25519MLKEM768). */
  x25519?: boolean;
}

/** Connects to the Go server on `port` and completes the handshake. */
async function connect(
  implementation: Implementation,
  port: number,
  variant: ConnectVariant = {},
): Promise<ClientConn> {
  const host = variant.byName ? "localhost" : "127.0.0.1";
  if (implementation === "ours") {
    const conn = await connectTls({
      hostname: host,
      port,
      serverName: "localhost",
      caCerts: [ca],
      ...(variant.x25519 ? { keyExchangeGroups: ["X25519"] } : {}),
    });
    await conn.handshake();
    return readerConn(conn);
  }
  if (!isBun) {
    // Deno.connectTls has no serverName option: it verifies the host against the IP SAN (or
    // the name), and no key exchange option (the X25519 row has no built-in figure here).
    const conn = await Deno.connectTls({ hostname: host, port, caCerts: [ca] });
    await conn.handshake();
    return readerConn(conn);
  }
  const socket = nodeTlsConnect({
    host,
    port,
    ca,
    servername: "localhost",
    ...(variant.x25519 ? { ecdhCurve: "X25519" } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("secureConnect", resolve);
    socket.once("error", reject);
  });
  socket.setNoDelay(true);
  return nodeConn(socket);
}

// ---- measuring --------------------------------------------------------------

/** The machine's busy CPU time so far, in seconds (/proc/stat, in USER_HZ = 100 ticks/s). */
function machineBusySeconds(): number {
  const [, user, nice, system, , , irq, softirq, steal] = readFileSync("/proc/stat", "utf8")
    .split("\n")[0].trim().split(/\s+/).map(Number);
  return (user + nice + system + irq + softirq + steal) / 100;
}

/** CPU seconds the Go processes reported (clients as they end, servers at the end). */
let goCpuSeconds = 0;

/** Process CPU time (user + system, every thread) in ms. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/** The figures of one run, by key. */
type Figures = Record<string, number>;

/** One line of the table, drawn from a key of each run's figures. */
interface LineSpec {
  key: string;
  metric: string;
  unit: string;
  /** The key of the CPU figure shown beside it, and its unit. */
  cpu?: { key: string; unit: string };
}

interface Line {
  metric: string;
  unit: string;
  ours: number[];
  builtIn: number[];
  cpu?: { unit: string; ours: number[]; builtIn: number[] };
  note?: string;
}

const lines: Line[] = [];
/** Key exchange groups seen by the Go side, per implementation and role. */
const groups: Record<string, Record<string, number>> = {};
/** Handshakes the Go side saw fail, per implementation, with the first error. */
const handshakeErrors: Record<Implementation, { count: number; first?: string }> = {
  ours: { count: 0 },
  "built-in": { count: 0 },
};
const fmt = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? "n/a" : n.toFixed(Math.abs(n) < 10 ? 2 : 0);

function tally(implementation: Implementation, role: string, counts: HandshakeCounts): void {
  const into = (groups[`${implementation} as ${role}`] ??= {});
  for (const [group, n] of Object.entries(counts.groups ?? {})) {
    into[group] = (into[group] ?? 0) + n;
  }
  const errors = handshakeErrors[implementation];
  errors.count += counts.errors;
  errors.first ??= counts.firstError;
}

/**
 * Runs `run` REPEATS times for each implementation, alternating (the order
 * flips every run), and adds `specs`' lines to the table.
 */
async function compare(
  name: string,
  specs: LineSpec[],
  run: (implementation: Implementation) => Promise<Figures>,
  { builtIn = true, note }: { builtIn?: boolean; note?: string } = {},
): Promise<void> {
  if (only.length > 0 && !only.some((text) => name.includes(text))) return;
  const runs: Record<Implementation, Figures[]> = { ours: [], "built-in": [] };
  for (let i = 0; i < REPEATS; i++) {
    const order: Implementation[] = i % 2 === 0 ? ["ours", "built-in"] : ["built-in", "ours"];
    for (const implementation of order) {
      if (implementation === "built-in" && !builtIn) continue;
      runs[implementation].push(await run(implementation));
    }
  }
  const show = (f: Figures[]): string =>
    f.map((r) => Object.values(r).map(fmt).join("/")).join(" ") || "n/a";
  const legend = Object.keys(runs.ours[0] ?? {}).join("/");
  console.error(`  ${name} (${legend}): ours ${show(runs.ours)} vs ${show(runs["built-in"])}`);
  for (const spec of specs) {
    const line: Line = {
      metric: spec.metric,
      unit: spec.unit,
      ours: runs.ours.map((r) => r[spec.key]),
      builtIn: runs["built-in"].map((r) => r[spec.key]),
      note: spec === specs[0] ? note : undefined,
    };
    if (spec.cpu) {
      const cpuKey = spec.cpu.key;
      line.cpu = {
        unit: spec.cpu.unit,
        ours: runs.ours.map((r) => r[cpuKey]),
        builtIn: runs["built-in"].map((r) => r[cpuKey]),
      };
    }
    lines.push(line);
  }
}

/** Runs `body` against a Go server, tallying what the server saw of the handshakes. */
async function againstGo(
  server: GoLoadServer,
  implementation: Implementation,
  body: () => Promise<Figures>,
): Promise<Figures> {
  await server.stats(); // from zero
  const figures = await body();
  const counts = await server.stats();
  tally(implementation, "client", counts);
  if (counts.errors > 0) {
    console.error(`    ${implementation}: ${counts.errors} failed (${counts.firstError})`);
  }
  return figures;
}

async function transfer(
  server: GoLoadServer,
  implementation: Implementation,
  direction: "download" | "upload",
): Promise<Figures> {
  return await againstGo(server, implementation, async () => {
    const conn = await connect(implementation, server.port);
    const chunk = new Uint8Array(CHUNK);
    crypto.getRandomValues(chunk);
    const cpu0 = cpuMs();
    const t0 = performance.now();
    if (direction === "download") await conn.download(TRANSFER_BYTES);
    else await conn.upload(TRANSFER_BYTES, chunk);
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs() - cpu0;
    conn.close();
    return { rate: TRANSFER_BYTES / 1e6 / seconds, cpu: cpu / (TRANSFER_BYTES / MiB) };
  });
}

async function sequentialHandshakes(
  server: GoLoadServer,
  implementation: Implementation,
  variant: ConnectVariant = {},
): Promise<Figures> {
  return await againstGo(server, implementation, async () => {
    let done = 0;
    const cpu0 = cpuMs();
    const t0 = performance.now();
    while (performance.now() - t0 < CLIENT_HANDSHAKE_MS) {
      (await connect(implementation, server.port, variant)).close();
      done++;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { rate: done / seconds, cpu: (cpuMs() - cpu0) * 1000 / done };
  });
}

async function clientRoundTrips(
  server: GoLoadServer,
  implementation: Implementation,
): Promise<Figures> {
  return await againstGo(server, implementation, async () => {
    const conns = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => connect(implementation, server.port)),
    );
    for (const conn of conns) await conn.roundTrip(MESSAGE); // warm up
    const samples: number[] = [];
    const cpu0 = cpuMs();
    const t0 = performance.now();
    await Promise.all(conns.map(async (conn) => {
      for (let i = 0; i < ROUNDS; i++) {
        const started = performance.now();
        await conn.roundTrip(MESSAGE);
        samples.push(performance.now() - started);
      }
    }));
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuMs() - cpu0;
    for (const conn of conns) conn.close();
    samples.sort((a, b) => a - b);
    return {
      rate: samples.length / seconds,
      cpu: cpu * 1000 / samples.length,
      p50: percentile(samples, 0.5) * 1000,
      p99: percentile(samples, 0.99) * 1000,
    };
  });
}

async function serverHandshakes(port: number, implementation: Implementation): Promise<Figures> {
  const cpu0 = cpuMs();
  const result = await goHandshakes(port, caPath, GO_LOOPS, SERVER_HANDSHAKE_S);
  const cpu = cpuMs() - cpu0;
  goCpuSeconds += result.cpuSeconds;
  tally(implementation, "server", result);
  if (result.errors > 0) {
    console.error(`    ${implementation}: ${result.errors} failed (${result.firstError})`);
  }
  if (result.handshakes === 0) throw new Error(`no handshake completed: ${result.firstError}`);
  return {
    rate: result.rate,
    cpu: cpu * 1000 / result.handshakes,
    goCpus: result.cpuSeconds / result.seconds,
  };
}

async function serverRoundTrips(implementation: Implementation): Promise<Figures> {
  const serving = await serve(implementation, { mode: "echo", cert, key, port: 0 });
  try {
    const cpu0 = cpuMs();
    const result = await goRoundTrips(serving.port, caPath, CONNECTIONS, ROUNDS);
    const cpu = cpuMs() - cpu0;
    goCpuSeconds += result.cpuSeconds;
    tally(implementation, "server", result);
    return {
      rate: result.rate,
      cpu: cpu * 1000 / result.roundTrips,
      p50: result.p50us,
      p99: result.p99us,
    };
  } finally {
    await serving.close();
  }
}

/** Sends `message` to `worker` and waits for the answer of type `expect`. */
function ask<T>(worker: Worker, message: unknown, expect: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    worker.onmessage = (event: MessageEvent) => {
      if (event.data?.type === expect) resolve(event.data as T);
      else reject(new Error(`worker: ${event.data?.message ?? JSON.stringify(event.data)}`));
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      reject(new Error(`worker: ${event.message}`));
    };
    worker.postMessage(message);
  });
}

/** `count` Workers, each listening with reusePort on one port; the Go loops against them. */
async function workerHandshakes(implementation: Implementation, count: number): Promise<Figures> {
  const workers: Worker[] = [];
  let port = 0;
  try {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(new URL("./peer_worker.ts", import.meta.url), { type: "module" });
      workers.push(worker);
      const start: StartMessage = { type: "start", implementation, cert, key, port };
      port = (await ask<{ port: number }>(worker, start, "listening")).port;
    }
    return await serverHandshakes(port, implementation);
  } finally {
    const accepted: number[] = [];
    for (const worker of workers) {
      const stopped = await ask<{ accepted: number }>(worker, { type: "stop" }, "stopped")
        .catch(() => ({ accepted: NaN }));
      accepted.push(stopped.accepted);
      worker.terminate();
    }
    console.error(`    ${implementation}, connections per Worker: ${accepted.join(" + ")}`);
  }
}

// ---- the rows ---------------------------------------------------------------

console.error(`bench/peer.ts on ${runtime}${quick ? " (quick: figures mean nothing)" : ""}`);
const source = await goLoadServer("source", p.server.certPath, p.server.keyPath);
const sink = await goLoadServer("sink", p.server.certPath, p.server.keyPath);
const echo = await goLoadServer("echo", p.server.certPath, p.server.keyPath);
const started = performance.now();
const machine0 = machineBusySeconds();
const ownCpu0 = cpuMs();
try {
  // Warm up: the library, the configurations, the code paths.
  for (const implementation of ["ours", "built-in"] as const) {
    const conn = await connect(implementation, echo.port);
    await conn.roundTrip(MESSAGE);
    conn.close();
  }
  await echo.stats();

  const mib = TRANSFER_BYTES / MiB;
  const throughput = (metric: string): LineSpec[] => [
    { key: "rate", metric, unit: "MB/s", cpu: { key: "cpu", unit: "CPU ms/MiB" } },
  ];
  const handshakeRate = (metric: string): LineSpec[] => [
    { key: "rate", metric, unit: "/s", cpu: { key: "cpu", unit: "CPU µs/handshake" } },
  ];
  const roundTrips = (metric: string): LineSpec[] => [
    { key: "rate", metric: `${metric}, rate`, unit: "/s", cpu: { key: "cpu", unit: "CPU µs/rt" } },
    { key: "p50", metric: `${metric}, p50`, unit: "µs" },
    { key: "p99", metric: `${metric}, p99`, unit: "µs" },
  ];

  await compare(
    "download",
    throughput(`client download, ${mib} MiB`),
    (i) => transfer(source, i, "download"),
  );
  await compare(
    "upload",
    throughput(`client upload, ${mib} MiB`),
    (i) => transfer(sink, i, "upload"),
  );
  await compare(
    "sequential handshakes",
    handshakeRate("client sequential full handshakes"),
    (i) => sequentialHandshakes(echo, i),
  );
  await compare(
    "sequential handshakes by name",
    handshakeRate('client sequential full handshakes, hostname "localhost" (resolver)'),
    (i) => sequentialHandshakes(echo, i, { byName: true }),
  );
  await compare(
    "sequential handshakes X25519",
    handshakeRate("client sequential full handshakes, X25519 only"),
    (i) => sequentialHandshakes(echo, i, { x25519: true }),
    {
      builtIn: isBun,
      note: isBun ? undefined : "Deno.connectTls cannot choose the key exchange group",
    },
  );
  await compare(
    "client round trips",
    roundTrips(`client ${CONNECTIONS} conns x 64 B round trips`),
    (i) => clientRoundTrips(echo, i),
  );
  await compare(
    "server handshakes",
    handshakeRate(`server handshakes, Go client ${GO_LOOPS} loops`),
    async (i) => {
      const serving = await serve(i, { mode: "handshake", cert, key, port: 0 });
      try {
        return await serverHandshakes(serving.port, i);
      } finally {
        await serving.close();
      }
    },
  );
  await compare(
    "server round trips",
    roundTrips(`server ${CONNECTIONS} conns x 64 B round trips from Go`),
    serverRoundTrips,
  );
  for (const count of [1, 2]) {
    await compare(
      `${count} worker(s)`,
      handshakeRate(
        `server handshakes, ${count} Worker${
          count > 1 ? "s" : ""
        } (reusePort), Go ${GO_LOOPS} loops`,
      ),
      (i) => workerHandshakes(i, count),
      {
        builtIn: builtInReusePort(),
        note: builtInReusePort() ? undefined : "Deno.listenTls needs --unstable-net for reusePort",
      },
    );
  }

  // Go against Go on the same machine: what the load tool reaches without JS.
  const goHs = await goHandshakes(echo.port, caPath, GO_LOOPS, SERVER_HANDSHAKE_S);
  const goRt = await goRoundTrips(echo.port, caPath, CONNECTIONS, ROUNDS);
  goCpuSeconds += goHs.cpuSeconds + goRt.cpuSeconds;
  for (const server of [source, sink, echo]) goCpuSeconds += (await server.stats()).cpuSeconds;
  const seconds = (performance.now() - started) / 1000;
  const others = machineBusySeconds() - machine0 - goCpuSeconds - (cpuMs() - ownCpu0) / 1000;

  // ---- the table --------------------------------------------------------------
  const width = Math.max(...lines.map((l) => l.metric.length));
  console.log(`\n${runtime}: the module vs ${builtInName}, the peer in another process (Go)`);
  console.log(`(medians of ${REPEATS} alternating runs; ratio = ours / built-in, above 1 is`);
  console.log(`better for /s and MB/s, worse for µs; "runs" = lowest-highest ratio of one run)`);
  console.log(
    `${"metric".padEnd(width)} | ${"ours".padStart(7)} | ${"built-in".padStart(8)} | ratio | ${
      "runs".padEnd(11)
    } | unit | CPU ours | CPU built-in`,
  );
  for (const l of lines) {
    const ours = median(l.ours);
    const builtIn = l.builtIn.length > 0 ? median(l.builtIn) : undefined;
    const ratios = l.builtIn.map((b, i) => l.ours[i] / b);
    const ratio = builtIn !== undefined ? (ours / builtIn).toFixed(2) : "-";
    const range = ratios.length > 0
      ? `${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}`
      : "-";
    const cpu = l.cpu
      ? ` | ${fmt(median(l.cpu.ours)).padStart(8)} | ${
        (l.cpu.builtIn.length > 0 ? fmt(median(l.cpu.builtIn)) : "n/a").padStart(12)
      } ${l.cpu.unit}`
      : "";
    console.log(
      `${l.metric.padEnd(width)} | ${fmt(ours).padStart(7)} | ${fmt(builtIn).padStart(8)} | ${
        ratio.padStart(5)
      } | ${range.padEnd(11)} | ${l.unit.padEnd(4)}${cpu}${l.note ? ` (${l.note})` : ""}`
        .trimEnd(),
    );
  }
  console.log(
    `Go client against the Go server: ${goHs.rate.toFixed(0)} handshakes/s (${GO_LOOPS} loops), ${
      goRt.rate.toFixed(0)
    } round trips/s p50 ${goRt.p50us.toFixed(0)} / p99 ${goRt.p99us.toFixed(0)} µs`,
  );
  const groupText = Object.entries(groups).map(([who, g]) =>
    `${who}: ${Object.entries(g).map(([name, n]) => `${name} ${n}`).join(", ") || "(unknown)"}`
  );
  console.log(`key exchange groups (as the Go side saw them): ${groupText.join("; ")}`);
  const failed = (e: { count: number; first?: string }): string =>
    `${e.count}${e.first ? ` (first: ${e.first})` : ""}`;
  console.log(
    `handshakes the Go side saw fail: ours ${failed(handshakeErrors.ours)}, built-in ${
      failed(handshakeErrors["built-in"])
    }`,
  );
  console.log(
    `${seconds.toFixed(0)} s on ${availableParallelism()} CPUs; other processes on the machine ` +
      `used ${
        Math.max(0, others / seconds).toFixed(2)
      } CPUs on average meanwhile (load average now ${
        loadavg().map((l) => l.toFixed(2)).join(" ")
      })`,
  );
} finally {
  await Promise.all([source.stop(), sink.stop(), echo.stop()]);
  removeGoLoad();
}
process.exit(0);
