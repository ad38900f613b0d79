/**
 * The server side shaped like `node:tls`: `createServer()` gives a
 * `TlsNodeServer` whose `secureConnection` event hands out `TlsNodeSocket`s,
 * the form `node:http` and `node:http2` servers take with
 * `httpServer.emit("connection", socket)`.
 *
 * @module
 */
import { EventEmitter } from "node:events";
import { listenTls, type TlsListener } from "../api/listener.ts";
import type { TlsConn } from "../api/conn.ts";
import { TlsError } from "../core/errors.ts";
import type { NetAddr, ServerCertificates } from "../core/types.ts";
import { toNodeError } from "./errors.ts";
import { type NodeServerOptions, pemText, serverOptions } from "./options.ts";
import { connectingSocket, type SocketAddressInfo, type TlsNodeSocket } from "./socket.ts";
import type { ListenTlsOptions } from "../core/types.ts";

/** Where `listen()` listens. */
export interface NodeListenOptions {
  /** TCP port; `0` (the default) picks a free one. */
  port?: number;
  /** Address (default `"0.0.0.0"`). */
  host?: string;
  /** A Unix-domain socket path instead. */
  path?: string;
}

function notRunning(): Error {
  const error = new Error("the server is not running") as Error & { code: string };
  error.code = "ERR_SERVER_NOT_RUNNING";
  return error;
}

/**
 * A TLS server shaped like `tls.Server`: `listen()`, `address()`,
 * `close()`; events `listening`, `secureConnection` (a `TlsNodeSocket`
 * whose handshake is done), `tlsClientError` (a handshake that failed:
 * Node-coded error and the socket), `error` (listening failed) and `close`.
 */
export class TlsNodeServer extends EventEmitter {
  readonly #options: ListenTlsOptions;
  readonly #allowHalfOpen: boolean;
  #listener: TlsListener | undefined;
  #starting = false;
  #refed = true;
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createServer}. */
  constructor(options: NodeServerOptions) {
    super();
    this.#options = serverOptions(options);
    this.#allowHalfOpen = options.allowHalfOpen === true;
  }

  /** The module's listener underneath (`undefined` until listening). */
  get tlsListener(): TlsListener | undefined {
    return this.#listener;
  }

  /** Whether it is listening. */
  get listening(): boolean {
    return this.#listener !== undefined && this.#closing === undefined;
  }

  /**
   * Starts listening: `listen(port?, host?, callback?)` or
   * `listen({ port, host } | { path }, callback?)`. `listening` is emitted
   * (and `callback` called) once the socket listens; a failure is an `error`
   * event.
   */
  listen(
    port?: number | NodeListenOptions | (() => void),
    host?: string | (() => void),
    callback?: () => void,
  ): this {
    let where: NodeListenOptions = {};
    if (typeof port === "function") callback = port;
    else if (typeof port === "object" && port !== null) where = port;
    else if (port !== undefined) where = { port };
    if (typeof host === "function") callback = host;
    else if (typeof host === "string") where = { ...where, host };
    if (this.#starting || this.#listener) {
      const error = new Error("listen() was called already") as Error & { code: string };
      error.code = "ERR_SERVER_ALREADY_LISTEN";
      throw error;
    }
    this.#starting = true;
    if (callback) this.once("listening", callback);
    const address = where.path !== undefined
      ? { path: where.path }
      : { hostname: where.host, port: where.port ?? 0 };
    if (address.hostname === undefined) delete address.hostname;
    listenTls({ ...this.#options, ...address }).then((listener) => {
      this.#listener = listener as TlsListener;
      if (!this.#refed) listener.unref();
      this.emit("listening");
      void this.#acceptAll(listener as TlsListener);
    }, (error) => {
      this.#starting = false;
      this.emit("error", toNodeError(error, "listen"));
    });
    return this;
  }

  async #acceptAll(listener: TlsListener): Promise<void> {
    try {
      for await (const conn of listener) this.#serve(conn);
    } catch (error) {
      if (!(error instanceof TlsError && error.code === "CLOSED")) {
        this.emit("error", toNodeError(error, "accept"));
      }
    }
  }

  /** Hands `conn` out as `secureConnection` once its handshake is done. */
  #serve(conn: TlsConn): void {
    const socket = connectingSocket(Promise.resolve(conn), { allowHalfOpen: this.#allowHalfOpen });
    const failed = (error: Error): void => {
      this.emit("tlsClientError", error, socket);
    };
    socket.once("error", failed);
    socket.once("secureConnect", () => {
      socket.off("error", failed);
      this.emit("secureConnection", socket);
    });
  }

  /** `{ address, family, port }` of the listening socket (a path for Unix-domain ones), or `null`. */
  address(): SocketAddressInfo | string | null {
    const addr = this.#listener?.addr as NetAddr | { transport: "unix"; path: string } | undefined;
    if (!addr) return null;
    if (addr.transport === "unix") return addr.path;
    return {
      address: addr.hostname,
      family: addr.hostname.includes(":") ? "IPv6" : "IPv4",
      port: addr.port,
    };
  }

  /**
   * Stops accepting; `close` is emitted (and `callback` called) once every
   * connection it accepted has closed, as in Node. Without a running server
   * `callback` gets `ERR_SERVER_NOT_RUNNING`.
   */
  close(callback?: (error?: Error) => void): this {
    const listener = this.#listener;
    if (!listener || this.#closing) {
      if (callback) queueMicrotask(() => callback(notRunning()));
      return this;
    }
    this.#closing = listener.shutdown().then(() => {
      this.#listener = undefined;
      this.#starting = false;
      this.#closing = undefined;
      this.emit("close");
      callback?.();
    });
    return this;
  }

  /** The number of accepted connections still open. */
  getConnections(callback: (error: Error | null, count: number) => void): this {
    const count = this.#listener?.activeConnections ?? 0;
    queueMicrotask(() => callback(null, count));
    return this;
  }

  /**
   * Replaces the certificate for new handshakes (as `tls.Server`'s
   * `setSecureContext`; `TlsListener.setCertificates` underneath).
   */
  setSecureContext(options: { cert: string | Uint8Array; key: string | Uint8Array }): void {
    if (!this.#listener) throw notRunning();
    const certificates: ServerCertificates = {
      cert: pemText(options.cert, "cert"),
      key: pemText(options.key, "key"),
    };
    try {
      this.#listener.setCertificates(certificates);
    } catch (error) {
      throw toNodeError(error);
    }
  }

  /** Makes a listening server keep the process alive (the default). */
  ref(): this {
    this.#refed = true;
    this.#listener?.ref();
    return this;
  }

  /** Lets the process exit while the server only waits for connections. */
  unref(): this {
    this.#refed = false;
    this.#listener?.unref();
    return this;
  }
}

