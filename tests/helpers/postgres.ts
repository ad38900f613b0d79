/**
 * A real PostgreSQL server for the tests (Debian's packages, started in a
 * fresh temp dir on 127.0.0.1 with TLS and SCRAM-SHA-256), and a minimal
 * PostgreSQL v3 wire-protocol client over any duplex byte stream: SSLRequest,
 * startup with SCRAM-SHA-256 or SCRAM-SHA-256-PLUS (tls-server-end-point
 * channel binding), and simple queries. Only `node:` built-ins and Web APIs,
 * so it runs unchanged under Deno and Bun. Missing PostgreSQL binaries fail
 * loudly; nothing is skipped.
 */
import { type ChildProcess, spawn } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { equalBytes } from "./io.ts";
import { freePort } from "./net.ts";

// ---------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------

/** PEM files for {@link startPostgres}; the caller generates them. */
export interface StartPostgresOptions {
  /** The server certificate (PEM), valid for 127.0.0.1 and/or localhost. */
  certPath: string;
  /** The server certificate's private key (PEM, unencrypted). */
  keyPath: string;
  /**
   * The CA (PEM) that signs the server certificate and the client
   * certificates. A client certificate for the `certuser` role must have
   * CN=certuser (PostgreSQL's `clientcert=verify-full` matches CN to the
   * role name).
   */
  caPath: string;
}

/** A running PostgreSQL server started by {@link startPostgres}. */
export interface PostgresServer {
  /** The TCP port on 127.0.0.1. */
  port: number;
  /** Fast shutdown; waits for the server to exit, then removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** Everything the server printed so far (its log goes to stderr). */
  log(): string;
}

const PG_ROOT = "/usr/lib/postgresql";
const READY_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 15_000;

interface PostgresTools {
  bin: string;
  psql: string;
}

/** The bin dir of the newest PostgreSQL version installed under /usr/lib/postgresql. */
function findTools(): PostgresTools {
  let versions: string[] = [];
  try {
    versions = readdirSync(PG_ROOT);
  } catch {
    versions = [];
  }
  const usable = versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .filter((v) =>
      ["initdb", "postgres", "pg_isready"].every((b) => existsSync(join(PG_ROOT, v, "bin", b)))
    )
    .sort((a, b) => Number(b) - Number(a));
  if (usable.length === 0) {
    throw new Error(
      `PostgreSQL server binaries (initdb, postgres, pg_isready) not found under ${PG_ROOT}/<version>/bin: ` +
        "install Debian's postgresql package (apt-get install postgresql)",
    );
  }
  const bin = join(PG_ROOT, usable[0], "bin");
  const psql = [join(bin, "psql"), "/usr/bin/psql"].find((p) => existsSync(p));
  if (!psql) {
    throw new Error(`psql not found in ${bin} nor /usr/bin (apt-get install postgresql-client)`);
  }
  return { bin, psql };
}

/** uid and gid of the `postgres` user, from /etc/passwd. */
function postgresUser(): { uid: number; gid: number } {
  let passwd = "";
  try {
    passwd = readFileSync("/etc/passwd", "utf8");
  } catch {
    passwd = "";
  }
  const line = passwd.split("\n").find((l) => l.startsWith("postgres:"));
  const fields = line?.split(":");
  if (!fields || fields.length < 4) {
    throw new Error(
      "running as root, but there is no `postgres` user to run PostgreSQL as (PostgreSQL refuses root)",
    );
  }
  return { uid: Number(fields[2]), gid: Number(fields[3]) };
}

/** Runs a command to completion; resolves with its exit code and combined output. */
function run(
  command: string,
  args: string[],
  cwd: string,
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    let output = "";
    let child: ChildProcess;
    try {
      child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] });
    } catch (error) {
      reject(new Error(`cannot run ${command}: ${error}`, { cause: error }));
      return;
    }
    const decoder = new TextDecoder();
    const collect = (chunk: Uint8Array): void => {
      output += decoder.decode(chunk);
    };
    child.stdout?.on("data", collect);
    child.stderr?.on("data", collect);
    child.once(
      "error",
      (error) => reject(new Error(`cannot run ${command}: ${error.message}`, { cause: error })),
    );
    child.once("close", (code) => resolve({ code, output }));
  });
}

