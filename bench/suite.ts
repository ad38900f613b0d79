/**
 * The module against the runtime's own TLS, side by side in one run and one
 * process (client and server on loopback), as the built-ins were measured
 * for the issue: bulk throughput (one way and echo) per cipher suite, full
 * and resumed handshakes per second with 1 and 16 clients (and one client
 * with the default options, by name), and memory per idle connection (each
 * figure from a fresh process). Prints a table of figures and ratios
 * (ours / built-in).
 *
 *   deno run -A bench/suite.ts [--quick] [--json]
 *   bun bench/suite.ts [--quick] [--json]
 *
 * `--quick` shrinks every measurement so CI can prove the benchmark still
 * runs; its figures mean nothing. Never fails on speed.
 *
 * @module
 */
import { connect as nodeTlsConnect, createServer as nodeTlsServer, type TLSSocket } from "node:tls";
import process from "node:process";
import type { Buffer } from "node:buffer";
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connectTls, listenTls, type TlsConn } from "../mod.ts";
import { pki } from "../tests/helpers/pki.ts";
import { median } from "./stats.ts";

const args = "Deno" in globalThis ? Deno.args : process.argv.slice(2);
const quick = args.includes("--quick");
const isBun = "Bun" in globalThis;
const runtime = isBun ? `Bun ${process.versions.bun}` : `Deno ${Deno.version.deno}`;
const builtInName = isBun ? "node:tls" : "Deno.connectTls";

const BULK_BYTES = (quick ? 8 : 256) * 2 ** 20;
const ECHO_BYTES = (quick ? 4 : 64) * 2 ** 20;
const CHUNK = 64 * 1024;
const HANDSHAKE_MS = quick ? 300 : 1_000;
/**
 * Each figure is the median of this many runs, the module's and the
 * built-in's alternating, so drift on a noisy machine hits both alike.
 */
const REPEATS = quick ? 1 : 5;
const IDLE_CONNECTIONS = quick ? 50 : 1_000;
/** RSS per idle connection: runs per implementation, each in a fresh process. */
const MEMORY_REPEATS = quick ? 1 : 3;
/** `--idle-memory=ours|built-in`: the child that measures one RSS figure and prints it. */
const idleMemoryOnly = args.find((a) => a.startsWith("--idle-memory="))?.slice(
  "--idle-memory=".length,
);

const p = pki();
const cert = p.server.cert;
const key = p.server.key;
const ca = p.ca.cert;

/** A suite as rustls names it, and as OpenSSL/BoringSSL (node:tls) names it. */
interface Suite {
  label: string;
  rustls: string;
  openssl: string;
  tls12: boolean;
}

const SUITES: Suite[] = [
  {
    label: "TLS 1.3 AES-128-GCM",
    rustls: "TLS13_AES_128_GCM_SHA256",
    openssl: "TLS_AES_128_GCM_SHA256",
    tls12: false,
  },
  {
    label: "TLS 1.3 AES-256-GCM",
    rustls: "TLS13_AES_256_GCM_SHA384",
    openssl: "TLS_AES_256_GCM_SHA384",
    tls12: false,
  },
  {
    label: "TLS 1.3 ChaCha20-Poly1305",
    rustls: "TLS13_CHACHA20_POLY1305_SHA256",
    openssl: "TLS_CHACHA20_POLY1305_SHA256",
    tls12: false,
  },
  {
    label: "TLS 1.2 ECDHE-ECDSA-AES128-GCM",
    rustls: "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    openssl: "ECDHE-ECDSA-AES128-GCM-SHA256",
    tls12: true,
  },
];

/** One client/server pair, whatever the implementation. */
interface Duplex {
  read(buf: Uint8Array): Promise<number | null>;
  write(data: Uint8Array): Promise<unknown>;
  close(): void;
}

/** A server and a way to connect to it, for one implementation and suite. */
interface Side {
  /** Connects a client; resolves once its handshake is done. */
  connect(): Promise<Duplex>;
  /** The next accepted server connection (after its handshake). */
  accept(): Promise<Duplex>;
  /**
   * From now on the server handshakes every connection on its own (in
   * parallel), writes one byte when resumable (so tickets reach the client)
   * and closes it; `accept` is no longer used.
   */
  serveAndClose(): void;
  close(): void;
}

