/**
 * A real nginx (`/usr/sbin/nginx`, Debian's nginx-light) as a TLS server for
 * the tests, plus a small HTTP/1.1 keep-alive client that runs over any
 * duplex byte stream (a `TlsConn`, `Deno.TlsConn`, a wrapped `node:tls`
 * socket, ...). A missing nginx fails loudly; nothing is skipped.
 *
 * nginx runs in the foreground as a single process (`daemon off;`,
 * `master_process off;`), so there is exactly one child to stop and it never
 * switches user: files only need to be readable by whoever runs the tests.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { accepts, freePort } from "./net.ts";

const NGINX = "/usr/sbin/nginx";
const READY_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** Where nginx should find the server's certificate chain and key (PEM files). */
export interface NginxOptions {
  /** PEM certificate (chain) file; made absolute before it goes into the config. */
  certPath: string;
  /** PEM private key file; made absolute before it goes into the config. */
  keyPath: string;
  /**
   * A plain HTTP server on 127.0.0.1 that `/upstream/...` is proxied to
   * (request bodies included), with nginx's connection serial number in the
   * `X-Nginx-Connection` request header.
   */
  upstreamPort?: number;
}

/** A running nginx with one TLS 1.2-only and one TLS 1.3-only server on 127.0.0.1. */
export interface NginxServer {
  /** Port of the server with `ssl_protocols TLSv1.2;`. */
  tls12Port: number;
  /** Port of the server with `ssl_protocols TLSv1.3;`. */
  tls13Port: number;
  /** Stops nginx, waits for it to exit and removes its temp dir. Safe to call twice. */
  stop(): Promise<void>;
  /** nginx's error log so far (kept after `stop()`), plus anything it printed. */
  errorLog(): string;
}

/** What `nginx -V` tells about the installed binary. */
interface NginxBuild {
  version: [number, number, number];
  configureArgs: string;
}

function nginxBuild(): NginxBuild {
  if (!existsSync(NGINX)) {
    throw new Error(
      `${NGINX} is missing: install it (apt-get install -y nginx-light); the nginx tests need it`,
    );
  }
  const result = spawnSync(NGINX, ["-V"], { stdio: ["ignore", "pipe", "pipe"] });
  if (result.error) throw new Error(`cannot run ${NGINX} -V: ${result.error.message}`);
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
  const match = /nginx\/(\d+)\.(\d+)\.(\d+)/.exec(output);
  if (result.status !== 0 || !match) {
    throw new Error(`${NGINX} -V failed (exit ${result.status}): ${output}`);
  }
  return {
    version: [Number(match[1]), Number(match[2]), Number(match[3])],
    configureArgs: output,
  };
}

function atLeast(version: [number, number, number], wanted: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (version[i] !== wanted[i]) return version[i] > wanted[i];
  }
  return true;
}

/** A string as an nginx config token (double-quoted, `"` and `\` escaped). */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function serverBlock(port: number, protocol: string, tls: NginxOptions, http2Off: boolean): string {
  return `
  server {
    listen 127.0.0.1:${port} ssl;
${http2Off ? "    http2 off;\n" : ""}    server_name localhost;
    ssl_certificate ${quote(resolve(tls.certPath))};
    ssl_certificate_key ${quote(resolve(tls.keyPath))};
    ssl_protocols ${protocol};
    keepalive_requests 100;
    keepalive_timeout 30s;

    location = /hello { return 200 "hello from nginx\\n"; }
    location = /proto { return 200 "$ssl_protocol $ssl_cipher\\n"; }
    location /echo-path { return 200 "$request_uri\\n"; }
    location = /connection { return 200 "$connection $connection_requests\\n"; }
${
    tls.upstreamPort === undefined ? "" : `    location /upstream/ {
      proxy_pass http://127.0.0.1:${tls.upstreamPort};
      proxy_set_header X-Nginx-Connection $connection;
    }
`
  }  }
`;
}