/**
 * A TLS server shaped like `tls.createServer`: `listenTls`' options (without
 * the address, given to `listen()`), plus Node's `ca` / `requestCert` /
 * `rejectUnauthorized` (→ `clientAuth`) and `ALPNProtocols`.
 * `secureConnectionListener` is added for `secureConnection`.
 *
 * @example `node:http` behind it
 * ```ts
 * import http from "node:http";
 * import { createServer } from "@rustls-sockets/tls/node";
 *
 * const app = http.createServer((req, res) => res.end("hello\n"));
 * const tls = createServer({ cert, key, ALPNProtocols: ["http/1.1"] }, (socket) => {
 *   app.emit("connection", socket);
 * });
 * tls.listen(8443);
 * ```
 */
export function createServer(
  options: NodeServerOptions,
  secureConnectionListener?: (socket: TlsNodeSocket) => void,
): TlsNodeServer {
  const server = new TlsNodeServer(options);
  if (secureConnectionListener) server.on("secureConnection", secureConnectionListener);
  return server;
}

/** What {@link serveHttp} needs of a `node:http`, `node:https` or `node:http2` server. */
export interface ConnectionTaker {
  /** Emits `connection` with a socket, as such servers take them. */
  emit(event: "connection", socket: TlsNodeSocket): boolean;
}

/**
 * Serves `httpServer` (from `node:http`'s or `node:http2`'s `createServer()`,
 * not listening itself) over `tlsServer`: every `secureConnection` is
 * emitted to it as `connection`. Use ALPN `http/1.1` for `node:http` and
 * `h2` for `node:http2`.
 *
 * Beyond that one line, it makes `httpServer.listening` follow
 * `tlsServer.listening`: Deno's `node:http` ends a kept-alive connection
 * after each response when its server does not listen, which would turn
 * keep-alive off.
 *
 * @example
 * ```ts
 * import http from "node:http";
 * import { createServer, serveHttp } from "@rustls-sockets/tls/node";
 *
 * const tls = createServer({ cert, key, ALPNProtocols: ["http/1.1"] });
 * serveHttp(tls, http.createServer((req, res) => res.end("hello\n")));
 * tls.listen(8443);
 * ```
 */
export function serveHttp(tlsServer: TlsNodeServer, httpServer: ConnectionTaker): void {
  Object.defineProperty(httpServer, "listening", {
    configurable: true,
    enumerable: true,
    get: () => tlsServer.listening,
  });
  tlsServer.on("secureConnection", (socket: TlsNodeSocket) => {
    httpServer.emit("connection", socket);
  });
}
