/**
 * `createFetch`: a function with `fetch`'s signature whose TLS connections
 * are made by this module, so every `connectTls` option (pins,
 * `verifyPeer`, client certificates, CRLs, ECH) applies to HTTPS requests.
 * HTTP itself is undici's (the Node.js project's HTTP client, a pinned
 * dependency), through an `Agent` whose `connect` hook returns a
 * `TlsNodeSocket`; connections are pooled and kept alive by undici.
 *
 * undici is loaded by its file path (`undici/index.js`): Bun answers the
 * bare name `undici` with its own shim, which ignores the `connect` hook.
 *
 * @module
 */
import { connect as connectNet, type Socket } from "node:net";
import { TlsError } from "../core/errors.ts";
import type { TlsClientOptions } from "../core/types.ts";
import { connect } from "./connect.ts";
import { clientPlan, type NodeConnectOptions } from "./options.ts";
import { toNodeError } from "./errors.ts";
import type { TlsNodeSocket } from "./socket.ts";

/** Options of {@link createFetch}: every option of `connectTls` but the address, plus the pool's. */
export interface CreateFetchOptions extends TlsClientOptions {
  /**
   * Connections kept per origin (undici's `connections`; default: no limit).
   */
  connections?: number;
  /** Milliseconds an idle kept-alive connection stays open (undici's default: 4 000). */
  keepAliveTimeout?: number;
}

/** A `fetch` whose HTTPS connections use this module's TLS; `close()` ends its pool. */
export interface TlsFetch {
  /** Fetches as the global `fetch` does (the `Response` is undici's, with the same interface). */
  (input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Closes the pooled connections; later calls reject. */
  close(): Promise<void>;
}

/** What the `connect` hook is given by undici. */
interface ConnectRequest {
  hostname: string;
  protocol: string;
  port: string;
  servername?: string;
}

/** The part of undici this uses. */
interface Undici {
  Agent: new (options: Record<string, unknown>) => UndiciAgent;
  fetch(input: unknown, init?: Record<string, unknown>): Promise<Response>;
}

interface UndiciAgent {
  close(): Promise<void>;
}

const POOL_KEYS = new Set(["connections", "keepAliveTimeout"]);

let undici: Promise<Undici> | undefined;

/** Loads undici once, by path (see the module comment). */
function loadUndici(): Promise<Undici> {
  undici ??= import("undici/index.js") as unknown as Promise<Undici>;
  return undici;
}

function refuse(message: string): never {
  throw toNodeError(new TlsError("INVALID_CONFIG", message));
}

/**
 * Makes a `fetch` whose HTTPS connections are this module's: `options` are
 * `connectTls`' (`caCerts`, `pinnedPublicKeys`, `verifyPeer`, `cert`/`key`,
 * `crls`, `ech`, ...; `serverName` defaults to each URL's host), applied to
 * every connection. HTTP/1.1 with keep-alive (ALPN `http/1.1` unless
 * `alpnProtocols` says otherwise); plain `http:` URLs go over `node:net`.
 * A TLS failure rejects like `fetch` (`TypeError: fetch failed`) with the
 * Node-coded error as `cause` and the `TlsError` as its `cause`.
 *
 * @example
 * ```ts
 * import { createFetch } from "@rustls-sockets/tls/node";
 *
 * const pinnedFetch = createFetch({ pinnedPublicKeys: ["sha256//..."] });
 * const response = await pinnedFetch("https://api.example.com/v1/status");
 * console.log(response.status, await response.text());
 * await pinnedFetch.close();
 * ```
 */
export function createFetch(options: CreateFetchOptions = {}): TlsFetch {
  if (options === null || typeof options !== "object") {
    refuse("createFetch needs an options object");
  }
  const tls: Record<string, unknown> = {};
  const pool: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    if (POOL_KEYS.has(key)) pool[key] = value;
    else tls[key] = value;
  }
  for (const key of ["hostname", "port", "path", "host"]) {
    if (key in tls) refuse(`createFetch has no option ${key}: the URL says where to connect`);
  }
  tls.alpnProtocols ??= ["http/1.1"];
  // Checked now: a bad option throws here, not at the first request.
  clientPlan({ ...tls, port: 1 } as NodeConnectOptions);

  const hook = (request: ConnectRequest, done: (error: Error | null, socket: unknown) => void) => {
    const port = Number(request.port) || (request.protocol === "https:" ? 443 : 80);
    if (request.protocol !== "https:") {
      const plain: Socket = connectNet({ host: request.hostname, port });
      const ready = (): void => {
        plain.off("error", failed);
        done(null, plain);
      };
      const failed = (error: Error): void => {
        plain.off("connect", ready);
        done(error, null);
      };
      plain.once("connect", ready);
      plain.once("error", failed);
      return;
    }
    const host = request.hostname.replace(/^\[(.*)\]$/, "$1");
    let socket: TlsNodeSocket;
    try {
      socket = connect({
        ...tls,
        host,
        port,
        ...(tls.serverName === undefined && request.servername
          ? { servername: request.servername }
          : {}),
      } as NodeConnectOptions);
    } catch (error) {
      done(error as Error, null);
      return;
    }
    const ready = (): void => {
      socket.off("error", failed);
      done(null, socket);
    };
    const failed = (error: Error): void => {
      socket.off("secureConnect", ready);
      done(error, null);
    };
    socket.once("secureConnect", ready);
    socket.once("error", failed);
  };

  let agent: Promise<UndiciAgent> | undefined;
  let closed = false;
  const agentOf = (lib: Undici): Promise<UndiciAgent> =>
    agent ??= Promise.resolve(new lib.Agent({ ...pool, connect: hook }));

  const tlsFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    if (closed) throw new TypeError("this fetch was closed (close())");
    const lib = await loadUndici();
    const dispatcher = await agentOf(lib);
    return await lib.fetch(input, { ...init, dispatcher } as Record<string, unknown>);
  };
  return Object.assign(tlsFetch, {
    async close(): Promise<void> {
      closed = true;
      if (agent) await (await agent).close();
    },
  });
}