function nginxConfig(
  dir: string,
  tls: NginxOptions,
  ports: { tls12: number; tls13: number },
  build: NginxBuild,
): string {
  // Single-process nginx never switches user, but as root it still resolves
  // (and chowns its temp dirs to) the default "nobody"; say root instead.
  const asRoot = process.getuid?.() === 0;
  // `http2 off;` exists from nginx 1.25.1 on; before that HTTP/2 is only on
  // with `listen ... http2`, which these servers do not use.
  const http2Off = atLeast(build.version, [1, 25, 1]);
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .filter((name) =>
      name === "client_body" || !build.configureArgs.includes(`--without-http_${name}_module`)
    )
    .map((name) => `  ${name}_temp_path ${quote(join(dir, "temp", name))};`)
    .join("\n");
  return `# Written by tests/helpers/nginx.ts for one test run.
${asRoot ? "user root;\n" : ""}daemon off;
master_process off;
worker_processes 1;
pid ${quote(join(dir, "nginx.pid"))};
lock_file ${quote(join(dir, "nginx.lock"))};
error_log ${quote(join(dir, "error.log"))} info;

events {
  worker_connections 256;
}

http {
  default_type text/plain;
  access_log off;
${temps}
${serverBlock(ports.tls12, "TLSv1.2", tls, http2Off)}${
    serverBlock(ports.tls13, "TLSv1.3", tls, http2Off)
  }}
`;
}

