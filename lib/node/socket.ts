/**
 * `TlsNodeSocket`: a `TlsConn` as a `node:stream` `Duplex` with what
 * libraries use of `tls.TLSSocket` (`encrypted`, `authorized`,
 * `alpnProtocol`, `getPeerCertificate()`, `setTimeout()`, `ref()`,
 * addresses...), so that `node:http`, `node:http2`, pg, ioredis and undici
 * can run over this module's TLS.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { Duplex } from "node:stream";
import { clearTimeout, setTimeout as setNodeTimeout } from "node:timers";
import type { X509Certificate } from "node:crypto";
import { closedError, TlsError } from "../core/errors.ts";
import type { TlsConn } from "../api/conn.ts";
import { isUnverified } from "../api/unverified.ts";
import type { Addr, HandshakeInfo } from "../core/types.ts";
import {
  type DetailedPeerCertificate,
  type PeerCertificate,
  peerCertificate,
  peerX509,
} from "./certificate.ts";
import { type NodeTlsError, toNodeError } from "./errors.ts";

const READ_CHUNK = 64 * 1024;

/** OpenSSL's names of the TLS 1.2 suites rustls has (TLS 1.3 suites keep their standard name). */
const OPENSSL_SUITES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: "ECDHE-ECDSA-AES128-GCM-SHA256",
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: "ECDHE-ECDSA-AES256-GCM-SHA384",
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-ECDSA-CHACHA20-POLY1305",
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: "ECDHE-RSA-AES128-GCM-SHA256",
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: "ECDHE-RSA-AES256-GCM-SHA384",
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: "ECDHE-RSA-CHACHA20-POLY1305",
};

/** What `getCipher()` returns, as in `node:tls`. */
export interface CipherNameAndProtocol {
  /** OpenSSL's name of the suite (`ECDHE-RSA-AES128-GCM-SHA256`; TLS 1.3: `TLS_AES_128_GCM_SHA256`). */
  name: string;
  /** The IANA name (`TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`, `TLS_AES_128_GCM_SHA256`). */
  standardName: string;
  /** The protocol version (`TLSv1.2`, `TLSv1.3`). */
  version: string;
}

/** What `address()` returns for a TCP socket. */
export interface SocketAddressInfo {
  /** IP address. */
  address: string;
  /** `"IPv4"` or `"IPv6"`. */
  family: string;
  /** Port. */
  port: number;
}

/** Options of a `TlsNodeSocket` itself. */
export interface TlsNodeSocketOptions {
  /**
   * Keep the writable side open after the peer ended its side (default
   * `false`, as `net.Socket`: the socket then ends its own side too).
   */
  allowHalfOpen?: boolean;
}

/** Makes the `TlsConn` of a socket made unconnected, once its `connect()` says where to. */
export type SocketConnector = (target: ConnectTarget) => Promise<TlsConn>;

/** Where `TlsNodeSocket.connect()` was asked to go. */
export interface ConnectTarget {
  /** Host name or IP, for TCP. */
  host?: string;
  /** Port, for TCP. */
  port?: number;
  /** Unix-domain socket path. */
  path?: string;
}

function family(hostname: string): "IPv4" | "IPv6" {
  return hostname.includes(":") ? "IPv6" : "IPv4";
}

function tcp(addr: Addr | undefined): { hostname: string; port: number } | undefined {
  return addr?.transport === "tcp" ? addr : undefined;
}

/** Whether `error` is a `TlsError` with one of `codes`. */
function hasCode(error: unknown, ...codes: TlsError["code"][]): boolean {
  return error instanceof TlsError && codes.includes(error.code);
}

/** Internal: hands a socket its connection (or the promise of one). */
let begin: (socket: TlsNodeSocket, conn: Promise<TlsConn>) => void;
/** Internal: gives an unconnected socket the function its `connect()` uses. */
let setConnector: (socket: TlsNodeSocket, connector: SocketConnector) => void;

