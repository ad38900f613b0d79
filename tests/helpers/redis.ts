/**
 * A real redis-server (Debian's `redis-server`, built with TLS) for the
 * tests: TLS only (`--port 0 --tls-port N`), no persistence, in a fresh temp
 * dir, with the test PKI's server certificate. A missing redis-server fails
 * loudly; nothing is skipped.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { accepts, freePort } from "./net.ts";

const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Certificate files for {@link startRedis}. */
export interface RedisOptions {
  /** Server certificate (PEM) for localhost / 127.0.0.1. */
  certPath: string;
  /** Its private key (PEM). */
  keyPath: string;
  /** CA (PEM) redis would check client certificates against (not required of clients here). */
  caPath: string;
}

/** A running redis-server. */
export interface RedisServer {
  /** Its TLS port on 127.0.0.1. */
  port: number;
  /** Stops it (SIGTERM, then SIGKILL), waits for the exit, removes its temp dir. */
  stop(): Promise<void>;
  /** What it printed so far. */
  log(): string;
}

function redisBinary(): string {
  const found = spawnSync("sh", ["-c", "command -v redis-server"], { encoding: "utf8" });
  const path = found.stdout.trim();
  if (found.status !== 0 || path === "") {
    throw new Error(
      "redis-server is missing: install it (apt-get install -y redis-server, or " +
        "scripts/install-peers.sh); the ioredis tests need it",
    );
  }
  return path;
}

/** Starts redis-server with TLS on a free 127.0.0.1 port; resolves once it accepts connections. */
export async function startRedis(options: RedisOptions): Promise<RedisServer> {
  const binary = redisBinary();
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-redis-"));
  const port = await freePort();
  const child: ChildProcess = spawn(binary, [
    "--port",
    "0",
    "--bind",
    "127.0.0.1",
    "--tls-port",
    String(port),
    "--tls-cert-file",
    resolve(options.certPath),
    "--tls-key-file",
    resolve(options.keyPath),
    "--tls-ca-cert-file",
    resolve(options.caPath),
    "--tls-auth-clients",
    "no",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "no",
    "--proto-max-bulk-len",
    "64mb",
  ], { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout?.on("data", (chunk: Uint8Array) => output += new TextDecoder().decode(chunk));
  child.stderr?.on("data", (chunk: Uint8Array) => output += new TextDecoder().decode(chunk));
  let exitInfo: string | undefined;
  const exited = new Promise<void>((done) => {
    child.once("exit", (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      done();
    });
    child.once("error", (error) => {
      exitInfo ??= `spawn error: ${error.message}`;
      done();
    });
  });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo === undefined) {
        child.kill("SIGTERM");
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((done) => {
          timer = setTimeout(() => done("late"), STOP_TIMEOUT_MS);
        });
        const outcome = await Promise.race([exited, late]);
        clearTimeout(timer);
        if (outcome === "late" && exitInfo === undefined) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (exitInfo !== undefined) {
      await stop();
      throw new Error(`redis-server exited (${exitInfo}) before it listened:\n${output}`);
    }
    if (await accepts(port)) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `redis-server did not listen on ${port} within ${READY_TIMEOUT_MS} ms:\n${output}`,
      );
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  return { port, stop, log: () => output };
}