/** Adapts a node:tls socket to read/write. */
function nodeDuplex(socket: TLSSocket): Duplex {
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  socket.on("data", (c: Uint8Array) => {
    chunks.push(c);
    wake?.();
  });
  socket.on("end", () => {
    ended = true;
    wake?.();
  });
  socket.on("error", () => {
    ended = true;
    wake?.();
  });
  return {
    async read(buf: Uint8Array): Promise<number | null> {
      for (;;) {
        const c = chunks.shift();
        if (c) {
          const n = Math.min(c.length, buf.length);
          buf.set(c.subarray(0, n));
          if (n < c.length) chunks.unshift(c.subarray(n));
          return n;
        }
        if (ended) return null;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    },
    write(data: Uint8Array): Promise<void> {
      return new Promise<void>((resolve) => {
        if (socket.write(data)) resolve();
        else socket.once("drain", resolve);
      });
    },
    close: () => socket.destroy(),
  };
}

/** Handshakes every connection of `listener` in parallel (one byte when resumable), then closes it. */
function serveAndClose(
  listener: AsyncIterable<
    { handshake(): Promise<unknown>; write(b: Uint8Array): Promise<unknown>; close(): void }
  >,
  resumable: boolean,
): void {
  (async () => {
    for await (const conn of listener) {
      conn.handshake()
        .then(() => (resumable ? conn.write(new Uint8Array(1)) : 0))
        .catch(() => {})
        .finally(() => conn.close());
    }
  })().catch(() => {});
}

/**
 * `defaults`: the client as a user writes it, with the default options (the
 * preferred X25519MLKEM768 share) and the name "localhost" (the resolver).
 */
async function oursSide(suite?: Suite, resumable = false, defaults = false): Promise<Side> {
  const suites = suite ? [suite.rustls] : undefined;
  // The issue's handshake figures are X25519 (the built-ins' default); ours prefers X25519MLKEM768.
  const groups = suite || defaults ? undefined : ["X25519"];
  const version = suite?.tls12 ? "TLSv1.2" as const : undefined;
  const listener = await listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert,
    key,
    cipherSuites: suites,
    maxVersion: version,
  });
  const port = listener.addr.port;
  return {
    async connect(): Promise<Duplex> {
      const conn = await connectTls({
        hostname: defaults ? "localhost" : "127.0.0.1",
        port,
        serverName: defaults ? undefined : "localhost",
        caCerts: [ca],
        cipherSuites: suites,
        keyExchangeGroups: groups,
        maxVersion: version,
      });
      if (resumable) {
        // Take the server's tickets (they follow the handshake) so the next connection resumes.
        await conn.read(new Uint8Array(1));
        if ((await conn.handshake()).resumed) resumedCount++;
      }
      return conn;
    },
    async accept(): Promise<Duplex> {
      const conn: TlsConn = await listener.accept();
      await conn.handshake();
      if (resumable) await conn.write(new Uint8Array(1));
      return conn;
    },
    serveAndClose: () => serveAndClose(listener, resumable),
    close: () => listener.close(),
  };
}

