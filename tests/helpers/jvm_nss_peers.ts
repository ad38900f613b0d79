/**
 * Java's JSSE and Mozilla's NSS as real TLS peers on 127.0.0.1, for
 * tests/interop/jsse.test.ts and tests/interop/nss.test.ts:
 *
 * - JSSE: tests/peers/jsse/JssePeer.java, compiled with javac once per process
 *   (server: echo; client: sends a file, writes what comes back to a file).
 * - NSS: NSS's own `tstclnt` as the client, and tests/peers/nss/nss_echo.c
 *   (compiled with gcc against libnss3 once per process) as the server, since
 *   NSS's `selfserv` cannot echo a large upload. Both use a temporary NSS
 *   database holding the test CA (trusted) and the server's certificate and
 *   key (imported from a PKCS#12 file made with openssl).
 *
 * A missing tool fails the test with what to install; nothing is skipped.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TlsVersion } from "../../mod.ts";
import { openssl, pki } from "./pki.ts";

/** A peer process started by a test. */
export interface PeerProcess {
  /** Its text output (stdout, unless captured as bytes, then stderr), the first 1 MiB. */
  output(): string;
  /** Its stdout, when started with `binaryStdout`. */
  stdoutBytes(): Uint8Array;
  /** Resolves with the exit code, or the signal's name, when the process ended. */
  exited: Promise<number | string>;
  /** Resolves when the process exited with status 0; rejects saying how it ended otherwise. */
  succeeded(): Promise<void>;
  /** Resolves when the output matches `pattern`; rejects on exit or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpExecArray>;
  /** Kills the process if it still runs and waits for it. */
  stop(): Promise<void>;
}

/** A peer server, once it listens. */
export interface PeerServer extends PeerProcess {
  port: number;
}

const OUTPUT_CAP = 1024 * 1024;

/** Runs a build step; a missing program throws `hint` (what to install). */
function buildStep(command: string, args: string[], hint: string, cwd?: string): string {
  try {
    return execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] }).toString();
  } catch (error) {
    const e = error as { code?: string; stderr?: Uint8Array; stdout?: Uint8Array };
    if (e.code === "ENOENT") throw new Error(`${command} is not installed: ${hint}`);
    const said = new TextDecoder().decode(e.stderr ?? new Uint8Array()) +
      new TextDecoder().decode(e.stdout ?? new Uint8Array());
    throw new Error(`${command} ${args.join(" ")} failed: ${said || error}`);
  }
}

/**
 * Starts the command line `argv()` returns (computing it may build the peer);
 * `hint` says what to install when the program is missing. Failing to build or
 * start is reported like an exit: through `exited`, `succeeded()`, `waitFor()`.
 */
