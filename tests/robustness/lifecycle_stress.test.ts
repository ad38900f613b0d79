// Lifecycle stress: thousands of random interleavings of the whole API, nothing left behind.
/**
 * Lifecycle stress: thousands of randomly chosen, concurrently running
 * scenarios against the module's own client and server on 127.0.0.1, in
 * Deno and in Bun. Each scenario mixes connect, accept, handshake, echoed
 * reads and writes (a few bytes to 2 MiB), `close()` at random points
 * (the server's before and during the handshake, both sides' after it, with
 * reads or writes pending),
 * `signal` aborts and per-operation deadlines, handshake timeouts (a silent
 * or half-hello raw TCP client against a listener with a short
 * `handshakeTimeout`, a client against a TCP server that never answers, an
 * async `resolveCertificate` or `verifyPeer` slower than the timeout),
 * listener `close()` while handshakes and connections are in flight, SNI
 * through `sni` and an async `resolveCertificate` choosing among more
 * certificates than the listener caches (bursts of concurrent handshakes
 * with distinct names while the cache evicts), and connections dropped
 * without `close()` (freed by the FinalizationRegistry backstop; forced GCs
 * run during and after the run).
 *
 * Every outcome must be one the API promises: a value, or a `TlsError` whose
 * code fits what happened (`CLOSED` after our close, `ABORTED` after our
 * abort, `TIMED_OUT` after a deadline, `UNEXPECTED_EOF` or `CONNECTION_RESET`
 * when the peer went away, ...); echoed bytes must be the bytes sent; the
 * certificate must be the one the name asks for; deadlines must hold. At the
 * end everything is closed and the test waits (polling, with a deadline)
 * until `liveNativeObjects()` and the process's fd count are back to their
 * baseline. Unexpected outcomes are collected (the run goes on) and fail the
 * test with the seed.
 *
 * Environment: `STRESS_SEED` (replays a run: each scenario's choices derive
 * from the seed and its index), `STRESS_ITERATIONS` (scenario count),
 * `STRESS_KINDS` (comma-separated scenario kinds to run, default all; see
 * `WEIGHTS`), `STRESS_LEAVES` (distinct certificates for `resolveCertificate`,
 * default 96: more than the 64 a listener caches). Deno needs
 * `--v8-flags=--expose-gc` for the GC backstop part.
 */
import assert from "node:assert/strict";
import { connect as netConnect } from "node:net";
import process from "node:process";
import {
  type CertificateAndKey,
  type ClientHelloInfo,
  connectTls,
  type ConnectTlsOptions,
  type HandshakeInfo,
  listenTls,
  type ListenTlsOptions,
  liveNativeObjects,
  type LiveObjects,
  type TlsConn,
  TlsError,
  type TlsListener,
} from "../../mod.ts";
import { runtime, test } from "../helpers/harness.ts";
import { equalBytes } from "../helpers/io.ts";
import { collectGarbage, fdCount } from "../helpers/live.ts";
import { type SilentServer, silentServer } from "../helpers/peers.ts";
import { type ManyCerts, manyCerts, type StressLeaf } from "../helpers/pki.ts";

// ---------------------------------------------------------------------------
// Parameters

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be an integer`);
  return value;
}

/** Scenario kinds and their relative weights. */
const WEIGHTS = {
  /** Client session against the strict echo listener: ops, aborts, closes. */
  echo: 34,
  /** Client session against the chaos listener (the server misbehaves at random). */
  chaos: 16,
  /** Like `echo`/`chaos`, but the client connection is dropped without close(). */
  drop: 6,
  /** Many concurrent handshakes with distinct names on a private listener closed meanwhile. */
  burst: 3,
  /** Raw TCP client, silent or half a ClientHello, against the short-timeout listener. */
  silentRaw: 6,
  /** resolveCertificate slower than the listener's handshakeTimeout. */
  slowResolve: 1,
  /** connectTls against a TCP server that never answers (handshakeTimeout and/or signal). */
  silentServer: 6,
  /** verifyPeer slower than the client's handshakeTimeout, throwing, or passing. */
  slowVerify: 4,
  /** A name resolveCertificate has no certificate for: the default's name does not match. */
  wrongName: 3,
  /** resolveCertificate throws. */
  resolveThrows: 2,
  /** A forced GC in the middle of everything. */
  gc: 2,
  /** New shared listeners; the old ones close while their connections run. */
  rotate: 1,
};
type Kind = keyof typeof WEIGHTS;

const SEED = (() => {
  const raw = process.env.STRESS_SEED;
  if (raw === undefined || raw === "") return crypto.getRandomValues(new Uint32Array(1))[0];
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error("STRESS_SEED must be an integer");
  return value >>> 0;
})();
const ITERATIONS = envInt("STRESS_ITERATIONS", 6000);
const LEAF_COUNT = Math.max(1, envInt("STRESS_LEAVES", 96));
const KINDS: Kind[] = (() => {
  const raw = process.env.STRESS_KINDS;
  const all = Object.keys(WEIGHTS) as Kind[];
  if (raw === undefined || raw === "") return all;
  const chosen = raw.split(",").map((s) => s.trim()).filter((s) => s !== "");
  for (const kind of chosen) {
    if (!all.includes(kind as Kind)) throw new Error(`STRESS_KINDS: unknown kind ${kind}`);
  }
  return chosen as Kind[];
})();

/** Scenarios running at once (each may hold many connections). */
const LANES = 12;
/** The short-timeout listener's handshakeTimeout, ms. */
const SHORT_TIMEOUT = 150;
/** How late a deadline may fire on a busy 2-core machine, ms. */
const SLACK = 1_000;
/** How long a slow resolveCertificate or verifyPeer takes: well beyond timeout + SLACK. */
const SLOW_CALLBACK = 2_500;
/** The shared listeners' handshakeTimeout (never reached by a healthy handshake). */
const LONG_TIMEOUT = 10_000;
/** Per-operation deadline against the chaos listener, whose server may just stop. */
const CHAOS_DEADLINE = 1_500;
/** A scenario still running after this long counts as hung. */
const SCENARIO_DEADLINE = 30_000;
/** How long the end of the run may take to get back to the baseline. */
const SETTLE_DEADLINE = 20_000;
/** rustls-sockets caches this many client configurations (lib/config.ts). */
const CLIENT_CONFIG_CACHE = 64;

/** What any operation of this test may reject with; anything else is a defect. */
const EXPECTED_CODES = new Set([
  "CLOSED",
  "ABORTED",
  "TIMED_OUT",
  "UNEXPECTED_EOF",
  "CONNECTION_RESET",
  "CONNECTION_REFUSED",
  "ALERT_RECEIVED",
  "VERIFY_REJECTED",
  "CERT_NAME_MISMATCH",
  "INVALID_CONFIG", // only the server side of resolveCertificate throwing
]);

// ---------------------------------------------------------------------------
// Deterministic randomness

/** mulberry32: small, fast, good enough to choose among interleavings. */
class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** An integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  weighted<K extends string>(weights: Partial<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let roll = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, weight] of entries) {
      roll -= weight;
      if (roll < 0) return key;
    }
    return entries[entries.length - 1][0];
  }
  /** A size: mostly small, sometimes up to `max`. */
  size(max: number): number {
    const roll = this.next();
    if (roll < 0.7) return this.int(1, 2_000);
    if (roll < 0.92) return this.int(2_000, 64 * 1024);
    return this.int(64 * 1024, max);
  }
}

/** A seed for stream `b` of seed `a` (murmur3's finaliser). */
function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Deterministic bytes for an echo (a cheap LCG seeded by `salt`). */
function payload(size: number, salt: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = salt | 1;
  for (let i = 0; i < size; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

// ---------------------------------------------------------------------------
// Small helpers

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function codeOf(error: unknown): string {
  if (error instanceof TlsError) return error.code;
  return `non-TlsError(${error instanceof Error ? `${error.name}: ${error.message}` : error})`;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

type Settled<T> =
  | { ok: true; value: T; ms: number }
  | { ok: false; error: unknown; code: string; ms: number };

async function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  const start = performance.now();
  try {
    const value = await promise;
    return { ok: true, value, ms: performance.now() - start };
  } catch (error) {
    return { ok: false, error, code: codeOf(error), ms: performance.now() - start };
  }
}

/** Reads `count` bytes, or fewer when the peer closed cleanly first. */
async function readExactly(
  conn: TlsConn,
  count: number,
  signal?: AbortSignal,
): Promise<Uint8Array> {
  const out = new Uint8Array(count);
  let have = 0;
  while (have < count) {
    const n = await conn.read(out.subarray(have), signal ? { signal } : undefined);
    if (n === null) break;
    have += n;
  }
  return out.subarray(0, have);
}

/** The first bytes of a ClientHello: a record header and the start of the message. */
const CLIENT_HELLO_START = Uint8Array.of(0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc);

/** `resolveCertificate`'s name grammar: `<label><id>[x<j>].(n<k>|none|fail).stress.test`. */
const NAME = /^([a-z]+)(\d+)(?:x(\d+))?\.(?:n(\d+)|(none)|(fail))\.stress\.test$/;

// ---------------------------------------------------------------------------
// Bookkeeping

/** What the run saw: outcome codes, scenario kinds and the unexpected. */
class Ledger {
  readonly codes = new Map<string, number>();
  readonly kinds = new Map<string, number>();
  /** What went right: handshakes, resumptions, bytes echoed and checked. */
  readonly events = new Map<string, number>();
  /** Unexpected outcomes by category: count and the first few examples. */
  readonly violations = new Map<string, { count: number; examples: string[] }>();

  count(map: Map<string, number>, key: string, n = 1): void {
    map.set(key, (map.get(key) ?? 0) + n);
  }

  fail(where: string, category: string, detail: string): void {
    const entry = this.violations.get(category) ?? { count: 0, examples: [] };
    entry.count++;
    if (entry.examples.length < 4) entry.examples.push(`${where}: ${detail}`);
    this.violations.set(category, entry);
  }

  get violationCount(): number {
    let n = 0;
    for (const { count } of this.violations.values()) n += count;
    return n;
  }

  report(): string {
    const lines: string[] = [];
    for (const [category, { count, examples }] of this.violations) {
      lines.push(`- ${category} (x${count})`);
      for (const example of examples) lines.push(`    ${example}`);
    }
    return lines.join("\n");
  }
}

/** One scenario: its own random stream, a label for messages, where it is. */
class Scenario {
  readonly label: string;
  readonly rng: Rng;
  step = "start";
  constructor(readonly index: number, readonly kind: Kind, readonly ledger: Ledger) {
    this.label = `#${index} ${kind}`;
    this.rng = new Rng(mix(SEED, index));
  }

  fail(category: string, detail: string): void {
    this.ledger.fail(`${this.label} [${this.step}]`, category, detail);
  }

  /**
   * Records `s`: a value is fine; an error must have one of the `allowed`
   * codes. Returns the value, or undefined.
   */
  check<T>(what: string, s: Settled<T>, allowed: readonly string[]): T | undefined {
    if (s.ok) return s.value;
    this.ledger.count(this.ledger.codes, `client ${s.code}`);
    if (!allowed.includes(s.code)) {
      // Categories without names and sizes, so that alike failures count together.
      const operation = what.replace(/ [a-z0-9-]+(\.[a-z0-9-]+)*\.stress\.test| \d+/g, "");
      this.fail(
        `client ${operation}: ${s.code}`,
        `${what}: ${s.code} not in [${allowed.join(", ")}]: ${messageOf(s.error)}`,
      );
    }
    return undefined;
  }
}