/** `defaults`: as for {@link oursSide} (Deno's client always connects by name). */
async function builtInSide(
  suite?: Suite,
  resumable = false,
  defaults = false,
): Promise<Side | undefined> {
  if (!isBun) {
    if (resumable) return undefined; // Deno's client has no session resumption (deno#30305)
    // Deno's own TLS chooses no suite or version, and has no client resumption.
    if (suite && suite.rustls !== "TLS13_AES_256_GCM_SHA384") return undefined;
    const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
    const port = listener.addr.port;
    return {
      async connect(): Promise<Duplex> {
        const conn = await Deno.connectTls({ hostname: "localhost", port, caCerts: [ca] });
        await conn.handshake();
        if (resumable) await conn.read(new Uint8Array(1));
        return conn;
      },
      async accept(): Promise<Duplex> {
        const conn = await listener.accept();
        await conn.handshake();
        if (resumable) await conn.write(new Uint8Array(1));
        return conn;
      },
      serveAndClose: () => serveAndClose(listener, resumable),
      close: () => listener.close(),
    };
  }
  const accepted: TLSSocket[] = [];
  const waiting: ((s: TLSSocket) => void)[] = [];
  let closing = false;
  const server = nodeTlsServer({
    cert,
    key,
    ...(suite?.tls12
      ? { ciphers: suite.openssl, maxVersion: "TLSv1.2" as const }
      : suite
      ? { ciphers: suite.openssl }
      : {}),
  }, (socket) => {
    if (resumable) socket.write(new Uint8Array(1));
    if (closing) {
      socket.on("error", () => {});
      socket.end();
      return;
    }
    const w = waiting.shift();
    if (w) w(socket);
    else accepted.push(socket);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  let session: Buffer | undefined;
  return {
    async connect(): Promise<Duplex> {
      const socket = nodeTlsConnect({
        host: defaults ? "localhost" : "127.0.0.1",
        port,
        ca,
        servername: defaults ? undefined : "localhost",
        session: resumable ? session : undefined,
        ...(suite?.tls12
          ? { ciphers: suite.openssl, maxVersion: "TLSv1.2" as const }
          : suite
          ? { ciphers: suite.openssl }
          : {}),
      });
      if (resumable) socket.once("session", (s: Buffer) => (session = s));
      await new Promise<void>((resolve, reject) => {
        socket.once("secureConnect", resolve);
        socket.once("error", reject);
      });
      const duplex = nodeDuplex(socket);
      if (resumable) await duplex.read(new Uint8Array(1));
      return duplex;
    },
    accept(): Promise<Duplex> {
      const socket = accepted.shift();
      if (socket) return Promise.resolve(nodeDuplex(socket));
      return new Promise<Duplex>((resolve) => waiting.push((x) => resolve(nodeDuplex(x))));
    },
    serveAndClose(): void {
      closing = true;
    },
    close: () => server.close(),
  };
}

/** Reads and discards `bytes` bytes. */
async function drain(from: Duplex, bytes: number): Promise<void> {
  const buf = new Uint8Array(CHUNK * 2);
  for (let got = 0; got < bytes;) {
    const n = await from.read(buf);
    if (n === null) throw new Error("EOF before all bytes arrived");
    got += n;
  }
}

/** MB/s for `bytes` one way: client writes, server reads. */
async function oneWay(side: Side, bytes: number): Promise<number> {
  const [client, server] = await Promise.all([side.connect(), side.accept()]);
  const data = new Uint8Array(CHUNK);
  crypto.getRandomValues(data);
  const rate = await timedTransfer(client, server, data, bytes);
  client.close();
  server.close();
  return rate;
}

/** MB/s for `client` writing `bytes` (in `data`-sized chunks) until `receiver` read them all. */
async function timedTransfer(
  client: Duplex,
  receiver: Duplex,
  data: Uint8Array,
  bytes: number,
): Promise<number> {
  const started = performance.now();
  const reading = drain(receiver, bytes);
  for (let sent = 0; sent < bytes; sent += data.length) await client.write(data);
  await reading;
  return bytes / 1e6 / ((performance.now() - started) / 1000);
}

/** MB/s of echoed bytes: the server sends back all it reads. */
async function echo(side: Side, bytes: number): Promise<number> {
  const [client, server] = await Promise.all([side.connect(), side.accept()]);
  const echoing = (async () => {
    const buf = new Uint8Array(CHUNK);
    for (;;) {
      const n = await server.read(buf);
      if (n === null) return;
      await server.write(buf.slice(0, n));
    }
  })().catch(() => {});
  const rate = await timedTransfer(client, client, new Uint8Array(CHUNK), bytes);
  client.close();
  server.close();
  await echoing;
  return rate;
}

/** Handshakes per second with `clients` concurrent loops for HANDSHAKE_MS. */
async function handshakes(side: Side, clients: number): Promise<number> {
  let done = 0;
  const until = performance.now() + HANDSHAKE_MS;
  side.serveAndClose();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (performance.now() < until) {
        const conn = await side.connect();
        conn.close();
        done++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  return done / seconds;
}

function rssNow(): number {
  const gc = (globalThis as { gc?: () => void }).gc ??
    (isBun
      ? () => (globalThis as unknown as { Bun: { gc(b: boolean): void } }).Bun.gc(true)
      : undefined);
  gc?.();
  return process.memoryUsage().rss;
}

/** KiB of RSS per idle connection (client and server side together). */
async function idleMemory(side: Side): Promise<number> {
  const open = async (count: number): Promise<Duplex[]> => {
    const held: Duplex[] = [];
    for (let i = 0; i < count; i += 50) {
      const group = Math.min(50, count - i);
      const clients = Promise.all(Array.from({ length: group }, () => side.connect()));
      for (let j = 0; j < group; j++) held.push(await side.accept()); // one accept at a time (Deno)
      held.push(...await clients);
    }
    return held;
  };
  // Warm up (code paths, pools, the heap's working size), then measure.
  for (const d of await open(quick ? 10 : 100)) d.close();
  await new Promise((resolve) => setTimeout(resolve, 200));
  const before = rssNow();
  const held = await open(IDLE_CONNECTIONS);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const after = rssNow();
  for (const d of held) d.close();
  return (after - before) / 1024 / IDLE_CONNECTIONS;
}

interface Row {
  metric: string;
  /** Medians. */
  ours: number;
  builtIn: number | null;
  /** Lowest and highest ratio of one run's pair (ours / built-in). */
  ratioRange: [number, number] | null;
  unit: string;
  note?: string;
}

const rows: Row[] = [];
/** Resumed handshakes the module's client saw (a check that resumption really happened). */
let resumedCount = 0;
const fmt = (n: number | null): string => (n === null ? "n/a" : n.toFixed(n < 10 ? 2 : 0));

async function measure(
  metric: string,
  unit: string,
  suite: Suite | undefined,
  run: (side: Side) => Promise<number>,
  { resumable = false, defaults = false, note, repeats = REPEATS }: {
    resumable?: boolean;
    /** Clients with the default options, by name (see {@link oursSide}). */
    defaults?: boolean;
    note?: string;
    repeats?: number;
  } = {},
): Promise<void> {
  const ours: number[] = [];
  const builtIn: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const ourSide = await oursSide(suite, resumable, defaults);
    try {
      ours.push(await run(ourSide));
    } finally {
      ourSide.close();
    }
    const theirSide = await builtInSide(suite, resumable, defaults);
    if (!theirSide) continue;
    try {
      builtIn.push(await run(theirSide));
    } finally {
      theirSide.close();
    }
    ratios.push(ours[i] / builtIn[i]);
  }
  addRow(metric, unit, ours, builtIn, ratios, note);
}

/** Adds the row of these runs' figures (medians, one run's ratio range) and logs the runs. */
function addRow(
  metric: string,
  unit: string,
  ours: number[],
  builtIn: number[],
  ratios: number[],
  note?: string,
): void {
  rows.push({
    metric,
    ours: median(ours),
    builtIn: builtIn.length > 0 ? median(builtIn) : null,
    ratioRange: ratios.length > 0 ? [Math.min(...ratios), Math.max(...ratios)] : null,
    unit,
    note,
  });
  if (!args.includes("--json")) {
    console.error(
      `  ${metric}: ${ours.map(fmt).join(" ")} vs ${builtIn.map(fmt).join(" ") || "n/a"} ${unit}`,
    );
  }
}

/**
 * RSS per idle connection, each figure from a fresh process running only
 * that measurement: in the process that ran the rows before it, the heaps'
 * state (what bulk transfers and GC left) moves an RSS delta by more than
 * the connections themselves (it even came out negative).
 */
function measureIdleMemory(): void {
  const script = fileURLToPath(import.meta.url);
  const inChild = (which: "ours" | "built-in"): number => {
    const flags = [`--idle-memory=${which}`, ...(quick ? ["--quick"] : [])];
    const argv = isBun
      ? [script, ...flags]
      : ["run", "-A", "--v8-flags=--expose-gc", script, ...flags];
    const out = execFileSync(process.execPath, argv, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    const kib = Number(out.trim().split("\n").pop());
    if (!Number.isFinite(kib)) throw new Error(`the RSS child printed no figure: ${out}`);
    return kib;
  };
  const ours: number[] = [];
  const builtIn: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < MEMORY_REPEATS; i++) {
    // The order flips every run.
    if (i % 2 === 0) {
      ours.push(inChild("ours"));
      builtIn.push(inChild("built-in"));
    } else {
      builtIn.push(inChild("built-in"));
      ours.push(inChild("ours"));
    }
    ratios.push(ours[i] / builtIn[i]);
  }
  addRow(
    "RSS per idle connection (client + server)",
    "KiB",
    ours,
    builtIn,
    ratios,
    `medians of ${MEMORY_REPEATS}, each a fresh process`,
  );
}

if (idleMemoryOnly !== undefined) {
  const side = idleMemoryOnly === "ours" ? await oursSide() : await builtInSide();
  if (!side) throw new Error(`no side named ${idleMemoryOnly}`);
  const kib = await idleMemory(side);
  side.close();
  console.log(String(kib));
  process.exit(0);
}

console.error(`bench/suite.ts on ${runtime}${quick ? " (quick: figures mean nothing)" : ""}`);
for (const suite of SUITES) {
  await measure(`bulk one way, ${suite.label}`, "MB/s", suite, (s) => oneWay(s, BULK_BYTES));
}
for (const suite of SUITES.slice(0, 1)) {
  await measure(`bulk echo, ${suite.label}`, "MB/s", suite, (s) => echo(s, ECHO_BYTES));
}
await measure("full handshakes/s, 1 client", "/s", undefined, (s) => handshakes(s, 1));
await measure(
  "full handshakes/s, 1 client, default options",
  "/s",
  undefined,
  (s) => handshakes(s, 1),
  { defaults: true, note: 'hostname "localhost", X25519MLKEM768 preferred' },
);
await measure("full handshakes/s, 16 clients", "/s", undefined, (s) => handshakes(s, 16));
await measure("resumed handshakes/s, 1 client", "/s", undefined, (s) => handshakes(s, 1), {
  resumable: true,
  note: isBun ? undefined : "Deno's client cannot resume",
});
console.error(`  (the module's client resumed ${resumedCount} handshakes)`);
measureIdleMemory();
{
  // The resumption target compares the module with itself: full against resumed.
  const full = rows.find((r) => r.metric === "full handshakes/s, 1 client")!;
  const resumed = rows.find((r) => r.metric === "resumed handshakes/s, 1 client")!;
  rows.push({
    metric: "resumed / full handshakes/s, ours",
    ours: resumed.ours / full.ours,
    builtIn: resumed.builtIn !== null && full.builtIn ? resumed.builtIn / full.builtIn : null,
    ratioRange: null,
    unit: "x",
    note: "medians; the target is >= 2x for the module",
  });
}

if (args.includes("--json")) {
  console.log(JSON.stringify({ runtime, quick, rows }, null, 2));
} else {
  const width = Math.max(...rows.map((r) => r.metric.length));
  console.log(`\n${runtime}: the module vs ${builtInName}, one process, loopback`);
  console.log(`(medians of ${REPEATS} alternating runs; "runs" = lowest-highest ratio of one run)`);
  console.log(
    `${"metric".padEnd(width)} | ${"ours".padStart(8)} | ${"built-in".padStart(8)} | ratio | ${
      "runs".padEnd(9)
    } | unit`,
  );
  for (const r of rows) {
    const ratio = r.builtIn ? (r.ours / r.builtIn).toFixed(2) : "-";
    const range = r.ratioRange
      ? `${r.ratioRange[0].toFixed(2)}-${r.ratioRange[1].toFixed(2)}`
      : "-";
    console.log(
      `${r.metric.padEnd(width)} | ${fmt(r.ours).padStart(8)} | ${fmt(r.builtIn).padStart(8)} | ${
        ratio.padStart(5)
      } | ${range.padEnd(9)} | ${r.unit}${r.note ? ` (${r.note})` : ""}`,
    );
  }
}
process.exit(0);