/** Resolves true when `promise` settles within `ms`, false otherwise (no timer left behind). */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function sendSignal(pid: number, signal: "SIGINT" | "SIGQUIT" | "SIGKILL"): void {
  try {
    process.kill(pid, signal);
  } catch {
    // already gone
  }
}

/**
 * Starts a PostgreSQL server (the newest version under /usr/lib/postgresql)
 * on 127.0.0.1 at a free port, in a fresh temp dir, and resolves once it
 * accepts connections (at most ~20 s; otherwise it throws with the log).
 *
 * Configuration: `ssl = on` with the given certificate, key (copied into the
 * data dir with mode 0600) and CA; `password_encryption = scram-sha-256`;
 * the unix socket in the temp dir. pg_hba.conf, first match wins:
 *
 * ```
 * local     all     all       trust
 * hostssl   certdb  certuser  127.0.0.1/32  scram-sha-256  clientcert=verify-full
 * hostssl   all     all       127.0.0.1/32  scram-sha-256
 * hostnossl all     all       127.0.0.1/32  reject
 * ```
 *
 * Roles: `tester` (password `tester-password`) and `certuser` (password
 * `certuser-password`, needs a client certificate with CN=certuser signed by
 * the CA to reach its database `certdb`); the superuser is `postgres` (unix
 * socket only). Because `ssl_ca_file` is set, the server asks every TLS
 * client for a certificate (optional except on the certdb/certuser line).
 *
 * As root (PostgreSQL refuses to run as root) initdb, postgres and psql run
 * as the `postgres` user through `runuser`. Throws a clear error when the
 * PostgreSQL binaries are missing. Always `stop()` the server.
 */