/**
 * A TLS connection of this module as a `node:stream` `Duplex` shaped like
 * `tls.TLSSocket`. Made by {@link toNodeSocket}, `connect`, `createSocket`
 * and the `secureConnection` event of `createServer`.
 *
 * Reading ends (`end`) at the peer's close_notify, and also at a TCP close
 * without close_notify, as `node:tls` does: such an end may be a truncation
 * by an attacker on the path, which HTTP with `Content-Length` or chunked
 * framing, and the database protocols, detect themselves. `end()` sends
 * close_notify and half-closes; `destroy()` closes at once.
 *
 * Errors it emits carry Node's `code` (`ECONNRESET`, `CERT_HAS_EXPIRED`,
 * ...), the `TlsError` as `cause` and its code as `tlsCode`.
 */
export class TlsNodeSocket extends Duplex {
  /** Always `true`: this is a TLS socket. */
  readonly encrypted = true;
  /**
   * Whether the peer's certificate was verified: a client's server always is
   * (a failure ends the connection), unless verification was disabled
   * (`rejectUnauthorized: false`); a server's client when it sent a
   * certificate the server's `clientAuth` checked.
   */
  authorized = false;
  /** Why `authorized` is `false` on a client (`null` otherwise). */
  authorizationError: string | null = null;
  /** The negotiated ALPN protocol; `false` when none was, `null` before the handshake. */
  alpnProtocol: string | false | null = null;
  /** Client: the SNI sent; server: the SNI received. `false` when none, `null` before the handshake. */
  servername: string | false | null = null;
  /** `true` until the connection is made and its handshake done. */
  connecting = true;
  /** Bytes of plaintext read. */
  bytesRead = 0;
  /** Bytes of plaintext written. */
  bytesWritten = 0;
  /** The idle timeout set with {@link setTimeout} (ms), if any. */
  timeout: number | undefined = undefined;

  #conn: TlsConn | undefined;
  /** Settles once the connection is made (or never will be). */
  readonly #ready: Promise<TlsConn>;
  #settle!: { resolve(conn: TlsConn): void; reject(error: unknown): void };
  #begun = false;
  #connector: SocketConnector | undefined;
  #info: HandshakeInfo | undefined;
  #pumping = false;
  #refed = true;
  #timeoutMs = 0;
  #timer: ReturnType<typeof setNodeTimeout> | undefined;
  #lastActive = 0;
  readonly #scratch = new Uint8Array(READ_CHUNK);

  static {
    begin = (socket, conn) => socket.#begin(conn);
    setConnector = (socket, connector) => {
      socket.#connector = connector;
    };
  }

  /** @internal Sockets come from `toNodeSocket`, `connect`, `createSocket` and `createServer`. */
  constructor(options: TlsNodeSocketOptions = {}) {
    super({ allowHalfOpen: options.allowHalfOpen ?? false, emitClose: true, autoDestroy: true });
    this.#ready = new Promise<TlsConn>((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#ready.catch(() => {});
  }

  /** The module's connection underneath (`undefined` while connecting). */
  get tlsConn(): TlsConn | undefined {
    return this.#conn;
  }

  /** `true` while not connected yet. */
  get pending(): boolean {
    return this.#conn === undefined;
  }