/** One attempt with a given pair of ports; rejects (after cleaning up) if nginx does not come up. */
async function launch(tls: NginxOptions, build: NginxBuild): Promise<NginxServer> {
  const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-nginx-"));
  mkdirSync(join(dir, "temp"));
  const logPath = join(dir, "error.log");
  const confPath = join(dir, "nginx.conf");
  const tls12Port = await freePort();
  let tls13Port = await freePort();
  while (tls13Port === tls12Port) tls13Port = await freePort();
  writeFileSync(confPath, nginxConfig(dir, tls, { tls12: tls12Port, tls13: tls13Port }, build));

  let output = "";
  let lastLog = "";
  const errorLog = (): string => {
    try {
      lastLog = readFileSync(logPath, "utf8");
    } catch {
      // Not written yet, or the temp dir is gone after stop(): keep the last copy.
    }
    return output
      ? `${lastLog}${lastLog.endsWith("\n") || !lastLog ? "" : "\n"}${output}`
      : lastLog;
  };

  let child: ChildProcess;
  try {
    child = spawn(NGINX, ["-p", `${dir}/`, "-c", confPath, "-e", logPath], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot start ${NGINX}: ${error}`);
  }
  const decoder = new TextDecoder();
  const collect = (chunk: Uint8Array): void => {
    output += decoder.decode(chunk, { stream: true });
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<void>((done) => {
    child.once("exit", (code, signal) => {
      exitInfo = signal ? `signal ${signal}` : `code ${code}`;
      done();
    });
    child.once("error", (error) => {
      spawnError = error;
      exitInfo ??= `spawn error: ${error.message}`;
      done();
    });
  });
  const running = (): boolean => exitInfo === undefined;

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (running()) {
        child.kill("SIGTERM");
        let timer: ReturnType<typeof setTimeout> | undefined;
        const late = new Promise<"late">((done) => {
          timer = setTimeout(() => done("late"), STOP_TIMEOUT_MS);
        });
        const outcome = await Promise.race([exited, late]);
        clearTimeout(timer);
        if (outcome === "late" && running()) {
          child.kill("SIGKILL");
          await exited;
        }
      }
      errorLog();
      rmSync(dir, { recursive: true, force: true });
    })();
    return stopping;
  };

  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (!running()) {
      await stop();
      const why = spawnError
        ? `cannot run ${NGINX}: ${spawnError.message}`
        : `exited (${exitInfo})`;
      throw new Error(
        `nginx ${why} before it listened on ${tls12Port}/${tls13Port}:\n${errorLog()}`,
      );
    }
    if ((await accepts(tls12Port)) && (await accepts(tls13Port))) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(
        `nginx did not accept connections on 127.0.0.1:${tls12Port} and :${tls13Port} ` +
          `within ${READY_TIMEOUT_MS} ms:\n${errorLog()}`,
      );
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  if (!running()) {
    await stop();
    throw new Error(`nginx exited (${exitInfo}) right after it started:\n${errorLog()}`);
  }
  return { tls12Port, tls13Port, stop, errorLog };
}

/**
 * Starts `/usr/sbin/nginx` in the foreground with a config in a fresh temp
 * dir: two TLS servers on 127.0.0.1 (`tls12Port`: TLS 1.2 only, `tls13Port`:
 * TLS 1.3 only; HTTP/1.1, keep-alive 100 requests / 30 s) answering
 * `/hello` ("hello from nginx\n"), `/proto` ("$ssl_protocol $ssl_cipher\n"),
 * `/echo-path...` ("$request_uri\n") and `/connection` ("$connection
 * $connection_requests\n": which TLS connection, and its request count) as
 * text/plain; with `upstreamPort`, `/upstream/...` is proxied there. Resolves once both
 * ports accept TCP connections; rejects with nginx's error log otherwise.
 * Retries with new ports if one was taken between choosing and binding it.
 */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const build = nginxBuild();
  for (let attempt = 1;; attempt++) {
    try {
      return await launch(options, build);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (attempt >= 3 || !/Address already in use/.test(message)) throw error;
    }
  }
}

/** A byte stream both ways, like `Deno.Conn` or this project's `TlsConn`. */
export interface Duplex {
  /** Reads into `buf`; resolves with the byte count, or `null` at the end of the stream. */
  read(buf: Uint8Array): Promise<number | null>;
  /** Writes (some of) `data`; resolves with how many bytes were taken. */
  write(data: Uint8Array): Promise<number>;
}

/** One HTTP/1.1 response. */
export interface HttpResponse {
  /** Status code, e.g. 200. */
  status: number;
  /** Header fields by lower-cased name; repeated fields are joined with ", ". */
  headers: Map<string, string>;
  /** The body, decoded as UTF-8. */
  body: string;
}

const CRLF = new Uint8Array([13, 10]);
const MAX_LINE = 64 * 1024;
const encoder = new TextEncoder();

function indexOf(haystack: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** Bytes as ISO-8859-1 text (how HTTP/1.1 header octets map to a string). */
function latin1(bytes: Uint8Array): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  return out;
}

/**
 * A minimal HTTP/1.1 keep-alive client: sequential GET requests over one
 * connection. Bodies are framed by Content-Length or chunked transfer
 * encoding; bytes past one response stay buffered for the next. It throws if
 * the stream ends mid-response, on malformed framing, and when the server
 * answers `Connection: close`; after an error the client refuses further
 * requests, as the connection's state is unknown.
 */
export class HttpClient {
  #io: Duplex;
  #host: string;
  #buffered: Uint8Array = new Uint8Array(0);
  #readBuf = new Uint8Array(16 * 1024);
  #queue: Promise<unknown> = Promise.resolve();
  #broken: Error | undefined;

  /** A client over `io`, sending `Host: <host>` with every request. */
  constructor(io: Duplex, host: string) {
    this.#io = io;
    this.#host = host;
  }

  /** Sends `GET <path>` and reads the whole response. Concurrent calls run one after another. */
  request(path: string): Promise<HttpResponse> {
    const next = this.#queue.then(() => this.#exchange(path));
    this.#queue = next.catch(() => {});
    return next;
  }

  async #exchange(path: string): Promise<HttpResponse> {
    if (this.#broken) {
      throw new Error(`HTTP connection unusable after an earlier error: ${this.#broken.message}`);
    }
    if (!path.startsWith("/") || [...path].some((c) => c <= " " || c === "\x7f")) {
      throw new Error(`invalid request path: ${JSON.stringify(path)}`);
    }
    try {
      await this.#writeAll(
        encoder.encode(
          `GET ${path} HTTP/1.1\r\nHost: ${this.#host}\r\nConnection: keep-alive\r\n\r\n`,
        ),
      );
      return await this.#readResponse(path);
    } catch (error) {
      this.#broken = error instanceof Error ? error : new Error(String(error));
      throw error;
    }
  }

  async #writeAll(data: Uint8Array): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const n = await this.#io.write(data.subarray(at));
      if (n <= 0) throw new Error("HTTP request write made no progress");
      at += n;
    }
  }

  /** Reads more bytes into the buffer; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    const n = await this.#io.read(this.#readBuf);
    if (n === null) return false;
    if (n === 0) return true;
    const merged = new Uint8Array(this.#buffered.length + n);
    merged.set(this.#buffered);
    merged.set(this.#readBuf.subarray(0, n), this.#buffered.length);
    this.#buffered = merged;
    return true;
  }

  async #readLine(what: string): Promise<string> {
    let searched = 0;
    for (;;) {
      const end = indexOf(this.#buffered, CRLF, Math.max(0, searched - 1));
      if (end >= 0) {
        const line = latin1(this.#buffered.subarray(0, end));
        this.#buffered = this.#buffered.subarray(end + 2);
        return line;
      }
      searched = this.#buffered.length;
      if (searched > MAX_LINE) throw new Error(`HTTP ${what} longer than ${MAX_LINE} bytes`);
      if (!(await this.#fill())) throw new Error(`connection ended mid-response (in the ${what})`);
    }
  }

  async #readBytes(count: number, what: string): Promise<Uint8Array> {
    while (this.#buffered.length < count) {
      if (!(await this.#fill())) {
        throw new Error(
          `connection ended mid-response (${what}: ${this.#buffered.length} of ${count} bytes)`,
        );
      }
    }
    const out = this.#buffered.slice(0, count);
    this.#buffered = this.#buffered.subarray(count);
    return out;
  }

  async #readHead(): Promise<{ status: number; headers: Map<string, string> }> {
    const statusLine = await this.#readLine("status line");
    const match = /^HTTP\/1\.[01] (\d{3})(?: .*)?$/.exec(statusLine);
    if (!match) throw new Error(`malformed HTTP status line: ${JSON.stringify(statusLine)}`);
    const headers = new Map<string, string>();
    for (;;) {
      const line = await this.#readLine("headers");
      if (line === "") break;
      const colon = line.indexOf(":");
      if (colon <= 0) throw new Error(`malformed HTTP header line: ${JSON.stringify(line)}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      const previous = headers.get(name);
      headers.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
    return { status: Number(match[1]), headers };
  }

  async #readChunked(): Promise<Uint8Array> {
    const chunks: Uint8Array[] = [];
    for (;;) {
      const sizeLine = await this.#readLine("chunk size");
      const sizeText = sizeLine.split(";")[0].trim();
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) {
        throw new Error(`malformed chunk size line: ${JSON.stringify(sizeLine)}`);
      }
      const size = parseInt(sizeText, 16);
      if (size === 0) break;
      chunks.push(await this.#readBytes(size, "chunk"));
      const after = await this.#readBytes(2, "chunk end");
      if (after[0] !== 13 || after[1] !== 10) throw new Error("chunk not followed by CRLF");
    }
    // Trailer fields, up to the empty line.
    while ((await this.#readLine("trailers")) !== "") { /* ignored */ }
    const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      out.set(chunk, at);
      at += chunk.length;
    }
    return out;
  }

  async #readResponse(path: string): Promise<HttpResponse> {
    let head = await this.#readHead();
    // Interim 1xx answers (not 101) come before the real one.
    while (head.status >= 100 && head.status < 200 && head.status !== 101) {
      head = await this.#readHead();
    }
    const { status, headers } = head;
    const connection = (headers.get("connection") ?? "").toLowerCase().split(",").map((t) =>
      t.trim()
    );
    if (connection.includes("close")) {
      throw new Error(`server answered GET ${path} with status ${status} and Connection: close`);
    }
    const transferEncoding = headers.get("transfer-encoding");
    const contentLength = headers.get("content-length");
    let body: Uint8Array;
    if (transferEncoding !== undefined) {
      const codings = transferEncoding.toLowerCase().split(",").map((t) => t.trim());
      if (codings[codings.length - 1] !== "chunked") {
        throw new Error(`unsupported Transfer-Encoding: ${transferEncoding}`);
      }
      body = await this.#readChunked();
    } else if (contentLength !== undefined) {
      const values = new Set(contentLength.split(",").map((v) => v.trim()));
      const [value] = values;
      if (values.size !== 1 || !/^\d+$/.test(value)) {
        throw new Error(`invalid Content-Length: ${contentLength}`);
      }
      body = await this.#readBytes(Number(value), "body");
    } else if (status === 204 || status === 304 || status === 101) {
      body = new Uint8Array(0);
    } else {
      throw new Error(
        `response to GET ${path} (status ${status}) has neither Content-Length nor chunked ` +
          `framing; it cannot be read on a keep-alive connection`,
      );
    }
    return { status, headers, body: new TextDecoder().decode(body) };
  }
}