export async function startPostgres(options: StartPostgresOptions): Promise<PostgresServer> {
  const tools = findTools();
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : undefined;
  const asServerUser = (command: string, args: string[]): [string, string[]] =>
    asRoot ? ["runuser", ["-u", "postgres", "--", command, ...args]] : [command, args];
  const own = (path: string): void => {
    if (owner) chownSync(path, owner.uid, owner.gid);
  };

  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-pg-"));
  const dataDir = join(dir, "data");
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let output = "";
  let onExit: (() => void) | undefined;
  const postmasterPid = (): number | undefined => {
    try {
      const pid = Number(readFileSync(join(dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return child?.pid;
    }
  };
  const alive = (): boolean =>
    child !== undefined && child.exitCode === null && child.signalCode === null;

  const shutdown = async (): Promise<void> => {
    if (child && alive()) {
      const pid = postmasterPid();
      if (pid !== undefined) sendSignal(pid, "SIGINT"); // fast shutdown
      if (!(await within(exited, STOP_TIMEOUT_MS))) {
        if (pid !== undefined) sendSignal(pid, "SIGQUIT"); // immediate shutdown
        if (!(await within(exited, 5_000))) {
          if (pid !== undefined) sendSignal(pid, "SIGKILL");
          child.kill("SIGKILL");
          await within(exited, 5_000);
        }
      }
    }
    if (onExit) process.off("exit", onExit);
    onExit = undefined;
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    own(dir);
    chmodSync(dir, 0o700);

    // initdb
    const [initCmd, initArgs] = asServerUser(join(tools.bin, "initdb"), [
      "-D",
      dataDir,
      "-U",
      "postgres",
      "--auth=trust",
      "--encoding=UTF8",
      "--locale=C",
      "--no-sync",
    ]);
    const init = await run(initCmd, initArgs, dir);
    if (init.code !== 0) throw new Error(`initdb failed (exit ${init.code}):\n${init.output}`);

    // TLS files: copied into the data dir so the server user can read them
    // whatever the permissions of the caller's directory.
    const certFile = join(dataDir, "server.crt");
    const keyFile = join(dataDir, "server.key");
    const caFile = join(dataDir, "root.crt");
    copyFileSync(options.certPath, certFile);
    copyFileSync(options.keyPath, keyFile);
    copyFileSync(options.caPath, caFile);
    for (const file of [certFile, keyFile, caFile]) own(file);
    chmodSync(certFile, 0o644);
    chmodSync(caFile, 0o644);
    chmodSync(keyFile, 0o600);

    const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
    const confFile = join(dataDir, "postgresql.conf");
    appendFileSync(
      confFile,
      [
        "",
        "# rustls-sockets tests",
        "listen_addresses = '127.0.0.1'",
        `unix_socket_directories = ${quote(dir)}`,
        "ssl = on",
        `ssl_cert_file = ${quote(certFile)}`,
        `ssl_key_file = ${quote(keyFile)}`,
        `ssl_ca_file = ${quote(caFile)}`,
        "password_encryption = 'scram-sha-256'",
        "fsync = off",
        "log_connections = on",
        "",
      ].join("\n"),
    );
    const hbaFile = join(dataDir, "pg_hba.conf");
    writeFileSync(
      hbaFile,
      [
        "# TYPE    DATABASE  USER      ADDRESS       METHOD",
        "local     all       all                     trust",
        "hostssl   certdb    certuser  127.0.0.1/32  scram-sha-256  clientcert=verify-full",
        "hostssl   all       all       127.0.0.1/32  scram-sha-256",
        "hostnossl all       all       127.0.0.1/32  reject",
        "",
      ].join("\n"),
    );
    own(confFile);
    own(hbaFile);

    // Start; a port taken in the meantime by someone else gets another try.
    let port = 0;
    for (let attempt = 1;; attempt++) {
      port = await freePort();
      output = "";
      const [cmd, args] = asServerUser(join(tools.bin, "postgres"), [
        "-D",
        dataDir,
        "-p",
        String(port),
      ]);
      const started = spawn(cmd, args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
      child = started;
      exited = new Promise<void>((resolve) => {
        started.once("close", () => resolve());
        started.once("error", (error) => {
          output += `\ncannot run ${cmd}: ${error.message}\n`;
          resolve();
        });
      });
      const decoder = new TextDecoder();
      const collect = (chunk: Uint8Array): void => {
        output += decoder.decode(chunk);
      };
      started.stdout?.on("data", collect);
      started.stderr?.on("data", collect);
      if (onExit) process.off("exit", onExit);
      onExit = () => {
        // The test process is leaving without stop(): don't leave a server
        // behind (immediate shutdown writes nothing more to the data dir).
        if (alive()) {
          const pid = postmasterPid();
          if (pid !== undefined) sendSignal(pid, "SIGQUIT");
          // It removes postmaster.pid last; wait for that (synchronously, at most 2 s).
          const lock = join(dataDir, "postmaster.pid");
          const cell = new Int32Array(new SharedArrayBuffer(4));
          const until = Date.now() + 2_000;
          while (existsSync(lock) && Date.now() < until) Atomics.wait(cell, 0, 0, 10);
        }
        try {
          rmSync(dir, { recursive: true, force: true });
        } catch {
          // best effort
        }
      };
      process.on("exit", onExit);

      const deadline = Date.now() + READY_TIMEOUT_MS;
      let ready = false;
      while (!ready && alive() && Date.now() < deadline) {
        const probe = await run(join(tools.bin, "pg_isready"), [
          "-q",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          "postgres",
          "-d",
          "postgres",
          "-t",
          "2",
        ], dir);
        ready = probe.code === 0;
        if (!ready) await sleep(50);
      }
      if (ready) break;
      if (!alive()) {
        await within(exited, 2_000);
        if (attempt < 3 && /could not bind|already in use/i.test(output)) continue;
        throw new Error(
          `PostgreSQL exited before accepting connections (port ${port}); server log:\n${output}`,
        );
      }
      throw new Error(
        `PostgreSQL did not accept connections on 127.0.0.1:${port} within ${
          READY_TIMEOUT_MS / 1000
        } s; server log:\n${output}`,
      );
    }

    // Roles and database, as the superuser over the unix socket.
    const [psqlCmd, psqlArgs] = asServerUser(tools.psql, [
      "-X",
      "-q",
      "-v",
      "ON_ERROR_STOP=1",
      "-h",
      dir,
      "-p",
      String(port),
      "-U",
      "postgres",
      "-d",
      "postgres",
      "-c",
      "CREATE ROLE tester LOGIN PASSWORD 'tester-password'",
      "-c",
      "CREATE ROLE certuser LOGIN PASSWORD 'certuser-password'",
      "-c",
      "CREATE DATABASE certdb OWNER certuser",
    ]);
    const setup = await run(psqlCmd, psqlArgs, dir);
    if (setup.code !== 0) {
      throw new Error(
        `psql set-up failed (exit ${setup.code}):\n${setup.output}\nserver log:\n${output}`,
      );
    }

    let stopping: Promise<void> | undefined;
    return {
      port,
      stop: () => (stopping ??= shutdown()),
      log: () => output,
    };
  } catch (error) {
    await shutdown();
    throw error;
  }
}

// ---------------------------------------------------------------------------
// The wire protocol
// ---------------------------------------------------------------------------

/**
 * A byte stream the client talks over: a plain TCP connection (for the
 * SSLRequest), then a TLS connection on top of it. `Deno.Conn`,
 * `Deno.TlsConn` and this project's `TlsConn` fit as they are.
 */
export interface Duplex {
  /** Reads into `buf`; resolves with the byte count, or null at end of stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes some of `data`; resolves with the byte count written. */
  write(data: Uint8Array): Promise<number>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function int32(n: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, n);
  return out;
}

function cstring(s: string): Uint8Array {
  return concat(encoder.encode(s), new Uint8Array([0]));
}

/** A frontend message: type byte (none for startup-phase packets), Int32 length, body. */
function frame(type: string | null, ...body: Uint8Array[]): Uint8Array {
  const payload = concat(...body);
  const length = int32(payload.length + 4);
  return type === null
    ? concat(length, payload)
    : concat(new Uint8Array([type.charCodeAt(0)]), length, payload);
}

async function writeAll(io: Duplex, data: Uint8Array): Promise<void> {
  let at = 0;
  while (at < data.length) at += await io.write(data.subarray(at));
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  const binary = atob(text);
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

/**
 * Sends an SSLRequest (length 8, code 80877103) and reads the server's
 * one-byte answer with a one-byte buffer, so that no byte of a following TLS
 * handshake is consumed: "S" (go on with TLS) or "N" (no TLS). Anything else
 * throws.
 */
export async function sslRequest(io: Duplex): Promise<"S" | "N"> {
  await writeAll(io, frame(null, int32(80877103)));
  const one = new Uint8Array(1);
  for (;;) {
    const n = await io.read(one);
    if (n === null) throw new Error("PostgreSQL server closed the connection after SSLRequest");
    if (n === 1) break;
  }
  const answer = String.fromCharCode(one[0]);
  if (answer === "S" || answer === "N") return answer;
  throw new Error(`unexpected answer to SSLRequest: 0x${one[0].toString(16).padStart(2, "0")}`);
}

interface Message {
  /** The type byte as a one-character string. */
  type: string;
  body: Uint8Array;
}

const MAX_MESSAGE = 64 * 1024 * 1024;

/** Reads length-prefixed backend messages, buffering what arrives in chunks. */
class MessageReader {
  #io: Duplex;
  #buf = new Uint8Array(16 * 1024);
  #start = 0;
  #end = 0;

  constructor(io: Duplex) {
    this.#io = io;
  }

  async #ensure(count: number): Promise<void> {
    while (this.#end - this.#start < count) {
      const have = this.#end - this.#start;
      if (this.#buf.length - this.#start < count || this.#buf.length - this.#end < 1024) {
        const size = Math.max(this.#buf.length, count + 16 * 1024);
        const next = size > this.#buf.length ? new Uint8Array(size) : this.#buf;
        next.set(this.#buf.subarray(this.#start, this.#end), 0);
        this.#buf = next;
        this.#start = 0;
        this.#end = have;
      }
      const n = await this.#io.read(this.#buf.subarray(this.#end));
      if (n === null) throw new Error("PostgreSQL server closed the connection");
      this.#end += n;
    }
  }

  async next(): Promise<Message> {
    await this.#ensure(5);
    const view = new DataView(this.#buf.buffer, this.#buf.byteOffset + this.#start, 5);
    const type = String.fromCharCode(view.getUint8(0));
    const length = view.getInt32(1);
    if (length < 4 || length > MAX_MESSAGE) {
      throw new Error(`malformed PostgreSQL message '${type}' of length ${length}`);
    }
    await this.#ensure(1 + length);
    const body = this.#buf.slice(this.#start + 5, this.#start + 1 + length);
    this.#start += 1 + length;
    return { type, body };
  }
}

/** Reads a backend message body field by field. */
class BodyReader {
  #body: Uint8Array;
  #view: DataView;
  #at = 0;

  constructor(body: Uint8Array) {
    this.#body = body;
    this.#view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  }

  get done(): boolean {
    return this.#at >= this.#body.length;
  }

  int16(): number {
    const v = this.#view.getInt16(this.#at);
    this.#at += 2;
    return v;
  }

  int32(): number {
    const v = this.#view.getInt32(this.#at);
    this.#at += 4;
    return v;
  }

  byte(): number {
    const v = this.#view.getUint8(this.#at);
    this.#at += 1;
    return v;
  }

  bytes(count: number): Uint8Array {
    if (this.#at + count > this.#body.length) throw new Error("truncated PostgreSQL message");
    const v = this.#body.subarray(this.#at, this.#at + count);
    this.#at += count;
    return v;
  }

  rest(): Uint8Array {
    return this.bytes(this.#body.length - this.#at);
  }

  cstring(): string {
    const end = this.#body.indexOf(0, this.#at);
    if (end < 0) throw new Error("unterminated string in PostgreSQL message");
    const v = decoder.decode(this.#body.subarray(this.#at, end));
    this.#at = end + 1;
    return v;
  }
}

/** Fields of an ErrorResponse / NoticeResponse, keyed by their one-letter codes. */
function responseFields(body: Uint8Array): Record<string, string> {
  const reader = new BodyReader(body);
  const fields: Record<string, string> = {};
  while (!reader.done) {
    const code = reader.byte();
    if (code === 0) break;
    fields[String.fromCharCode(code)] = reader.cstring();
  }
  return fields;
}

/** The Error for an ErrorResponse: the server's message (M); all fields as `cause`. */
function serverError(body: Uint8Array): Error {
  const fields = responseFields(body);
  return new Error(fields.M ?? "PostgreSQL error without a message", { cause: fields });
}

/** Options of {@link startup}. */
export interface StartupOptions {
  /** The role to log in as (e.g. `tester`). */
  user: string;
  /** Password for SCRAM-SHA-256 (used as is: ASCII passwords need no SASLprep). */
  password: string;
  /** The database to connect to (e.g. `postgres`, or `certdb` for `certuser`). */
  database: string;
  /**
   * tls-server-end-point channel-binding data (see {@link tlsServerEndPoint}).
   * When given, SCRAM-SHA-256-PLUS is used, and startup fails if the server
   * does not offer it.
   */
  channelBinding?: Uint8Array;
}

/** A logged-in session, ready for queries. */
export interface PgSession {
  /** The SASL mechanism used: "SCRAM-SHA-256" or "SCRAM-SHA-256-PLUS". */
  mechanism: string;
  /**
   * Runs `sql` with the simple query protocol; resolves with the rows of all
   * its result sets as text (NULL reads as "", as libpq's PQgetvalue does).
   * An ErrorResponse rejects with an Error whose message is the server's
   * message; the session stays usable. Calls are queued one after another.
   */
  query(sql: string): Promise<string[][]>;
  /** Sends Terminate; the caller closes the connection itself. */
  terminate(): Promise<void>;
}

async function hmac(
  key: Uint8Array<ArrayBuffer>,
  data: Uint8Array<ArrayBuffer>,
): Promise<Uint8Array<ArrayBuffer>> {
  const k = await crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, data));
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", data));
}

async function pbkdf2(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = await crypto.subtle.importKey("raw", encoder.encode(password), "PBKDF2", false, [
    "deriveBits",
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations }, key, 256),
  );
}

/** SCRAM attributes "a=value,b=value" (values may contain '='). */
function scramAttributes(message: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq !== 1) throw new Error(`malformed SCRAM message: ${message}`);
    attributes.set(part[0], part.slice(2));
  }
  return attributes;
}

/** The state of one SCRAM-SHA-256(-PLUS) exchange (RFC 5802, RFC 7677). */
class Scram {
  readonly mechanism: string;
  #password: string;
  #gs2Header: string;
  #channelBinding: Uint8Array;
  #clientNonce: string;
  #clientFirstBare: string;
  #serverSignature: Uint8Array | undefined;

  constructor(mechanisms: string[], password: string, channelBinding: Uint8Array | undefined) {
    if (channelBinding) {
      if (!mechanisms.includes("SCRAM-SHA-256-PLUS")) {
        throw new Error(
          `channel binding requested, but the server offers no SCRAM-SHA-256-PLUS (offers: ${
            mechanisms.join(", ") || "none"
          })`,
        );
      }
      this.mechanism = "SCRAM-SHA-256-PLUS";
      this.#gs2Header = "p=tls-server-end-point,,";
      this.#channelBinding = channelBinding;
    } else {
      if (!mechanisms.includes("SCRAM-SHA-256")) {
        throw new Error(`the server offers no SCRAM-SHA-256 (offers: ${mechanisms.join(", ")})`);
      }
      this.mechanism = "SCRAM-SHA-256";
      this.#gs2Header = "n,,";
      this.#channelBinding = new Uint8Array(0);
    }
    this.#password = password;
    this.#clientNonce = toBase64(crypto.getRandomValues(new Uint8Array(18)));
    // PostgreSQL takes the user name from the startup message and ignores
    // this one; libpq sends it empty too.
    this.#clientFirstBare = `n=,r=${this.#clientNonce}`;
  }

  clientFirst(): Uint8Array {
    return encoder.encode(this.#gs2Header + this.#clientFirstBare);
  }

  async clientFinal(serverFirst: string): Promise<Uint8Array> {
    const attributes = scramAttributes(serverFirst);
    if (attributes.has("m")) throw new Error("SCRAM: server requires an unsupported extension");
    const nonce = attributes.get("r");
    const salt = attributes.get("s");
    const iterations = Number(attributes.get("i"));
    if (!nonce || !nonce.startsWith(this.#clientNonce) || nonce === this.#clientNonce) {
      throw new Error("SCRAM: the server nonce does not extend the client nonce");
    }
    if (salt === undefined || !Number.isInteger(iterations) || iterations < 1) {
      throw new Error(`SCRAM: malformed server-first-message: ${serverFirst}`);
    }
    const binding = toBase64(concat(encoder.encode(this.#gs2Header), this.#channelBinding));
    const withoutProof = `c=${binding},r=${nonce}`;
    const authMessage = encoder.encode(
      `${this.#clientFirstBare},${serverFirst},${withoutProof}`,
    );
    const salted = await pbkdf2(this.#password, fromBase64(salt), iterations);
    const clientKey = await hmac(salted, encoder.encode("Client Key"));
    const storedKey = await sha256(clientKey);
    const clientSignature = await hmac(storedKey, authMessage);
    const proof = clientKey.map((b, i) => b ^ clientSignature[i]);
    const serverKey = await hmac(salted, encoder.encode("Server Key"));
    this.#serverSignature = await hmac(serverKey, authMessage);
    return encoder.encode(`${withoutProof},p=${toBase64(proof)}`);
  }

  /** Checks the server-final-message; throws unless its signature is right. */
  verify(serverFinal: string): void {
    const attributes = scramAttributes(serverFinal);
    const error = attributes.get("e");
    if (error !== undefined) throw new Error(`SCRAM: server reported an error: ${error}`);
    const v = attributes.get("v");
    if (!this.#serverSignature || v === undefined) {
      throw new Error(`SCRAM: unexpected server-final-message: ${serverFinal}`);
    }
    if (!equalBytes(fromBase64(v), this.#serverSignature)) {
      throw new Error("SCRAM: wrong server signature (the server does not know the password)");
    }
  }
}

/**
 * Logs in over `io` (after TLS is up, when TLS is wanted): StartupMessage
 * (protocol 3.0), SCRAM-SHA-256 or, with `channelBinding`, SCRAM-SHA-256-PLUS
 * (the server's signature is verified), then ParameterStatus/BackendKeyData
 * up to ReadyForQuery. Any other authentication method, a wrong server
 * signature or an ErrorResponse (its message, e.g. a wrong password) throws.
 */
export async function startup(io: Duplex, options: StartupOptions): Promise<PgSession> {
  const reader = new MessageReader(io);
  await writeAll(
    io,
    frame(
      null,
      int32(3 << 16),
      cstring("user"),
      cstring(options.user),
      cstring("database"),
      cstring(options.database),
      cstring("client_encoding"),
      cstring("UTF8"),
      new Uint8Array([0]),
    ),
  );

  let scram: Scram | undefined;
  let verified = false;
  let mechanism = "";
  for (let ready = false; !ready;) {
    const message = await reader.next();
    const body = new BodyReader(message.body);
    switch (message.type) {
      case "R": {
        const code = body.int32();
        if (code === 0) {
          if (!verified) throw new Error("AuthenticationOk before SCRAM authentication completed");
        } else if (code === 10) {
          if (scram) throw new Error("second AuthenticationSASL");
          const mechanisms: string[] = [];
          for (let name = body.cstring(); name !== ""; name = body.cstring()) mechanisms.push(name);
          scram = new Scram(mechanisms, options.password, options.channelBinding);
          mechanism = scram.mechanism;
          const first = scram.clientFirst();
          await writeAll(io, frame("p", cstring(scram.mechanism), int32(first.length), first));
        } else if (code === 11) {
          if (!scram) throw new Error("AuthenticationSASLContinue without AuthenticationSASL");
          const final = await scram.clientFinal(decoder.decode(body.rest()));
          await writeAll(io, frame("p", final));
        } else if (code === 12) {
          if (!scram) throw new Error("AuthenticationSASLFinal without AuthenticationSASL");
          scram.verify(decoder.decode(body.rest()));
          verified = true;
        } else {
          throw new Error(`unsupported PostgreSQL authentication request ${code}`);
        }
        break;
      }
      case "E":
        throw serverError(message.body);
      case "Z":
        if (!verified) throw new Error("ReadyForQuery before authentication");
        ready = true;
        break;
      case "S": // ParameterStatus
      case "K": // BackendKeyData
      case "N": // NoticeResponse
      case "v": // NegotiateProtocolVersion
        break;
      default:
        throw new Error(`unexpected PostgreSQL message '${message.type}' during startup`);
    }
  }

  let terminated = false;
  let queue: Promise<unknown> = Promise.resolve();
  const runQuery = async (sql: string): Promise<string[][]> => {
    if (terminated) throw new Error("the PostgreSQL session was terminated");
    await writeAll(io, frame("Q", cstring(sql)));
    const rows: string[][] = [];
    let error: Error | undefined;
    for (;;) {
      const message = await reader.next();
      switch (message.type) {
        case "D": {
          const body = new BodyReader(message.body);
          const row: string[] = [];
          for (let count = body.int16(); count > 0; count--) {
            const length = body.int32();
            row.push(length < 0 ? "" : decoder.decode(body.bytes(length)));
          }
          rows.push(row);
          break;
        }
        case "E":
          error ??= serverError(message.body);
          break;
        case "Z":
          if (error) throw error;
          return rows;
        case "T": // RowDescription
        case "C": // CommandComplete
        case "I": // EmptyQueryResponse
        case "N": // NoticeResponse
        case "S": // ParameterStatus
        case "A": // NotificationResponse
          break;
        default:
          throw new Error(`unsupported PostgreSQL message '${message.type}' in a simple query`);
      }
    }
  };

  return {
    mechanism,
    query(sql: string): Promise<string[][]> {
      const result = queue.then(() => runQuery(sql));
      queue = result.catch(() => undefined);
      return result;
    },
    async terminate(): Promise<void> {
      if (terminated) return;
      await queue;
      terminated = true;
      await writeAll(io, frame("X"));
    },
  };
}

// ---------------------------------------------------------------------------
// tls-server-end-point (RFC 5929)
// ---------------------------------------------------------------------------

/** Hash of each signature algorithm OID, after RFC 5929's MD5/SHA-1 → SHA-256 rule. */
const SIGNATURE_HASHES = new Map<string, "SHA-256" | "SHA-384" | "SHA-512">([
  ["1.2.840.113549.1.1.4", "SHA-256"], // md5WithRSAEncryption
  ["1.2.840.113549.1.1.5", "SHA-256"], // sha1WithRSAEncryption
  ["1.2.840.113549.1.1.11", "SHA-256"], // sha256WithRSAEncryption
  ["1.2.840.113549.1.1.12", "SHA-384"], // sha384WithRSAEncryption
  ["1.2.840.113549.1.1.13", "SHA-512"], // sha512WithRSAEncryption
  ["1.2.840.10045.4.1", "SHA-256"], // ecdsa-with-SHA1
  ["1.2.840.10045.4.3.2", "SHA-256"], // ecdsa-with-SHA256
  ["1.2.840.10045.4.3.3", "SHA-384"], // ecdsa-with-SHA384
  ["1.2.840.10045.4.3.4", "SHA-512"], // ecdsa-with-SHA512
]);

/** One DER TLV at `at`: its tag and the bounds of its contents. */
function derElement(der: Uint8Array, at: number): { tag: number; start: number; end: number } {
  if (at + 2 > der.length) throw new Error("truncated DER certificate");
  const tag = der[at];
  let length = der[at + 1];
  let start = at + 2;
  if (length & 0x80) {
    const count = length & 0x7f;
    if (count === 0 || count > 4 || start + count > der.length) {
      throw new Error("unsupported DER length in certificate");
    }
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + der[start++];
  }
  const end = start + length;
  if (end > der.length) throw new Error("truncated DER certificate");
  return { tag, start, end };
}

function oidToString(bytes: Uint8Array): string {
  const values: number[] = [];
  let value = 0;
  for (const b of bytes) {
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      values.push(value);
      value = 0;
    }
  }
  if (values.length === 0) throw new Error("empty OID in certificate");
  const first = values[0];
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...values.slice(1)].join(".");
}

/**
 * The tls-server-end-point channel-binding data (RFC 5929) of a DER server
 * certificate: its hash with the hash function of its signatureAlgorithm,
 * SHA-256 when that is MD5 or SHA-1. RSA (PKCS#1 v1.5) and ECDSA signatures
 * with SHA-256/384/512 are supported; anything else (RSA-PSS, Ed25519)
 * throws, as PostgreSQL itself cannot bind to those.
 */
export async function tlsServerEndPoint(certDer: Uint8Array): Promise<Uint8Array> {
  const certificate = derElement(certDer, 0);
  if (certificate.tag !== 0x30) throw new Error("not a DER certificate (no outer SEQUENCE)");
  const tbs = derElement(certDer, certificate.start);
  const algorithm = derElement(certDer, tbs.end);
  if (tbs.tag !== 0x30 || algorithm.tag !== 0x30) {
    throw new Error("not a DER certificate (no signatureAlgorithm SEQUENCE)");
  }
  const oid = derElement(certDer, algorithm.start);
  if (oid.tag !== 0x06) throw new Error("malformed signatureAlgorithm in certificate");
  const dotted = oidToString(certDer.subarray(oid.start, oid.end));
  const hash = SIGNATURE_HASHES.get(dotted);
  if (!hash) {
    throw new Error(`tls-server-end-point: unsupported certificate signature algorithm ${dotted}`);
  }
  return new Uint8Array(await crypto.subtle.digest(hash, new Uint8Array(certDer)));
}
