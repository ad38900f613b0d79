/**
 * The Go load tool (`bench/peers/go-load`, Go crypto/tls in a process of its
 * own) for `bench/peer.ts`: built once per process with the local Go
 * toolchain, offline (standard library only), into a temporary directory;
 * then started as a server (source, sink, echo) or run as a client
 * (handshakes, round trips) that prints one JSON line.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";

/** Handshakes a Go server or client counted, by negotiated key exchange group. */
export interface HandshakeCounts {
  handshakes: number;
  errors: number;
  firstError?: string;
  /** Empty when the Go toolchain is older than 1.25 (it cannot tell). */
  groups: Record<string, number> | null;
  /** The Go process's CPU time (user + system) from its start until it reported. */
  cpuSeconds: number;
}

/** A running Go server. */
export interface GoLoadServer {
  port: number;
  /** The handshakes since the last call (or since the start). */
  stats(): Promise<HandshakeCounts>;
  stop(): Promise<void>;
}

/** What `-mode handshakes` prints. */
export interface HandshakeResult extends HandshakeCounts {
  seconds: number;
  rate: number;
}

/** What `-mode roundtrips` prints. */
export interface RoundTripResult extends HandshakeCounts {
  roundTrips: number;
  seconds: number;
  rate: number;
  p50us: number;
  p99us: number;
}

let built: { dir: string; binary: string } | undefined;

/** Builds the tool (once per process); the binary is removed by {@link removeGoLoad}. */
export function goLoadBinary(): string {
  if (built) return built.binary;
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-go-load-"));
  const binary = join(dir, "go-load");
  const source = decodeURIComponent(new URL("./peers/go-load/", import.meta.url).pathname);
  try {
    execFileSync("go", ["build", "-o", binary, "."], {
      cwd: source,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local", GOPROXY: "off" },
    });
  } catch (error) {
    const stderr = (error as { stderr?: Uint8Array }).stderr;
    throw new Error(
      `building bench/peers/go-load failed (is Go installed?): ${
        stderr ? new TextDecoder().decode(stderr) : error
      }`,
    );
  }
  built = { dir, binary };
  return binary;
}

/** Removes the built tool. */
export function removeGoLoad(): void {
  if (built) rmSync(built.dir, { recursive: true, force: true });
  built = undefined;
}

/** Starts a Go server in `mode` on 127.0.0.1 (an ephemeral port). */
export function goLoadServer(
  mode: "source" | "sink" | "echo",
  certPath: string,
  keyPath: string,
): Promise<GoLoadServer> {
  const child: ChildProcess = spawn(
    goLoadBinary(),
    ["-mode", mode, "-cert", certPath, "-key", keyPath],
    { stdio: ["pipe", "pipe", "pipe"] },
  );
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let output = "";
  let lines = "";
  let gone: Error | undefined;
  const waiting: { resolve(line: string): void; reject(error: Error): void }[] = [];
  return new Promise<GoLoadServer>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`the Go ${mode} server did not start: ${output}`));
    }, 15_000);
    child.stderr!.on("data", (chunk: Uint8Array) => (output += new TextDecoder().decode(chunk)));
    child.stdout!.on("data", (chunk: Uint8Array) => {
      lines += new TextDecoder().decode(chunk);
      for (let end = lines.indexOf("\n"); end >= 0; end = lines.indexOf("\n")) {
        const line = lines.slice(0, end);
        lines = lines.slice(end + 1);
        output += line + "\n";
        const listening = /^LISTENING (\d+)$/.exec(line);
        if (listening) {
          clearTimeout(timer);
          resolve({
            port: Number(listening[1]),
            stats(): Promise<HandshakeCounts> {
              return new Promise<HandshakeCounts>((done, reject) => {
                if (gone) return reject(gone);
                waiting.push({ resolve: (json) => done(JSON.parse(json)), reject });
                child.stdin!.write("stats\n");
              });
            },
            async stop(): Promise<void> {
              if (child.exitCode === null && child.signalCode === null) {
                child.stdin!.end(); // the server exits when its stdin closes
                const killer = setTimeout(() => child.kill("SIGKILL"), 2_000);
                await exited;
                clearTimeout(killer);
              }
            },
          });
        }
        const stats = /^STATS (.*)$/.exec(line);
        if (stats) waiting.shift()?.resolve(stats[1]);
      }
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot start the Go load tool: ${error.message}`));
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      gone = new Error(`the Go ${mode} server exited with ${code}: ${output}`);
      for (const w of waiting.splice(0)) w.reject(gone);
      reject(gone); // if it never started
    });
  });
}

/** Runs the Go tool as a client against 127.0.0.1:`port`; resolves with its JSON report. */
function goLoadClient<T>(args: string[], port: number, caPath: string): Promise<T> {
  const child = spawn(
    goLoadBinary(),
    [...args, "-connect", `127.0.0.1:${port}`, "-ca", caPath, "-servername", "localhost"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout!.on("data", (c: Uint8Array) => (stdout += new TextDecoder().decode(c)));
  child.stderr!.on("data", (c: Uint8Array) => (stderr += new TextDecoder().decode(c)));
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run the Go load tool: ${error.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      const last = stdout.trim().split("\n").pop() ?? "";
      if (code !== 0 || !last.startsWith("{")) {
        reject(new Error(`the Go client ${args.join(" ")} failed (${code}): ${stderr}${stdout}`));
      } else resolve(JSON.parse(last) as T);
    });
  });
}

/** `loops` parallel loops of sequential full handshakes for `seconds`. */
export function goHandshakes(
  port: number,
  caPath: string,
  loops: number,
  seconds: number,
): Promise<HandshakeResult> {
  return goLoadClient<HandshakeResult>(
    ["-mode", "handshakes", "-loops", String(loops), "-duration", `${seconds * 1000}ms`],
    port,
    caPath,
  );
}

/** `conns` connections making `rounds` sequential round trips of `size` bytes each. */
export async function goRoundTrips(
  port: number,
  caPath: string,
  conns: number,
  rounds: number,
  size = 64,
): Promise<RoundTripResult> {
  const result = await goLoadClient<RoundTripResult>(
    ["-mode", "roundtrips", "-conns", String(conns), "-rounds", String(rounds), "-size", `${size}`],
    port,
    caPath,
  );
  if (result.errors > 0) throw new Error(`Go round trips failed: ${result.firstError}`);
  return result;
}