function startPeer(
  name: string,
  argv: () => string[],
  hint: string,
  binaryStdout = false,
): PeerProcess {
  let text = "";
  const stdoutChunks: Uint8Array[] = [];
  let ended: string | undefined;
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of [...listeners]) listener();
  };
  const addText = (chunk: Uint8Array) => {
    if (text.length < OUTPUT_CAP) text += new TextDecoder().decode(chunk);
    changed();
  };
  let child: ChildProcess | undefined;
  let resolveExit: (status: number | string) => void = () => {};
  const exited = new Promise<number | string>((resolve) => (resolveExit = resolve));
  const finish = (status: number | string, why: string) => {
    if (ended !== undefined) return;
    ended = why;
    resolveExit(status);
    changed();
  };
  let commandLine: string[] = [];
  try {
    commandLine = argv();
  } catch (error) {
    finish(-1, (error as Error).message);
  }
  const [command, ...args] = commandLine;
  if (ended === undefined) {
    try {
      child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout!.on("data", (chunk: Uint8Array) => {
        if (binaryStdout) stdoutChunks.push(new Uint8Array(chunk));
        else addText(chunk);
      });
      child.stderr!.on("data", addText);
      child.once("error", (error) => {
        finish(-1, `cannot start ${command} (${error.message}): ${hint}`);
      });
      child.once("close", (code, signal) => {
        finish(code ?? signal ?? -1, `${name} exited with ${code ?? signal}`);
      });
    } catch (error) {
      finish(-1, `cannot start ${command} (${error}): ${hint}`);
    }
  }
  return {
    output: () => text,
    stdoutBytes: () => {
      const out = new Uint8Array(stdoutChunks.reduce((n, c) => n + c.length, 0));
      let at = 0;
      for (const chunk of stdoutChunks) {
        out.set(chunk, at);
        at += chunk.length;
      }
      return out;
    },
    exited,
    succeeded: async () => {
      const status = await exited;
      if (status !== 0) throw new Error(ended);
    },
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`${name} printed no ${pattern} within ${timeoutMs} ms: ${text}`));
        }, timeoutMs);
        function check(): void {
          const match = pattern.exec(text);
          if (!match && ended === undefined) return;
          listeners.delete(check);
          clearTimeout(timer);
          if (match) resolve(match);
          else reject(new Error(`${ended} before printing ${pattern}: ${text}`));
        }
        listeners.add(check);
        check();
      }),
    stop: async () => {
      if (ended === undefined && child) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** A peer started as a server: resolves once it printed `LISTENING <port>`. */
async function startServer(name: string, argv: () => string[], hint: string): Promise<PeerServer> {
  const peer = startPeer(name, argv, hint);
  try {
    const match = await peer.waitFor(/LISTENING (\d+)/, 30_000);
    return { ...peer, port: Number(match[1]) };
  } catch (error) {
    await peer.stop();
    throw error;
  }
}

// ---------------------------------------------------------------- JSSE

const JDK_HINT = "the JSSE tests need a JDK 17+ (Debian: openjdk-17-jdk-headless)";
let jsseClassPath: string | undefined;

/** Compiles JssePeer.java once per process; returns the class directory. */
function jsseClasses(): string {
  if (jsseClassPath) return jsseClassPath;
  const out = mkdtempSync(join(tmpdir(), "rustls-sockets-jsse-"));
  const source = decodeURIComponent(
    new URL("../peers/jsse/JssePeer.java", import.meta.url).pathname,
  );
  buildStep("javac", ["-d", out, source], JDK_HINT);
  jsseClassPath = out;
  return out;
}

/** The command line running JssePeer with `args` (compiling it first if needed). */
function java(args: string[]): () => string[] {
  return () => ["java", "-XX:+UseSerialGC", "-cp", jsseClasses(), "JssePeer", ...args];
}

/** The JSSE echo server for one connection, speaking only `protocol`. */
export function jsseServer(options: {
  certPath: string;
  keyPath: string;
  protocol: TlsVersion;
}): Promise<PeerServer> {
  return startServer(
    "JSSE server",
    java([
      "server",
      "--cert",
      options.certPath,
      "--key",
      options.keyPath,
      "--protocol",
      options.protocol,
    ]),
    JDK_HINT,
  );
}

/** Options of the JSSE client. */
export interface JsseClientOptions {
  port: number;
  caPath: string;
  serverName: string;
  protocol: TlsVersion;
  /** File whose bytes are sent. */
  sendPath: string;
  /** File the bytes read back are written to. */
  receivePath: string;
}

/** Starts the JSSE client: it sends `sendPath`, reads as many bytes back into `receivePath`. */
export function jsseClient(options: JsseClientOptions): PeerProcess {
  return startPeer(
    "JSSE client",
    java([
      "client",
      "--port",
      String(options.port),
      "--ca",
      options.caPath,
      "--server-name",
      options.serverName,
      "--protocol",
      options.protocol,
      "--send",
      options.sendPath,
      "--receive",
      options.receivePath,
    ]),
    JDK_HINT,
  );
}

// ---------------------------------------------------------------- NSS

const NSS_TOOLS_HINT = "the NSS tests need NSS's tools (Debian: libnss3-tools)";
const NSS_BUILD_HINT =
  "the NSS echo server is built from tests/peers/nss/nss_echo.c (Debian: gcc, pkg-config, libnss3-dev)";
/** Nickname of the server certificate in the NSS database. */
const SERVER_NICKNAME = "server";
let nssDbDir: string | undefined;
let nssEchoPath: string | undefined;

/**
 * The NSS database ("sql:<dir>", empty password): the test CA trusted for TLS,
 * the server's certificate and key from a PKCS#12 file. Made once per process.
 */
export function nssDatabase(): string {
  if (nssDbDir) return nssDbDir;
  const p = pki();
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-nssdb-"));
  const db = `sql:${dir}`;
  buildStep("certutil", ["-N", "-d", db, "--empty-password"], NSS_TOOLS_HINT);
  buildStep(
    "certutil",
    ["-A", "-d", db, "-n", "ca", "-t", "CT,C,C", "-i", p.ca.certPath],
    NSS_TOOLS_HINT,
  );
  const p12 = join(dir, "server.p12");
  openssl([
    "pkcs12",
    "-export",
    "-in",
    p.server.certPath,
    "-inkey",
    p.server.keyPath,
    "-name",
    SERVER_NICKNAME,
    "-passout",
    "pass:test",
    "-out",
    p12,
  ], dir);
  buildStep("pk12util", ["-i", p12, "-d", db, "-W", "test"], NSS_TOOLS_HINT);
  nssDbDir = db;
  return db;
}

/** Builds the NSS echo server once per process. */
function nssEchoBinary(): string {
  if (nssEchoPath) return nssEchoPath;
  const flags = buildStep("pkg-config", ["--cflags", "--libs", "nss"], NSS_BUILD_HINT)
    .trim().split(/\s+/);
  const source = decodeURIComponent(new URL("../peers/nss/nss_echo.c", import.meta.url).pathname);
  const out = join(mkdtempSync(join(tmpdir(), "rustls-sockets-nss-")), "nss-echo");
  buildStep("gcc", ["-O2", "-Wall", "-o", out, source, ...flags], NSS_BUILD_HINT);
  nssEchoPath = out;
  return out;
}

/** The NSS echo server for one connection, speaking only `protocol`. */
export function nssEchoServer(protocol: TlsVersion): Promise<PeerServer> {
  return startServer(
    "NSS echo server",
    () => [
      nssEchoBinary(),
      nssDatabase(),
      SERVER_NICKNAME,
      protocol === "TLSv1.3" ? "1.3" : "1.2",
    ],
    NSS_BUILD_HINT,
  );
}

/** Options of `tstclnt`. */
export interface TstclntOptions {
  port: number;
  serverName: string;
  protocol: TlsVersion;
  /** File whose bytes are sent; what the server sends comes out as `stdoutBytes()`. */
  sendPath: string;
}

/**
 * Starts NSS's `tstclnt` against 127.0.0.1 (verbose: it reports the version as
 * "SSL version 3.<minor>"). It sends the file, prints what it receives, and
 * exits when the server closes.
 */
export function tstclnt(options: TstclntOptions): PeerProcess {
  const version = options.protocol === "TLSv1.3" ? "tls1.3" : "tls1.2";
  return startPeer(
    "tstclnt",
    () => [
      "tstclnt",
      "-h",
      "127.0.0.1",
      "-p",
      String(options.port),
      "-a",
      options.serverName,
      "-d",
      nssDatabase(),
      "-V",
      `${version}:${version}`,
      "-A",
      options.sendPath,
      "-v",
    ],
    NSS_TOOLS_HINT,
    true,
  );
}

/** The TLS version in tstclnt's "SSL version 3.x" report. */
export function tstclntVersion(peer: PeerProcess): string | undefined {
  const minor = /SSL version 3\.(\d)/.exec(peer.output())?.[1];
  return minor === undefined ? undefined : `TLSv1.${Number(minor) - 1}`;
}
