/**
 * Real TLS peers started by the tests on 127.0.0.1: `openssl s_server`, a Go
 * crypto/tls server, and the runtime's own TLS server. A missing tool fails
 * the test loudly; nothing is skipped.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server, type Socket } from "node:net";

/** A running peer. */
export interface Peer {
  port: number;
  /** Everything the peer printed so far. */
  output(): string;
  stop(): Promise<void>;
}

function startProcess(
  command: string,
  args: string[],
  ready: RegExp,
  timeoutMs = 15_000,
): Promise<Peer> {
  return new Promise((resolve, reject) => {
    let child: ChildProcess;
    try {
      child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    } catch (error) {
      reject(new Error(`cannot start ${command}: ${error}`));
      return;
    }
    let output = "";
    let settled = false;
    const exited = new Promise<void>((done) => child.once("exit", () => done()));
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      child.kill("SIGKILL");
      reject(new Error(`${command} did not become ready: ${output}`));
    }, timeoutMs);
    const onData = (chunk: Uint8Array) => {
      output += new TextDecoder().decode(chunk);
      const match = ready.exec(output);
      if (match && !settled) {
        settled = true;
        clearTimeout(timer);
        resolve({
          port: Number(match[1]),
          output: () => output,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) {
              child.kill("SIGKILL");
              await exited;
            }
          },
        });
      }
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", (error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`cannot start ${command} (is it installed?): ${error.message}`));
    });
    child.once("exit", (code) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code} before it was ready: ${output}`));
    });
  });
}

/** `openssl s_server` on an ephemeral port with `args` added. */
export function openSslServer(
  certPath: string,
  keyPath: string,
  args: string[] = [],
): Promise<Peer> {
  return startProcess(
    "openssl",
    ["s_server", "-accept", "0", "-cert", certPath, "-key", keyPath, ...args],
    /ACCEPT \S*:(\d+)/,
  );
}

let goBinary: string | undefined;

/** Builds the Go peer once per process (offline: it uses only the standard library). */
function goPeerBinary(): string {
  if (goBinary) return goBinary;
  const out = join(mkdtempSync(join(tmpdir(), "rustls-sockets-go-")), "go-tls");
  const source = decodeURIComponent(new URL("../peers/go-tls/", import.meta.url).pathname);
  execFileSync("go", ["build", "-o", out, "."], {
    cwd: source,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" },
  });
  goBinary = out;
  return out;
}

/** Options of the Go peer. */
export interface GoPeerOptions {
  cert: string;
  key: string;
  addr?: string;
  clientCa?: string;
  min?: "1.2" | "1.3";
  max?: "1.2" | "1.3";
  alpn?: string[];
  mode?: "echo" | "abrupt" | "silent" | "reset-early" | "reset-late" | "report";
  /** Accept ECH with a fresh key; the peer prints its ECHConfigList (see {@link echConfigList}). */
  echPublicName?: string;
}

/** Options of the Go client. */
export interface GoClientOptions {
  port: number;
  ca: string;
  serverName?: string;
  cert?: string;
  key?: string;
  alpn?: string[];
  max?: "1.2" | "1.3";
  send?: string;
}

/** Runs the Go crypto/tls client once; resolves with its JSON report. */
export async function goClient(
  options: GoClientOptions,
): Promise<{ version?: string; alpn?: string; answer?: string; error?: string }> {
  const args = ["-connect", `127.0.0.1:${options.port}`, "-ca", options.ca];
  if (options.serverName) args.push("-servername", options.serverName);
  if (options.cert) args.push("-cert", options.cert, "-key", options.key!);
  if (options.alpn) args.push("-alpn", options.alpn.join(","));
  if (options.max) args.push("-max", options.max);
  if (options.send !== undefined) args.push("-send", options.send);
  const result = await runTool(goPeerBinary(), args, "");
  return JSON.parse(result.stdout.trim().split("\n").pop()!);
}

/** The outcome of a command-line tool run. */
export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command with `input` on stdin (then EOF), without blocking the event loop. */
export function runTool(
  command: string,
  args: string[],
  input: string,
  timeoutMs = 20_000,
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout!.on("data", (c: Uint8Array) => (stdout += new TextDecoder().decode(c)));
    child.stderr!.on("data", (c: Uint8Array) => (stderr += new TextDecoder().decode(c)));
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${command} (is it installed?): ${error.message}`));
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(input);
  });
}

/** The Go crypto/tls server. */
export function goServer(options: GoPeerOptions): Promise<Peer> {
  const args = ["-cert", options.cert, "-key", options.key, "-addr", options.addr ?? "127.0.0.1:0"];
  if (options.clientCa) args.push("-client-ca", options.clientCa);
  if (options.min) args.push("-min", options.min);
  if (options.max) args.push("-max", options.max);
  if (options.alpn) args.push("-alpn", options.alpn.join(","));
  if (options.mode) args.push("-mode", options.mode);
  if (options.echPublicName) args.push("-ech-public-name", options.echPublicName);
  return startProcess(goPeerBinary(), args, /LISTENING (\d+)/);
}

/** The ECHConfigList a Go peer started with `echPublicName` printed. */
export function echConfigList(peer: Peer): Uint8Array {
  const match = /ECHCONFIGLIST (\S+)/.exec(peer.output());
  if (!match) throw new Error(`the Go peer printed no ECH config: ${peer.output()}`);
  return Uint8Array.from(atob(match[1]), (c) => c.charCodeAt(0));
}

/** A TCP server that accepts connections and never says anything. */
export interface SilentServer extends Peer {
  /** Connections accepted so far. */
  accepted(): number;
  /** Accepted connections whose client end closed cleanly (EOF seen here) so far. */
  eofs(): number;
}

/**
 * Starts a {@link SilentServer} on 127.0.0.1: it reads and ignores whatever
 * arrives, and closes its side of a connection once the client's EOF came.
 */
export async function silentServer(): Promise<SilentServer> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  let eofs = 0;
  const server: Server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on("error", () => {});
    socket.on("end", () => {
      eofs++;
      socket.destroy();
    });
    socket.on("close", () => sockets.delete(socket));
    socket.resume(); // read and drop: the client's EOF is seen after its bytes
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    accepted: () => accepted,
    eofs: () => eofs,
    output: () => "",
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