/** The shared listeners of one generation (replaced by `rotate` scenarios). */
interface Generation {
  index: number;
  /** Strict echo server: sni, async resolveCertificate over many leaves, default cert. */
  echo: TlsListener;
  /** Server that misbehaves at random (closes, aborts, drops, stops). */
  chaos: TlsListener;
  /** handshakeTimeout SHORT_TIMEOUT; names starting with `slow` resolve in SLOW_CALLBACK ms. */
  short: TlsListener;
  closed: boolean;
}

// ---------------------------------------------------------------------------
// The run

class Stress {
  readonly ledger = new Ledger();
  readonly certs: ManyCerts;
  readonly silent: SilentServer;
  current!: Generation;
  #generations = 0;
  /** Server-side handlers still running. */
  readonly serverTasks = new Set<Promise<void>>();
  /** Client configuration cache keys this run created (lib/config.ts keys by these). */
  readonly clientKeys = new Set<string>();
  /** Server-side choices of the chaos listener, in accept order. */
  readonly #chaosRng = new Rng(mix(SEED, 0xc4a05));
  resolverThrows = 0;
  serverInvalidConfig = 0;
  silentTimedOut = 0;

  constructor(certs: ManyCerts, silent: SilentServer) {
    this.certs = certs;
    this.silent = silent;
  }

  // --- servers ------------------------------------------------------------

  /** The leaf for a name of the grammar above; `undefined` for `none` and other names. */
  leafFor(name: string | null): StressLeaf | undefined {
    const match = name === null ? null : NAME.exec(name);
    if (!match || match[4] === undefined) return undefined;
    return this.certs.leaves[Number(match[4]) % this.certs.leaves.length];
  }

  /**
   * An async resolveCertificate: answers at once, after a microtask or after
   * a short timer, depending on the name; `slow*` names after SLOW_CALLBACK
   * ms; `fail` names throw.
   */
  resolver(): (
    hello: ClientHelloInfo,
  ) => CertificateAndKey | Promise<CertificateAndKey | undefined> | undefined {
    return (hello) => {
      const name = hello.serverName ?? "";
      const match = NAME.exec(name);
      if (!match) return undefined; // localhost, 127.0.0.1: the default
      if (match[6] !== undefined) {
        this.resolverThrows++;
        const error = new Error("this name has no certificate (test resolver)");
        if (Number(match[2]) % 2 === 0) throw error;
        return Promise.reject(error);
      }
      const leaf = this.leafFor(name);
      const pair = leaf ? { cert: leaf.cert, key: leaf.key } : undefined;
      if (match[1] === "slow") return sleep(SLOW_CALLBACK).then(() => pair);
      const h = mix(SEED, name.length * 7919 + Number(match[2]) * 31 + Number(match[3] ?? 0));
      switch (h % 4) {
        case 0:
          return pair;
        case 1:
          return Promise.resolve(pair);
        case 2:
          return (async () => {
            for (let i = 0; i < (h >>> 8) % 5; i++) await Promise.resolve();
            return pair;
          })();
        default:
          return sleep((h >>> 8) % 5).then(() => pair);
      }
    };
  }

  listenOptions(handshakeTimeout: number): ListenTlsOptions {
    return {
      hostname: "127.0.0.1",
      port: 0,
      cert: this.certs.local.cert,
      key: this.certs.local.key,
      sni: { "*.sni.stress.test": { cert: this.certs.sni.cert, key: this.certs.sni.key } },
      resolveCertificate: this.resolver(),
      handshakeTimeout,
    };
  }