  /** `"opening"`, `"open"`, `"readOnly"`, `"writeOnly"` or `"closed"`, as `net.Socket`. */
  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.connecting) return "opening";
    if (this.destroyed) return "closed";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  #begin(connecting: Promise<TlsConn>): void {
    this.#begun = true;
    connecting.then(async (conn) => {
      if (this.destroyed) {
        conn.close();
        throw closedError();
      }
      let info: HandshakeInfo;
      try {
        info = await conn.handshake();
      } catch (error) {
        conn.close();
        throw error;
      }
      if (this.destroyed) {
        conn.close();
        throw closedError();
      }
      this.#conn = conn;
      this.#info = info;
      this.alpnProtocol = info.alpnProtocol ?? false;
      this.servername = info.serverName ?? false;
      this.authorized = info.peerCertificates.length > 0 && !isUnverified(conn);
      if (isUnverified(conn)) {
        this.authorizationError =
          "verification disabled (rejectUnauthorized: false): the certificate was not checked";
      }
      if (!this.#refed) conn.unref();
      return conn;
    }).then((conn) => {
      this.connecting = false;
      this.#active();
      this.emit("connect");
      this.emit("secureConnect");
      // Reads and writes waiting for the connection go on from here.
      this.#settle.resolve(conn);
      // Read ahead into the buffer at once, as net.Socket does.
      if (!this.destroyed) this.read(0);
    }, (error) => {
      this.connecting = false;
      this.#settle.reject(error);
      if (!this.destroyed) this.destroy(toNodeError(error, "connect"));
    });
  }

  /** The connection, once made; rejects (the socket is destroyed then) if it never is. */
  #whenConnected(): Promise<TlsConn> {
    return this.#conn ? Promise.resolve(this.#conn) : this.#ready;
  }

  /**
   * Connects a socket made by `createSocket` (as `net.Socket.connect`):
   * `connect(port, host?, listener?)`, `connect(path, listener?)` or
   * `connect({ port, host } | { path }, listener?)`. The listener runs on
   * `secureConnect`.
   */
  connect(
    target: number | string | ConnectTarget,
    host?: string | (() => void),
    listener?: () => void,
  ): this {
    if (typeof host === "function") {
      listener = host;
      host = undefined;
    }
    if (!this.#connector || this.#begun) {
      const error = new Error(
        this.#begun
          ? "the socket is already connected or connecting"
          : "only a socket made by createSocket() can be connected",
      ) as Error & { code: string };
      error.code = "ERR_SOCKET_CONNECTING";
      throw error;
    }
    let where: ConnectTarget;
    if (typeof target === "object") where = target;
    else if (typeof target === "string" && !/^\d+$/.test(target)) where = { path: target };
    else where = { port: Number(target), host: typeof host === "string" ? host : undefined };
    if (listener) this.once("secureConnect", listener);
    this.#begin(this.#connector(where));
    return this;
  }

  /** Reads on until the consumer has enough (`push` returns `false`) or the stream ends. */
  async #pump(): Promise<void> {
    let conn: TlsConn;
    try {
      conn = await this.#whenConnected();
    } catch {
      this.#pumping = false;
      return; // the socket was destroyed (with the connect error, if that was why)
    }
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(this.#scratch);
      } catch (error) {
        this.#pumping = false;
        if (this.destroyed) return;
        if (hasCode(error, "UNEXPECTED_EOF")) {
          // A TCP close without close_notify ends the stream, as in node:tls.
          this.push(null);
          return;
        }
        this.destroy(toNodeError(error, "read"));
        return;
      }
      if (this.destroyed) return;
      if (n === null) {
        this.#pumping = false;
        this.push(null);
        return;
      }
      this.bytesRead += n;
      this.#active();
      if (!this.push(Buffer.from(this.#scratch.subarray(0, n)))) {
        this.#pumping = false;
        return;
      }
    }
  }

  /** @internal Stream plumbing. */
  override _read(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.#pump();
  }

  #send(data: Uint8Array, callback: (error?: Error | null) => void): void {
    this.#whenConnected().then((conn) => conn.write(data)).then(() => {
      this.bytesWritten += data.length;
      this.#active();
      callback();
    }, (error) => {
      if (this.destroyed && hasCode(error, "CLOSED")) return callback();
      const node = toNodeError(error, "write");
      // Writing to a connection the peer already left is EPIPE in Node.
      if (hasCode(error, "UNEXPECTED_EOF", "CLOSED")) node.code = "EPIPE";
      callback(node);
    });
  }

  /** @internal Stream plumbing. */
  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    this.#send(chunk, callback);
  }

  /** @internal Stream plumbing: queued chunks go out as one write (fewer, fuller records). */
  override _writev(
    chunks: { chunk: Buffer; encoding: BufferEncoding }[],
    callback: (error?: Error | null) => void,
  ): void {
    this.#send(
      chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk)),
      callback,
    );
  }

  /** @internal Stream plumbing: `end()` sends close_notify and half-closes. */
  override _final(callback: (error?: Error | null) => void): void {
    this.#whenConnected().then((conn) => conn.closeWrite()).then(
      () => callback(),
      (error) => {
        // The peer is gone already, or the socket was closed: nothing left to end.
        if (hasCode(error, "UNEXPECTED_EOF", "CLOSED")) callback();
        else callback(toNodeError(error, "shutdown"));
      },
    );
  }

  /** @internal Stream plumbing: closes the connection at once. */
  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#stopTimer();
    this.#conn?.close();
    this.#settle.reject(error ?? closedError());
    callback(error);
  }

  /** Progress: the idle period starts again. */
  #active(): void {
    this.#lastActive = performance.now();
    if (this.#timeoutMs > 0 && this.#timer === undefined && !this.destroyed) {
      this.#arm(this.#timeoutMs);
    }
  }

  #arm(delay: number): void {
    this.#timer = setNodeTimeout(() => {
      this.#timer = undefined;
      if (this.destroyed || this.#timeoutMs === 0) return;
      const quiet = performance.now() - this.#lastActive;
      if (quiet >= this.#timeoutMs) this.emit("timeout");
      else this.#arm(this.#timeoutMs - quiet);
    }, Math.max(1, Math.ceil(delay)));
    this.#timer.unref();
  }

  #stopTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Emits `timeout` once `ms` pass without bytes read or written (the
   * socket stays open: the listener decides); `0` turns it off. Each
   * activity restarts the period. `listener` is added for `timeout`
   * (removed with `0`). The timer never keeps the process alive.
   */
  setTimeout(ms: number, listener?: () => void): this {
    if (typeof ms !== "number" || !(ms >= 0) || !Number.isFinite(ms)) {
      throw toNodeError(
        new TlsError("INVALID_CONFIG", `setTimeout needs a number of milliseconds, not ${ms}`),
      );
    }
    this.#stopTimer();
    this.#timeoutMs = ms;
    this.timeout = ms === 0 ? undefined : ms;
    if (listener) {
      if (ms === 0) this.removeListener("timeout", listener);
      else this.once("timeout", listener);
    }
    if (ms > 0) {
      this.#lastActive = performance.now();
      this.#arm(ms);
    }
    return this;
  }

  /**
   * Accepted for compatibility: the module's sockets always have
   * `TCP_NODELAY` set (records leave at once), whatever is asked.
   */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /**
   * Accepted for compatibility, without effect: the native library sets no
   * TCP keep-alive probes. Idle connections are ended by `setTimeout` or the
   * `idleTimeout` option instead.
   */
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /** Makes the connection's waits keep the process alive again (the default). */
  ref(): this {
    this.#refed = true;
    this.#conn?.ref();
    return this;
  }

  /** Lets the process exit while this connection only waits. */
  unref(): this {
    this.#refed = false;
    this.#conn?.unref();
    return this;
  }

  /** Same as `destroy()` (a TCP reset is not available here). */
  resetAndDestroy(): this {
    return this.destroy();
  }

  /** Ends the writable side, then destroys the socket once it finished. */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once("finish", () => this.destroy());
  }

  /** The local address as `{ address, family, port }` (`{}` when not TCP or not connected). */
  address(): SocketAddressInfo | Record<string, never> {
    const local = tcp(this.#conn?.localAddr);
    if (!local) return {};
    return { address: local.hostname, family: family(local.hostname), port: local.port };
  }

  /** The peer's IP address. */
  get remoteAddress(): string | undefined {
    return tcp(this.#conn?.remoteAddr)?.hostname;
  }

  /** The peer's port. */
  get remotePort(): number | undefined {
    return tcp(this.#conn?.remoteAddr)?.port;
  }

  /** `"IPv4"` or `"IPv6"`. */
  get remoteFamily(): string | undefined {
    const remote = tcp(this.#conn?.remoteAddr);
    return remote && family(remote.hostname);
  }

  /** The local IP address. */
  get localAddress(): string | undefined {
    return tcp(this.#conn?.localAddr)?.hostname;
  }

  /** The local port. */
  get localPort(): number | undefined {
    return tcp(this.#conn?.localAddr)?.port;
  }

  /** `"IPv4"` or `"IPv6"`. */
  get localFamily(): string | undefined {
    const local = tcp(this.#conn?.localAddr);
    return local && family(local.hostname);
  }

  /** `"TLSv1.2"` or `"TLSv1.3"`; `null` before the handshake. */
  getProtocol(): string | null {
    return this.#info?.protocol ?? null;
  }

  /** The cipher suite as `node:tls` names it; `null` before the handshake. */
  getCipher(): CipherNameAndProtocol | null {
    const info = this.#info;
    if (!info) return null;
    const standardName = info.cipherSuite.replace(/^TLS13_/, "TLS_");
    return {
      name: OPENSSL_SUITES[standardName] ?? standardName,
      standardName,
      version: info.protocol,
    };
  }

  /** Whether the session was resumed. */
  isSessionReused(): boolean {
    return this.#info?.resumed ?? false;
  }

  /**
   * The peer's certificate in `node:tls`' shape (`raw` is the DER as a
   * `Buffer`); `{}` when it sent none, `null` before the handshake. With
   * `detailed`, `issuerCertificate` links the chain the peer sent.
   */
  getPeerCertificate(detailed: true): DetailedPeerCertificate | Record<string, never> | null;
  /** The peer's leaf certificate (see the overload above). */
  getPeerCertificate(detailed?: false): PeerCertificate | Record<string, never> | null;
  /** The peer's certificate, with `issuerCertificate` links when `detailed`. */
  getPeerCertificate(
    detailed?: boolean,
  ): DetailedPeerCertificate | PeerCertificate | Record<string, never> | null;
  getPeerCertificate(
    detailed = false,
  ): DetailedPeerCertificate | PeerCertificate | Record<string, never> | null {
    if (!this.#info) return null;
    return peerCertificate(this.#info.peerCertificates, detailed);
  }

  /** The peer's certificate as a `node:crypto` `X509Certificate` (`undefined` when none). */
  getPeerX509Certificate(): X509Certificate | undefined {
    return this.#info ? peerX509(this.#info.peerCertificates) : undefined;
  }

  /**
   * RFC 5705 keying material (see `TlsConn.exportKeyingMaterial`; the
   * connection needs the `exportKeyingMaterial: true` option). Throws the
   * Node-coded error.
   */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Buffer {
    try {
      if (!this.#conn) throw new TlsError("NOT_SUPPORTED", "the handshake has not finished yet");
      return Buffer.from(this.#conn.exportKeyingMaterial(length, label, context));
    } catch (error) {
      throw toNodeError(error);
    }
  }
}

/**
 * `conn` as a `node:stream` `Duplex` shaped like `tls.TLSSocket`: for
 * libraries that take a socket (`httpServer.emit("connection", socket)`,
 * pg's `stream`, ioredis' `Connector`, undici's `connect`). The socket owns
 * `conn` from now on (`destroy()` closes it). It emits `connect` and
 * `secureConnect` once the handshake is done (at once for a finished one).
 *
 * @example Serving `node:http` over this module's TLS
 * ```ts
 * import { createServer } from "node:http";
 * import { listenTls } from "@rustls-sockets/tls";
 * import { toNodeSocket } from "@rustls-sockets/tls/node";
 *
 * const http = createServer((req, res) => res.end("hello\n"));
 * for await (const conn of await listenTls({ port: 8443, cert, key })) {
 *   http.emit("connection", toNodeSocket(conn));
 * }
 * ```
 */
export function toNodeSocket(conn: TlsConn): TlsNodeSocket {
  const socket = new TlsNodeSocket();
  begin(socket, Promise.resolve(conn));
  return socket;
}

/** Internal: a socket whose connection `connecting` makes. */
export function connectingSocket(
  connecting: Promise<TlsConn>,
  options: TlsNodeSocketOptions = {},
): TlsNodeSocket {
  const socket = new TlsNodeSocket(options);
  begin(socket, connecting);
  return socket;
}

/** Internal: an unconnected socket whose `connect()` calls `connector`. */
export function unconnectedSocket(
  connector: SocketConnector,
  options: TlsNodeSocketOptions = {},
): TlsNodeSocket {
  const socket = new TlsNodeSocket(options);
  setConnector(socket, connector);
  return socket;
}

export type { NodeTlsError };