  track(task: Promise<void>): void {
    this.serverTasks.add(task);
    task.finally(() => this.serverTasks.delete(task));
  }

  /** Accepts until the listener closes; each connection goes to `handle`. */
  serve(listener: TlsListener, where: string, handle: (conn: TlsConn) => Promise<void>): void {
    this.track((async () => {
      try {
        for await (const conn of listener) this.track(handle(conn));
      } catch (error) {
        this.ledger.fail(where, `accept: ${codeOf(error)}`, messageOf(error));
      }
    })());
  }

  /** Records a server-side error; `allowed` are the codes that fit. */
  serverError(where: string, error: unknown, allowed: readonly string[]): void {
    const code = codeOf(error);
    this.ledger.count(this.ledger.codes, `server ${code}`);
    if (code === "INVALID_CONFIG" && messageOf(error).includes("resolveCertificate failed")) {
      this.serverInvalidConfig++;
      return;
    }
    if (!allowed.includes(code)) {
      this.ledger.fail(
        where,
        `server: ${code}`,
        `${code} not in [${allowed.join(", ")}]: ${messageOf(error)}`,
      );
    }
  }

  /**
   * Echoes until the client's close_notify, then closes its side too.
   * `deadline`: the handshake must settle within it (short-timeout listener).
   */
  async echoServe(conn: TlsConn, where: string, deadline?: number): Promise<void> {
    const start = performance.now();
    let handshaken = false;
    try {
      await conn.handshake();
      handshaken = true;
      const took = performance.now() - start;
      if (deadline !== undefined && took > deadline + SLACK) {
        this.ledger.fail(
          where,
          "server handshake outlived handshakeTimeout",
          `completed after ${took.toFixed(0)} ms (handshakeTimeout ${deadline} ms)`,
        );
      }
      const buf = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        await conn.write(buf.subarray(0, n));
      }
      await conn.closeWrite();
    } catch (error) {
      if (!handshaken && deadline !== undefined) {
        const took = performance.now() - start;
        if (took > deadline + SLACK) {
          this.ledger.fail(
            where,
            "server handshake outlived handshakeTimeout",
            `${codeOf(error)} after ${took.toFixed(0)} ms (handshakeTimeout ${deadline} ms)`,
          );
        }
        if (codeOf(error) === "TIMED_OUT") this.silentTimedOut++;
      }
      this.serverError(where, error, [
        "UNEXPECTED_EOF",
        "CONNECTION_RESET",
        "ALERT_RECEIVED",
        ...(deadline !== undefined ? ["TIMED_OUT"] : []),
      ]);
    } finally {
      conn.close();
    }
  }

  /** The chaos server: one random misbehaviour per accepted connection. */
  async chaosServe(conn: TlsConn, where: string): Promise<void> {
    const rng = new Rng(this.#chaosRng.int(0, 2 ** 32 - 1));
    const plan = rng.weighted({
      closeAtOnce: 8,
      dropUnhandshaken: 3,
      abortHandshake: 8,
      timeoutHandshake: 6,
      closeDuringHandshake: 10,
      dropHandshaken: 3,
      echoThenClose: 16,
      readPendingClose: 10,
      writePendingClose: 10,
      closeWrite: 10,
      echo: 16,
    });
    where = `${where} ${plan}`;
    let closed = false;
    let aborted = false;
    const close = (): void => {
      closed = true;
      conn.close();
    };
    const allowed = (): string[] => [
      "UNEXPECTED_EOF",
      "CONNECTION_RESET",
      ...(closed || aborted ? ["CLOSED"] : []),
      ...(aborted ? ["ABORTED", "TIMED_OUT"] : []),
    ];
    try {
      switch (plan) {
        case "closeAtOnce":
          close();
          return;
        case "dropUnhandshaken":
          return; // never handshaken, never closed: the GC backstop's job
        case "abortHandshake": {
          const controller = new AbortController();
          setTimeout(() => {
            aborted = true;
            controller.abort();
          }, rng.int(0, 15));
          await conn.handshake({ signal: controller.signal });
          break;
        }
        case "timeoutHandshake": {
          // What AbortSignal.timeout does, with a flag set first: TIMED_OUT.
          const controller = new AbortController();
          setTimeout(() => {
            aborted = true;
            controller.abort(new DOMException("deadline", "TimeoutError"));
          }, rng.int(1, 15));
          await conn.handshake({ signal: controller.signal });
          break;
        }
        case "closeDuringHandshake": {
          const handshake = conn.handshake();
          setTimeout(close, rng.int(0, 10));
          await handshake;
          break;
        }
        case "dropHandshaken":
          await conn.handshake();
          return; // handshaken, never closed
        default:
          await conn.handshake();
      }
      const buf = new Uint8Array(rng.pick([512, 16 * 1024, 64 * 1024]));
      switch (plan) {
        case "echoThenClose": {
          let budget = rng.int(0, 200_000);
          while (budget > 0) {
            const n = await conn.read(buf);
            if (n === null) break;
            await conn.write(buf.subarray(0, n));
            budget -= n;
          }
          close();
          return;
        }
        case "readPendingClose": {
          const reading = settle(conn.read(buf));
          await sleep(rng.int(0, 10));
          close();
          const read = await reading;
          if (!read.ok) this.serverError(where, read.error, allowed());
          return;
        }
        case "writePendingClose": {
          // Echo one chunk, and close while that write may still be pending.
          const n = await conn.read(buf);
          if (n === null) break;
          const writing = settle(conn.write(buf.subarray(0, n)));
          if (rng.chance(0.5)) await sleep(rng.int(0, 3));
          close();
          const wrote = await writing;
          if (!wrote.ok) this.serverError(where, wrote.error, allowed());
          return;
        }
        case "closeWrite": {
          await conn.closeWrite();
          const tail = await settle(conn.read(buf));
          if (!tail.ok) this.serverError(where, tail.error, allowed());
          close();
          return;
        }
        default: {
          for (;;) {
            const n = await conn.read(buf);
            if (n === null) break;
            await conn.write(buf.subarray(0, n));
          }
          await conn.closeWrite();
          close();
        }
      }
    } catch (error) {
      this.serverError(where, error, allowed());
      close();
    }
  }

  async newGeneration(): Promise<Generation> {
    const index = this.#generations++;
    const gen: Generation = {
      index,
      echo: await listenTls(this.listenOptions(LONG_TIMEOUT)),
      chaos: await listenTls(this.listenOptions(LONG_TIMEOUT)),
      short: await listenTls(this.listenOptions(SHORT_TIMEOUT)),
      closed: false,
    };
    this.serve(gen.echo, `echo listener g${index}`, (c) => this.echoServe(c, `echo g${index}`));
    this.serve(gen.chaos, `chaos listener g${index}`, (c) => this.chaosServe(c, `chaos g${index}`));
    this.serve(
      gen.short,
      `short listener g${index}`,
      (c) => this.echoServe(c, `short g${index}`, SHORT_TIMEOUT),
    );
    return gen;
  }

  closeGeneration(gen: Generation): void {
    gen.closed = true;
    gen.echo.close();
    gen.chaos.close();
    gen.short.close();
  }

  async rotate(): Promise<void> {
    const next = await this.newGeneration();
    const old = this.current;
    this.current = next;
    this.closeGeneration(old);
  }

  // --- clients ------------------------------------------------------------

  clientOptions(
    port: number,
    serverName: string,
    extra: Partial<ConnectTlsOptions> = {},
  ): ConnectTlsOptions {
    const options: ConnectTlsOptions = {
      hostname: "127.0.0.1",
      port,
      serverName,
      caCerts: [this.certs.ca],
      ...extra,
    };
    // lib/config.ts caches one configuration per endpoint and these options.
    this.clientKeys.add(
      `${port}|${options.verifyPeer !== undefined}|${options.maxVersion ?? ""}`,
    );
    return options;
  }

  /** Checks what a client's handshake reports against what its name asks for. */
  checkInfo(sc: Scenario, info: HandshakeInfo, serverName: string, expected: StressLeaf): void {
    this.ledger.count(this.ledger.events, info.resumed ? "resumed" : "full handshakes");
    if (info.serverName !== serverName) {
      sc.fail("client info.serverName", `${info.serverName} instead of ${serverName}`);
    }
    const leaf = info.peerCertificates[0];
    if (!leaf || !equalBytes(leaf, expected.der)) {
      sc.fail("wrong certificate", `the server for ${serverName} presented another certificate`);
    }
  }

  /**
   * A client session against the echo (strict) or chaos listener: connect
   * (maybe aborted), a few random operations, then an ending (close,
   * graceful close, asyncDispose, or — `drop` — nothing at all).
   */
  async session(sc: Scenario, target: "echo" | "chaos", drop: boolean): Promise<void> {
    const rng = sc.rng;
    const gen = this.current;
    const listener = target === "echo" ? gen.echo : gen.chaos;
    const strict = target === "echo";
    const nameKind = rng.weighted({ resolved: 62, resumable: 12, sni: 13, local: 13 });
    let serverName: string;
    let expected: StressLeaf;
    switch (nameKind) {
      case "resolved": {
        const k = rng.int(0, LEAF_COUNT - 1);
        serverName = `c${sc.index}.n${k}.stress.test`;
        expected = this.certs.leaves[k];
        break;
      }
      case "resumable": {
        // The same few names again and again: resumption on the same endpoint.
        const j = rng.int(0, 3);
        serverName = `r${j}.n${(j * 17) % LEAF_COUNT}.stress.test`;
        expected = this.certs.leaves[(j * 17) % LEAF_COUNT];
        break;
      }
      case "sni":
        serverName = `c${sc.index}.sni.stress.test`;
        expected = this.certs.sni;
        break;
      default:
        serverName = "localhost";
        expected = this.certs.local;
    }
    const abortPlan = rng.weighted({ none: 55, before: 5, at: 40 });
    const controller = new AbortController();
    let abortTimer: ReturnType<typeof setTimeout> | undefined;
    if (abortPlan === "before") controller.abort();
    if (abortPlan === "at") abortTimer = setTimeout(() => controller.abort(), rng.int(0, 30));
    const signal = abortPlan === "none" ? undefined : controller.signal;
    const aborted = (): boolean => controller.signal.aborted;
    const tls12 = rng.chance(0.15);
    const options = this.clientOptions(listener.addr.port, serverName, {
      signal,
      maxVersion: tls12 ? "TLSv1.2" : undefined,
      handshakeTimeout: strict ? (rng.chance(0.3) ? LONG_TIMEOUT : undefined) : CHAOS_DEADLINE,
    });

    sc.step = "connect";
    const connected = await settle(connectTls(options));
    if (!connected.ok) {
      clearTimeout(abortTimer);
      sc.check("connectTls", connected, [
        ...(aborted() ? ["ABORTED"] : []),
        ...(gen.closed || !strict
          ? ["CONNECTION_REFUSED", "CONNECTION_RESET", "UNEXPECTED_EOF"]
          : []),
        ...(strict ? [] : ["TIMED_OUT"]),
      ]);
      return;
    }
    const conn = connected.value;
    const info = await conn.handshake(); // settled already: the same result again
    this.checkInfo(sc, info, serverName, expected);
    if (tls12 && info.protocol !== "TLSv1.2") {
      sc.fail("version", "maxVersion TLSv1.2 but another version was negotiated");
    }

    let closed = false;
    /** The first failure of the connection other than CLOSED: errors are sticky. */
    let sticky: string | undefined;
    const close = (): void => {
      closed = true;
      conn.close();
    };
    const opSignal = (): AbortSignal | undefined => {
      if (strict) return signal;
      return signal
        ? AbortSignal.any([signal, AbortSignal.timeout(CHAOS_DEADLINE)])
        : AbortSignal.timeout(CHAOS_DEADLINE);
    };
    const allowed = (): string[] => {
      const codes: string[] = [];
      if (closed || aborted() || sticky) codes.push("CLOSED");
      if (aborted()) codes.push("ABORTED");
      if (sticky) codes.push(sticky);
      if (!strict) codes.push("UNEXPECTED_EOF", "CONNECTION_RESET", "TIMED_OUT");
      return codes;
    };
    const note = <T>(s: Settled<T>): Settled<T> => {
      if (!s.ok && s.code !== "CLOSED") sticky ??= s.code;
      return s;
    };
    /** Checks echoed bytes: a prefix of what was sent, all of it unless disrupted. */
    const checkEcho = (what: string, got: Uint8Array | undefined, sent: Uint8Array): void => {
      if (got === undefined) return;
      this.ledger.count(this.ledger.events, "bytes echoed", got.length);
      if (!equalBytes(got, sent.subarray(0, got.length))) {
        sc.fail("echo corrupted", `${what}: ${got.length} bytes differ from those sent`);
      } else if (got.length < sent.length && strict && !closed && !aborted()) {
        sc.fail("echo short", `${what}: ${got.length} of ${sent.length} bytes, then end of stream`);
      }
    };
    const echo = async (size: number, closeAfter?: number): Promise<void> => {
      const data = payload(size, rng.int(1, 2 ** 31));
      const s = opSignal();
      const writing = settle(conn.write(data, { signal: s }));
      const reading = settle(readExactly(conn, size, s));
      if (closeAfter !== undefined) {
        if (closeAfter === 0) close();
        else {
          await sleep(closeAfter - 1);
          close();
        }
      }
      const [wrote, read] = [note(await writing), note(await reading)];
      sc.check(`write ${size}`, wrote, allowed());
      checkEcho(`echo ${size}`, sc.check(`read ${size}`, read, allowed()), data);
    };

    const ops = rng.int(0, 5);
    for (let i = 0; i < ops; i++) {
      const op = rng.weighted({
        echo: 45,
        pipelined: 10,
        handshakeAgain: 5,
        refreshKeys: tls12 ? 0 : 4,
        pause: 10,
        abortRead: 5,
        timeoutRead: 3,
        closeDuringEcho: 4,
        closePendingRead: 4,
        closePendingWrite: 4,
      });
      sc.step = `op ${i} ${op}`;
      switch (op) {
        case "echo":
          await echo(rng.size(2 << 20));
          break;
        case "pipelined": {
          // Writes queued back to back, and single reads queued at once: each
          // read is served in call order, so their bytes in call order are the
          // start of the echo; a plain read of the rest follows.
          const sizes = Array.from({ length: rng.int(2, 4) }, () => rng.int(1, 40_000));
          const chunks = sizes.map((size) => payload(size, rng.int(1, 2 ** 31)));
          const total = sizes.reduce((a, b) => a + b, 0);
          // Their room adds up to no more than the echo: none waits for bytes that never come.
          const readCount = Math.min(rng.int(2, 4), total);
          const buffers = Array.from(
            { length: readCount },
            () => new Uint8Array(rng.int(1, Math.floor(total / readCount))),
          );
          const s = opSignal();
          const writes = chunks.map((chunk) => settle(conn.write(chunk, { signal: s })));
          const reads = buffers.map((buf) => settle(conn.read(buf, { signal: s })));
          const all = new Uint8Array(total);
          let at = 0;
          for (const chunk of chunks) {
            all.set(chunk, at);
            at += chunk.length;
          }
          // Reading goes on while the writes are pending (the echo must drain).
          const got = new Uint8Array(total);
          let have = 0;
          let ended = false;
          for (const [j, reading] of reads.entries()) {
            const n = sc.check(`pipelined read ${j}`, note(await reading), allowed());
            if (n === null && strict && !closed && !aborted()) {
              sc.fail("echo short", `pipelined read ${j}: end of stream after ${have} bytes`);
            }
            if (n === undefined || n === null) {
              ended = true;
              continue;
            }
            if (ended) sc.fail("read order", "a read resolved after an earlier one ended");
            if (n > total - have) sc.fail("echo too long", `${have + n} bytes of ${total} sent`);
            const bytes = buffers[j].subarray(0, Math.min(n, total - have));
            got.set(bytes, have);
            have += bytes.length;
          }
          if (!ended && have < total) {
            const rest = sc.check(
              "pipelined rest",
              note(await settle(readExactly(conn, total - have, s))),
              allowed(),
            );
            if (rest !== undefined) {
              got.set(rest, have);
              have += rest.length;
            } else ended = true;
          }
          for (const w of writes) sc.check("pipelined write", note(await w), allowed());
          if (ended) checkEcho("pipelined", got.subarray(0, have), all.subarray(0, have));
          else checkEcho("pipelined", got.subarray(0, have), all);
          break;
        }
        case "handshakeAgain": {
          const again = await settle(conn.handshake());
          const info = sc.check("handshake again", again, allowed());
          if (info) this.checkInfo(sc, info, serverName, expected);
          break;
        }
        case "refreshKeys":
          sc.check("refreshTrafficKeys", note(await settle(conn.refreshTrafficKeys())), allowed());
          break;
        case "pause":
          await sleep(rng.int(0, 5));
          break;
        case "abortRead":
        case "timeoutRead": {
          // Nothing is on its way (every echo was read): only the abort can end it.
          const ms = rng.int(0, 10);
          const own = new AbortController();
          const deadline = op === "timeoutRead" ? AbortSignal.timeout(ms + 1) : own.signal;
          if (op === "abortRead") setTimeout(() => own.abort(), ms);
          const s = opSignal();
          const read = note(
            await settle(
              conn.read(new Uint8Array(64), {
                signal: s ? AbortSignal.any([s, deadline]) : deadline,
              }),
            ),
          );
          const expectCode = op === "timeoutRead" ? "TIMED_OUT" : "ABORTED";
          if (read.ok && strict && !closed && !aborted()) {
            sc.fail("read with nothing coming", `resolved with ${read.value}`);
          }
          sc.check(op, read, [expectCode, ...allowed()]);
          closed = true; // an aborted operation closes the connection
          break;
        }
        case "closeDuringEcho":
          await echo(rng.size(1 << 20), rng.int(0, 4));
          break;
        case "closePendingRead": {
          const reading = settle(conn.read(new Uint8Array(1024), { signal: opSignal() }));
          const when = rng.int(0, 2);
          if (when === 1) await Promise.resolve();
          if (when === 2) await sleep(rng.int(0, 3));
          close();
          const read = await reading;
          if (read.ok && strict && !aborted()) {
            sc.fail("read with nothing coming", `resolved with ${read.value} despite close()`);
          }
          sc.check("read pending at close", read, allowed());
          break;
        }
        case "closePendingWrite": {
          const big = payload(rng.int(1 << 20, 8 << 20), 7);
          const s = opSignal();
          const writing = settle(conn.write(big, { signal: s }));
          const into = new Uint8Array(4096);
          const reading = rng.chance(0.5) ? settle(conn.read(into)) : undefined;
          await sleep(rng.int(0, 5));
          close();
          sc.check("write pending at close", await writing, allowed());
          if (reading) {
            // The server echoes the big write: what arrives is its beginning.
            const n = sc.check("read beside a pending write", await reading, allowed());
            if (typeof n === "number" && !equalBytes(into.subarray(0, n), big.subarray(0, n))) {
              sc.fail("echo corrupted", `the echo of a big write: ${n} bytes differ`);
            }
          }
          break;
        }
      }
    }
    clearTimeout(abortTimer);

    sc.step = "end";
    if (drop) return; // no close(): the FinalizationRegistry backstop frees it
    const ending = rng.weighted({ close: 40, graceful: 35, dispose: 25 });
    sc.step = `end ${ending}`;
    if (ending === "graceful") {
      const closingWrite = note(await settle(conn.closeWrite()));
      sc.check("closeWrite", closingWrite, allowed());
      if (closingWrite.ok) {
        const tail = note(await settle(readExactly(conn, 1, opSignal())));
        const rest = sc.check("read after closeWrite", tail, allowed());
        if (rest !== undefined && rest.length > 0) {
          sc.fail("bytes after the echo", "read returned data where only close_notify was due");
        }
      }
    } else if (ending === "dispose") {
      const disposed = await settle(conn[Symbol.asyncDispose]());
      sc.check("asyncDispose", disposed, []);
    }
    close();
    close(); // idempotent
    // CLOSED, or the connection's earlier failure: errors are sticky, and against
    // the chaos server a failure may have gone unseen (asyncDispose's
    // close_notify, a background flush of a post-handshake answer).
    const afterClose = [
      "CLOSED",
      ...(sticky ? [sticky] : []),
      ...(strict ? [] : ["UNEXPECTED_EOF", "CONNECTION_RESET"]),
    ];
    const after = await settle(conn.read(new Uint8Array(16)));
    if (after.ok) sc.fail("read after close", `resolved with ${after.value}`);
    else sc.check("read after close", after, afterClose);
    const write = await settle(conn.write(new Uint8Array(1)));
    if (write.ok) sc.fail("write after close", "resolved");
    else sc.check("write after close", write, afterClose);
  }

  /**
   * Many concurrent handshakes with distinct names (and certificates) on a
   * private listener, closed while they run. `afterAccepts`: closed once
   * every client was accepted, so every connection must still complete and
   * echo, except those whose client aborts (at a random moment after the
   * close). `random`: closed at a random moment, clients abort at random
   * moments from the start.
   */
  async burst(sc: Scenario): Promise<void> {
    const rng = sc.rng;
    const count = rng.int(24, Math.max(24, Math.min(110, LEAF_COUNT + 14)));
    const leaves = Array.from({ length: LEAF_COUNT }, (_, i) => i);
    for (let i = leaves.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [leaves[i], leaves[j]] = [leaves[j], leaves[i]];
    }
    const listener = await listenTls({
      hostname: "127.0.0.1",
      port: 0,
      resolveCertificate: this.resolver(),
      handshakeTimeout: LONG_TIMEOUT,
    });
    const port = listener.addr.port;
    const where = `${sc.label} server`;
    const mode = rng.weighted({ afterAccepts: 3, random: 1 });
    // Every choice is drawn up front: the clients run concurrently.
    const clientPlans = Array.from({ length: count }, (_, i) => ({
      leaf: leaves[i % leaves.length],
      abortAfter: rng.chance(0.15) ? rng.int(0, 15) : undefined,
      size: rng.int(1, 3000),
      closeWrite: rng.chance(0.5),
      serverDelay: rng.pick([0, 0, 1, 3]),
    }));
    const closeDelay = rng.pick([0, 0, 1, 2, 5]);
    const randomClose = rng.int(0, 20);
    let accepted = 0;
    let listenerClosed = false;
    let onClosed = (): void => {};
    const closed = new Promise<void>((resolve) => (onClosed = resolve));
    const closeListener = (): void => {
      listenerClosed = true;
      listener.close();
      onClosed();
    };
    const serverDone: Promise<void>[] = [];
    let handshakes = 0;
    const serveOne = async (conn: TlsConn, i: number): Promise<void> => {
      const delay = clientPlans[i].serverDelay; // by accept order
      if (delay > 0) await sleep(delay);
      try {
        const info = await conn.handshake();
        handshakes++;
        const leaf = this.leafFor(info.serverName);
        if (!leaf || !info.serverName?.startsWith(`b${sc.index}x`)) {
          this.ledger.fail(where, "server name", `unexpected SNI ${info.serverName}`);
        }
        const buf = new Uint8Array(8192);
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          await conn.write(buf.subarray(0, n));
        }
        await conn.closeWrite();
      } catch (error) {
        this.serverError(where, error, ["UNEXPECTED_EOF", "CONNECTION_RESET"]);
      } finally {
        conn.close();
      }
    };
    const accepting = (async () => {
      for (;;) {
        const next = await settle(listener.accept());
        if (!next.ok) {
          if (next.code !== "CLOSED" || !listenerClosed) {
            this.ledger.fail(where, `accept: ${next.code}`, messageOf(next.error));
          }
          return;
        }
        serverDone.push(serveOne(next.value, accepted++));
        if (mode === "afterAccepts" && accepted === count) {
          if (closeDelay === 0) closeListener();
          else setTimeout(closeListener, closeDelay);
        }
      }
    })();
    if (mode === "random") setTimeout(closeListener, randomClose);

    sc.step = `${count} handshakes (${mode})`;
    const clients = clientPlans.map(async (plan, i) => {
      const k = plan.leaf;
      const name = `b${sc.index}x${i}.n${k}.stress.test`;
      const controller = new AbortController();
      const aborting = plan.abortAfter !== undefined;
      if (aborting) {
        const abort = (): unknown => setTimeout(() => controller.abort(), plan.abortAfter);
        if (mode === "random") abort();
        else closed.then(abort);
      }
      const message = payload(plan.size, i + 1);
      const connected = await settle(connectTls(this.clientOptions(port, name, {
        signal: aborting ? controller.signal : undefined,
      })));
      if (!connected.ok) {
        sc.check(`connect ${name}`, connected, [
          ...(controller.signal.aborted ? ["ABORTED"] : []),
          ...(mode === "random"
            ? ["CONNECTION_REFUSED", "CONNECTION_RESET", "UNEXPECTED_EOF"]
            : []),
        ]);
        return false;
      }
      const conn = connected.value;
      try {
        this.checkInfo(sc, await conn.handshake(), name, this.certs.leaves[k]);
        const allowed = aborting ? ["ABORTED", "CLOSED"] : [];
        const s = aborting ? controller.signal : undefined;
        const wrote = await settle(conn.write(message, { signal: s }));
        sc.check(`write ${name}`, wrote, allowed);
        const read = await settle(readExactly(conn, message.length, s));
        const got = sc.check(`read ${name}`, read, controller.signal.aborted ? allowed : []);
        if (got !== undefined && !equalBytes(got, message)) {
          sc.fail("echo corrupted", `${name}: ${got.length} bytes, not the ${message.length} sent`);
        }
        if (plan.closeWrite) {
          const closing = await settle(conn.closeWrite());
          sc.check(`closeWrite ${name}`, closing, controller.signal.aborted ? allowed : []);
        }
        return true;
      } finally {
        conn.close();
      }
    });
    const results = await Promise.all(clients);
    if (!listenerClosed) closeListener();
    await accepting;
    await Promise.all(serverDone);
    const succeeded = results.filter((r) => r).length;
    if (mode === "afterAccepts") {
      const mustComplete = clientPlans.filter((plan) => plan.abortAfter === undefined).length;
      const completed = results.filter((r, i) => r && clientPlans[i].abortAfter === undefined);
      if (completed.length !== mustComplete) {
        sc.fail(
          "burst: accepted connections did not all complete",
          `${completed.length} of ${mustComplete} non-aborting clients completed`,
        );
      }
    }
    if (handshakes < succeeded) {
      sc.fail("burst: server handshakes", `${handshakes} on the server, ${succeeded} clients`);
    }
  }

  /** A raw TCP client that never completes a ClientHello: the server must close it in time. */
  async silentRaw(sc: Scenario): Promise<void> {
    const gen = this.current;
    const variant = sc.rng.weighted({ silent: 2, halfHello: 2, drip: 1 });
    sc.step = variant;
    const socket = netConnect(gen.short.addr.port, "127.0.0.1");
    let drip: ReturnType<typeof setInterval> | undefined;
    try {
      const opened = await new Promise<boolean>((resolve) => {
        socket.once("connect", () => resolve(true));
        socket.once("error", () => resolve(false));
      });
      socket.on("error", () => {});
      if (!opened) {
        if (!gen.closed) sc.fail("raw connect failed", "the short-timeout listener refused");
        return;
      }
      const start = performance.now();
      const ended = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      if (variant === "halfHello") socket.write(CLIENT_HELLO_START);
      if (variant === "drip") {
        let sent = 0;
        drip = setInterval(() => {
          if (sent < CLIENT_HELLO_START.length) {
            socket.write(CLIENT_HELLO_START.subarray(sent, ++sent));
          }
        }, 20);
      }
      const deadline = SHORT_TIMEOUT + SLACK;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const inTime = await Promise.race([
        ended.then(() => true),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadline))),
      ]);
      clearTimeout(timer);
      if (!inTime) {
        sc.fail(
          "silent client not cut off by handshakeTimeout",
          `still open ${(performance.now() - start).toFixed(0)} ms after connecting ` +
            `(handshakeTimeout ${SHORT_TIMEOUT} ms)`,
        );
      }
    } finally {
      clearInterval(drip);
      socket.destroy();
    }
  }

  /** resolveCertificate outlasts the short-timeout listener's handshakeTimeout. */
  async slowResolve(sc: Scenario): Promise<void> {
    const gen = this.current;
    const k = sc.rng.int(0, LEAF_COUNT - 1);
    const name = `slow${sc.index}.n${k}.stress.test`;
    sc.step = "connect";
    const s = await settle(connectTls(this.clientOptions(gen.short.addr.port, name)));
    if (s.ok) {
      s.value.close();
      sc.fail("slow resolveCertificate", "the handshake completed despite handshakeTimeout");
      return;
    }
    sc.check("connectTls", s, [
      "UNEXPECTED_EOF",
      "CONNECTION_RESET",
      ...(gen.closed ? ["CONNECTION_REFUSED"] : []),
    ]);
    if (s.ms > SHORT_TIMEOUT + SLACK) {
      sc.fail(
        "server handshakeTimeout does not bound resolveCertificate",
        `the client saw ${s.code} only after ${s.ms.toFixed(0)} ms ` +
          `(server handshakeTimeout ${SHORT_TIMEOUT} ms, resolveCertificate ${SLOW_CALLBACK} ms)`,
      );
    }
  }

  /** connectTls against a TCP server that never answers: TIMED_OUT or ABORTED, in time. */
  async silentServerScenario(sc: Scenario): Promise<void> {
    const rng = sc.rng;
    const timeout = rng.chance(0.8) ? rng.int(20, 250) : undefined;
    const abortAt = timeout === undefined || rng.chance(0.4) ? rng.int(0, 300) : undefined;
    const controller = new AbortController();
    const timer = abortAt === undefined ? undefined : setTimeout(() => controller.abort(), abortAt);
    sc.step = `timeout ${timeout} abort ${abortAt}`;
    const s = await settle(connectTls(this.clientOptions(this.silent.port, "localhost", {
      handshakeTimeout: timeout,
      signal: abortAt === undefined ? undefined : controller.signal,
    })));
    clearTimeout(timer);
    if (s.ok) {
      s.value.close();
      sc.fail("silent server", "the handshake completed against a server that never answers");
      return;
    }
    const first = Math.min(timeout ?? Infinity, abortAt ?? Infinity);
    const codes: string[] = [];
    if (timeout !== undefined && timeout <= (abortAt ?? Infinity) + 25) codes.push("TIMED_OUT");
    if (abortAt !== undefined && abortAt <= (timeout ?? Infinity) + 25) codes.push("ABORTED");
    sc.check("connectTls", s, codes);
    if (s.ms > first + SLACK) {
      sc.fail(
        "client deadline late",
        `${s.code} after ${s.ms.toFixed(0)} ms (handshakeTimeout ${timeout}, abort at ${abortAt})`,
      );
    }
  }

  /** verifyPeer slower than handshakeTimeout (must not extend it), throwing, or passing. */
  async slowVerify(sc: Scenario): Promise<void> {
    const rng = sc.rng;
    const gen = this.current;
    const variant = rng.weighted({ slow: 2, throws: 1, passes: 1 });
    const timeout = rng.int(80, 200);
    const k = rng.int(0, LEAF_COUNT - 1);
    const name = `v${sc.index}.n${k}.stress.test`;
    sc.step = variant;
    const s = await settle(connectTls(this.clientOptions(gen.echo.addr.port, name, {
      handshakeTimeout: timeout,
      verifyPeer: async (info) => {
        if (variant === "throws") throw new Error("refused by the test");
        if (variant === "slow") await sleep(SLOW_CALLBACK);
        else await sleep(rng.int(0, 5));
        if (info.serverName !== name) throw new Error(`verifyPeer saw ${info.serverName}`);
      },
    })));
    const relaxed = gen.closed ? ["CONNECTION_REFUSED", "CONNECTION_RESET", "UNEXPECTED_EOF"] : [];
    if (s.ok) {
      const conn = s.value;
      if (variant !== "passes") sc.fail(`verifyPeer ${variant}`, "the handshake completed");
      const data = payload(100, sc.index);
      const wrote = await settle(conn.write(data));
      sc.check("write", wrote, []);
      const read = sc.check("read", await settle(readExactly(conn, 100)), []);
      if (read && !equalBytes(read, data)) sc.fail("echo corrupted", "after verifyPeer");
      conn.close();
      return;
    }
    // On a busy machine even a quick handshake may reach a short timeout.
    const late = s.ms >= timeout - 5 ? ["TIMED_OUT"] : [];
    if (variant === "throws") sc.check("connectTls", s, ["VERIFY_REJECTED", ...late, ...relaxed]);
    else if (variant === "passes") sc.check("connectTls", s, [...late, ...relaxed]);
    else sc.check("connectTls", s, ["TIMED_OUT", ...relaxed]);
    if (s.code === "TIMED_OUT" && s.ms > timeout + SLACK) {
      sc.fail(
        "client handshakeTimeout does not bound verifyPeer",
        `TIMED_OUT after ${s.ms.toFixed(0)} ms (handshakeTimeout ${timeout} ms, ` +
          `verifyPeer ${SLOW_CALLBACK} ms)`,
      );
    }
  }

  /**
   * A client for `name` whose handshake must fail: the connection must not
   * come up (`what` says why it must not), and the error must be one of
   * `codes(closed)`, `closed` telling whether the listener closed meanwhile.
   */
  async #connectMustFail(
    sc: Scenario,
    name: string,
    what: [string, string],
    codes: (closed: boolean) => string[],
  ): Promise<void> {
    const gen = this.current;
    sc.step = "connect";
    const s = await settle(connectTls(this.clientOptions(gen.echo.addr.port, name)));
    if (s.ok) {
      s.value.close();
      sc.fail(...what);
      return;
    }
    sc.check("connectTls", s, codes(gen.closed));
  }

  /** resolveCertificate has nothing for the name: the default certificate's name mismatches. */
  async wrongName(sc: Scenario): Promise<void> {
    await this.#connectMustFail(
      sc,
      `w${sc.index}.none.stress.test`,
      ["name mismatch accepted", "the default certificate passed for another name"],
      (closed) => [
        "CERT_NAME_MISMATCH",
        ...(closed ? ["CONNECTION_REFUSED", "CONNECTION_RESET", "UNEXPECTED_EOF"] : []),
      ],
    );
  }

  /** resolveCertificate throws: the server fails the handshake, the client sees it end. */
  async resolveThrows(sc: Scenario): Promise<void> {
    await this.#connectMustFail(
      sc,
      `f${sc.index}.fail.stress.test`,
      ["resolveCertificate threw", "the handshake completed anyway"],
      (closed) => [
        "UNEXPECTED_EOF",
        "CONNECTION_RESET",
        "ALERT_RECEIVED",
        ...(closed ? ["CONNECTION_REFUSED"] : []),
      ],
    );
  }

  async run(sc: Scenario): Promise<void> {
    switch (sc.kind) {
      case "echo":
        return await this.session(sc, "echo", false);
      case "chaos":
        return await this.session(sc, "chaos", false);
      case "drop":
        return await this.session(sc, sc.rng.chance(0.7) ? "echo" : "chaos", true);
      case "burst":
        return await this.burst(sc);
      case "silentRaw":
        return await this.silentRaw(sc);
      case "slowResolve":
        return await this.slowResolve(sc);
      case "silentServer":
        return await this.silentServerScenario(sc);
      case "slowVerify":
        return await this.slowVerify(sc);
      case "wrongName":
        return await this.wrongName(sc);
      case "resolveThrows":
        return await this.resolveThrows(sc);
      case "gc":
        collectGarbage();
        return;
      case "rotate":
        return await this.rotate();
    }
  }

  /** Runs `sc` with a watchdog: a hang is recorded and the lane moves on. */
  async guarded(sc: Scenario): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<"hung">((resolve) => {
      timer = setTimeout(() => resolve("hung"), SCENARIO_DEADLINE);
    });
    try {
      const result = await Promise.race([
        this.run(sc).then(() => "done" as const, (error) => {
          sc.fail(`scenario threw: ${codeOf(error)}`, messageOf(error));
          return "done" as const;
        }),
        hung,
      ]);
      if (result === "hung") sc.fail("hang", `no progress for ${SCENARIO_DEADLINE} ms`);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * How `now` differs from `base`, for every kind `liveNativeObjects()` counts;
 * `clientConfigs` is what the client configuration cache should hold
 * instead of the baseline. `atMost` (other tests ran in this process before,
 * and what they dropped may be collected meanwhile): counts may be lower.
 */
function liveDiff(
  now: LiveObjects,
  base: LiveObjects,
  clientConfigs: number,
  atMost: boolean,
): string[] {
  const nowCounts = now as unknown as Record<string, number>;
  const baseCounts = base as unknown as Record<string, number>;
  const diffs: string[] = [];
  for (const kind of new Set([...Object.keys(nowCounts), ...Object.keys(baseCounts)])) {
    const value = nowCounts[kind] ?? 0;
    const expected = kind === "clientConfigs" ? clientConfigs : baseCounts[kind] ?? 0;
    if (atMost ? value > expected : value !== expected) {
      diffs.push(
        `${kind} ${baseCounts[kind] ?? 0} -> ${value}, expected ${atMost ? "at most " : ""}` +
          `${expected}${kind === "clientConfigs" ? " (what the cache holds)" : ""}`,
      );
    }
  }
  return diffs;
}

test(
  "lifecycle stress: random interleavings of connect, accept, I/O, close, abort, timeouts, " +
    "listener close, SNI cache eviction and GC; typed outcomes, nothing leaks",
  async () => {
    console.log(
      `lifecycle stress (${runtime}): STRESS_SEED=${SEED} STRESS_ITERATIONS=${ITERATIONS}` +
        (KINDS.length < Object.keys(WEIGHTS).length ? ` STRESS_KINDS=${KINDS.join(",")}` : "") +
        ` STRESS_LEAVES=${LEAF_COUNT}`,
    );
    assert.ok(
      collectGarbage(),
      "a callable GC is needed (deno --v8-flags=--expose-gc; Bun.gc in Bun)",
    );
    const started = performance.now();
    const certs = manyCerts(LEAF_COUNT);
    const pkiMs = performance.now() - started;

    // Warm up (the readiness waiter, its threads and fds, node:net), then take the baseline.
    const initial = await liveNativeObjects();
    let warmKey: string;
    {
      const warm = await listenTls({
        hostname: "127.0.0.1",
        port: 0,
        cert: certs.local.cert,
        key: certs.local.key,
      });
      const serving = warm.accept().then(async (c) => {
        await c.handshake();
        c.close();
      });
      const conn = await connectTls({
        hostname: "127.0.0.1",
        port: warm.addr.port,
        serverName: "localhost",
        caCerts: [certs.ca],
      });
      warmKey = `${warm.addr.port}|false|`;
      conn.close();
      await serving;
      warm.close();
      const probe = await silentServer();
      const socket = netConnect(probe.port, "127.0.0.1");
      socket.on("error", () => {});
      await new Promise((resolve) => socket.once("connect", resolve));
      socket.destroy();
      await probe.stop();
    }
    const settleUntil = async (ok: () => Promise<boolean>, ms: number): Promise<boolean> => {
      const end = performance.now() + ms;
      for (;;) {
        collectGarbage();
        if (await ok()) return true;
        if (performance.now() > end) return false;
        await sleep(50);
      }
    };
    await settleUntil(async () => {
      const now = await liveNativeObjects();
      return liveDiff(now, initial, Number.MAX_SAFE_INTEGER, true).length === 0;
    }, 5_000);
    // Sockets close on a worker thread: the baseline is a count that holds still.
    let baseFds = fdCount();
    await settleUntil(async () => {
      await sleep(20);
      const previous = baseFds;
      baseFds = fdCount();
      return baseFds === previous;
    }, 5_000);
    const base = await liveNativeObjects();

    const silent = await silentServer();
    const stress = new Stress(certs, silent);
    stress.clientKeys.add(warmKey); // its configuration stays cached
    const ledger = stress.ledger;
    stress.current = await stress.newGeneration();

    const master = new Rng(mix(SEED, 0x5eed));
    const weights: Partial<Record<Kind, number>> = {};
    for (const kind of KINDS) weights[kind] = WEIGHTS[kind];
    const plan: Kind[] = Array.from({ length: ITERATIONS }, () => master.weighted(weights));
    let next = 0;
    const runStarted = performance.now();
    await Promise.all(Array.from({ length: LANES }, async () => {
      while (next < plan.length) {
        const index = next++;
        const sc = new Scenario(index, plan[index], ledger);
        ledger.count(ledger.kinds, sc.kind);
        await stress.guarded(sc);
      }
    }));
    const runMs = performance.now() - runStarted;

    // Close everything that is still open, then wait for the native side to catch up.
    stress.closeGeneration(stress.current);
    await silent.stop();
    // The client configuration cache keeps the most recent ones. When this file
    // runs alone, all it holds are this run's (warm-up included): exact count.
    // Otherwise other test files' caches (Deno gives each file its own module
    // instance, so its own cache) keep theirs: this run adds at most a full cache.
    const alone = Object.values(initial).every((count) => count === 0);
    const expectedClientConfigs = alone
      ? Math.min(CLIENT_CONFIG_CACHE, stress.clientKeys.size)
      : initial.clientConfigs + Math.min(CLIENT_CONFIG_CACHE, stress.clientKeys.size);
    let last = base;
    const settleStarted = performance.now();
    const differences = (): string[] => liveDiff(last, base, expectedClientConfigs, !alone);
    const settled = await settleUntil(async () => {
      last = await liveNativeObjects();
      return stress.serverTasks.size === 0 && differences().length === 0 &&
        fdCount() <= baseFds;
    }, SETTLE_DEADLINE);
    const settleMs = performance.now() - settleStarted;
    if (!settled) {
      if (stress.serverTasks.size > 0) {
        ledger.fail(
          "end",
          "server handlers never finished",
          `${stress.serverTasks.size} still running`,
        );
      }
      const diffs = differences();
      if (diffs.length > 0) {
        ledger.fail("end", "native objects not freed", diffs.join(", "));
      }
      if (fdCount() > baseFds) ledger.fail("end", "fds leaked", `${baseFds} -> ${fdCount()}`);
    }
    for (const key of ledger.codes.keys()) {
      const code = key.split(" ")[1];
      if (!EXPECTED_CODES.has(code)) ledger.fail("end", "unexpected code seen", key);
    }
    if ((ledger.kinds.get("silentRaw") ?? 0) >= 10 && stress.silentTimedOut === 0) {
      ledger.fail("end", "handshakeTimeout never fired", "no silent client timed out");
    }
    if (stress.serverInvalidConfig > stress.resolverThrows) {
      ledger.fail(
        "end",
        "INVALID_CONFIG without a throwing resolver",
        `${stress.serverInvalidConfig} server INVALID_CONFIG, ${stress.resolverThrows} throws`,
      );
    }

    const sorted = (map: Map<string, number>): string =>
      [...map].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(
      `lifecycle stress (${runtime}): ${ITERATIONS} scenarios in ${(runMs / 1000).toFixed(1)} s ` +
        `(PKI of ${LEAF_COUNT + 2} leaves ${(pkiMs / 1000).toFixed(1)} s); ` +
        `kinds: ${sorted(ledger.kinds)}\n  client side: ${sorted(ledger.events)}\n  ` +
        `errors: ${sorted(ledger.codes)}\n  ` +
        `live objects ${JSON.stringify(base)} -> ${JSON.stringify(last)}; ` +
        `fds ${baseFds} -> ${fdCount()}; client cache keys ${stress.clientKeys.size}; ` +
        `${settled ? "settled" : "gave up"} after ${(settleMs / 1000).toFixed(1)} s`,
    );
    if (ledger.violationCount > 0) {
      assert.fail(
        `${ledger.violationCount} unexpected outcomes (${runtime}); replay with ` +
          `STRESS_SEED=${SEED} STRESS_ITERATIONS=${ITERATIONS}` +
          (KINDS.length < Object.keys(WEIGHTS).length ? ` STRESS_KINDS=${KINDS.join(",")}` : "") +
          `:\n${ledger.report()}`,
      );
    }
  },
  600_000,
);
