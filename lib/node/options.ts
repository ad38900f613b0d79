/**
 * Node's option names (`host`, `servername`, `ca`, `ALPNProtocols`,
 * `rejectUnauthorized`, `requestCert`, ...) translated to this module's,
 * since `connectTls`, `startTls` and `listenTls` refuse keys they do not
 * know. Buffers become PEM text. A Node option this module cannot honour is
 * refused (`ERR_INVALID_ARG_VALUE`) rather than ignored, except the few
 * listed in `IGNORED_CLIENT_KEYS`, which libraries pass on every call.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { TlsError } from "../core/errors.ts";
import { OPTION_KEYS } from "../config/option_keys.ts";
import type {
  HandshakeInfo,
  ListenTlsOptions,
  TlsClientOptions,
  TlsVersion,
} from "../core/types.ts";
import type { NodeSocketLike } from "../transports/carriers.ts";
import type { PlainConn } from "../sockets/plain.ts";
import { legacyCertificate, type PeerCertificate } from "./certificate.ts";
import { toNodeError } from "./errors.ts";

/** PEM text, as a string or the bytes of a file. */
export type Pem = string | Uint8Array;

/** Options of `connect` and `createSocket`: Node's names, plus every option of `connectTls`. */
export interface NodeConnectOptions extends Omit<TlsClientOptions, "cert" | "key"> {
  /** Host name or IP address (default `"localhost"`, as in Node). `hostname` is taken too. */
  host?: string;
  /** `connectTls`' spelling of `host`. */
  hostname?: string;
  /** TCP port. */
  port?: number | string;
  /** A Unix-domain socket path instead of `host`/`port`. */
  path?: string;
  /** SNI and the name verified (`serverName` is taken too); defaults to `host`. */
  servername?: string;
  /** Trusted roots, PEM; they replace the system roots, as in Node (`caCerts` is taken too). */
  ca?: Pem | Pem[];
  /** Client certificate chain, PEM (leaf first). */
  cert?: Pem;
  /** The client certificate's private key, PEM (unencrypted). */
  key?: Pem;
  /** ALPN protocols to offer (`alpnProtocols` is taken too). */
  ALPNProtocols?: (string | Uint8Array)[];
  /** `false` turns verification off (`dangerouslyDisableVerification`; warns once). Default `true`. */
  rejectUnauthorized?: boolean;
  /**
   * Called after the module's own verification succeeded (it does not
   * replace it) with the name and the leaf certificate in Node's shape;
   * returning an `Error` refuses the server (`VERIFY_REJECTED`).
   */
  checkServerIdentity?: (hostname: string, cert: PeerCertificate) => Error | undefined;
  /**
   * An existing connected `node:net` socket to run TLS over (STARTTLS): the
   * TLS socket owns it from then on.
   */
  socket?: NodeSocketLike;
  /**
   * Runs on the module's own plaintext connection before the TLS handshake,
   * for protocols that upgrade (PostgreSQL's SSLRequest:
   * `postgresSslRequest`; SMTP's STARTTLS). Not with `socket`.
   */
  negotiate?: (plain: PlainConn) => Promise<void>;
  /** `socket.setTimeout(timeout)` at once (ms of inactivity before `timeout` is emitted). */
  timeout?: number;
  /** Keep writing after the peer ended (default `false`). */
  allowHalfOpen?: boolean;
  /** Accepted and ignored: the address family follows `host`. */
  family?: number;
  /** Accepted and ignored: `TCP_NODELAY` is always set. */
  noDelay?: boolean;
  /** Accepted and ignored: no TCP keep-alive probes are set (see `setKeepAlive`). */
  keepAlive?: boolean;
  /** Accepted and ignored (see `keepAlive`). */
  keepAliveInitialDelay?: number;
  /** Accepted and ignored: sessions resume automatically (see the README's Session resumption). */
  session?: Uint8Array;
}

/** Options of `createServer`: those of `listenTls` (without the address), plus Node's spellings. */
export interface NodeServerOptions
  extends Omit<ListenTlsOptions, "hostname" | "port" | "path" | "fd" | "cert" | "key"> {
  /** The default certificate chain, PEM (leaf first). */
  cert?: Pem;
  /** Its private key, PEM. */
  key?: Pem;
  /** Roots client certificates must chain to, with `requestCert`. */
  ca?: Pem | Pem[];
  /** Ask clients for a certificate, verified against `ca` (`clientAuth`). */
  requestCert?: boolean;
  /** With `requestCert`: `false` lets clients without a certificate in. Default `true`. */
  rejectUnauthorized?: boolean;
  /** ALPN protocols the server supports (`alpnProtocols` is taken too). */
  ALPNProtocols?: (string | Uint8Array)[];
  /** Whether accepted sockets stay writable after the client ended (default `false`). */
  allowHalfOpen?: boolean;
}

/** What the client side needs: where to connect and `connectTls`' / `startTls`' options. */
export interface ClientPlan {
  /** TCP host (with `port`). */
  host: string;
  /** TCP port; `undefined` with `path` or `socket`. */
  port: number | undefined;
  /** A Unix-domain socket path. */
  path: string | undefined;
  /** The name to verify when the carrier does not say (STARTTLS). */
  serverName: string;
  /** Options for `connectTls` / `startTls`, without the address. */
  tls: TlsClientOptions;
  /** `socket`, for STARTTLS. */
  socket: NodeSocketLike | undefined;
  /** `negotiate`. */
  negotiate: ((plain: PlainConn) => Promise<void>) | undefined;
  /** `timeout`. */
  timeout: number | undefined;
  /** `allowHalfOpen`. */
  allowHalfOpen: boolean;
}

const NODE_CLIENT_KEYS = new Set([
  "host",
  "hostname",
  "port",
  "path",
  "servername",
  "ca",
  "cert",
  "key",
  "ALPNProtocols",
  "rejectUnauthorized",
  "checkServerIdentity",
  "socket",
  "negotiate",
  "timeout",
  "allowHalfOpen",
]);

/** Node options that libraries pass on every call and that change nothing here. */
const IGNORED_CLIENT_KEYS = new Set([
  "family",
  "noDelay",
  "keepAlive",
  "keepAliveInitialDelay",
  "session",
]);

/** Node options with no counterpart, and what to use instead. */
const NODE_HINTS: Record<string, string> = {
  ciphers: "cipherSuites (rustls names)",
  ecdhCurve: "keyExchangeGroups",
  pfx: "cert and key (PEM)",
  passphrase: "an unencrypted PEM key",
  secureContext: "the options themselves",
  secureProtocol: "minVersion / maxVersion",
  SNICallback: "resolveCertificate or sni",
  sessionIdContext: "nothing: session resumption is automatic",
  enableTrace: "keyLog (secrets) or a packet capture",
};

function refuse(message: string): never {
  throw toNodeError(new TlsError("INVALID_CONFIG", message));
}

function checkKeys(options: object, entry: string, allowed: Set<string>): void {
  for (const key of Object.keys(options)) {
    if (allowed.has(key)) continue;
    const hint = Object.hasOwn(NODE_HINTS, key) ? `: use ${NODE_HINTS[key]}` : "";
    refuse(`${entry} has no option ${JSON.stringify(key)}${hint}`);
  }
}

/** PEM text from a string or bytes. */
export function pemText(value: unknown, what: string): string {
  if (typeof value === "string") return value;
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  return refuse(`${what} must be PEM text (a string or a Buffer)`);
}

function pemList(value: unknown, what: string): string[] {
  return (Array.isArray(value) ? value : [value]).map((v) => pemText(v, what));
}

function alpnList(value: unknown, what: string): string[] {
  if (!Array.isArray(value)) {
    return refuse(`${what} must be an array of protocol names (["h2", "http/1.1"])`);
  }
  return value.map((v) => {
    if (typeof v === "string") return v;
    if (v instanceof Uint8Array) return Buffer.from(v).toString("latin1");
    return refuse(`${what} must be an array of protocol names`);
  });
}

function checkVersion(value: unknown, what: string): TlsVersion | undefined {
  if (value === undefined) return undefined;
  if (value === "TLSv1.2" || value === "TLSv1.3") return value;
  return refuse(
    `${what} ${JSON.stringify(value)} is not available: this module speaks "TLSv1.2" and "TLSv1.3"`,
  );
}

/** Sets `out[key]` from a Node spelling and this module's, refusing both at once. */
function either<T>(
  nodeValue: T | undefined,
  ownValue: T | undefined,
  names: string,
): T | undefined {
  if (nodeValue !== undefined && ownValue !== undefined) refuse(`give one of ${names}, not both`);
  return nodeValue ?? ownValue;
}

/** Translates `connect`'s options. */
export function clientPlan(options: NodeConnectOptions): ClientPlan {
  if (options === null || typeof options !== "object") refuse("connect needs an options object");
  const allowed = new Set([
    ...NODE_CLIENT_KEYS,
    ...IGNORED_CLIENT_KEYS,
    ...OPTION_KEYS.connectTls,
  ]);
  checkKeys(options, "connect", allowed);
  const tls: TlsClientOptions = {};
  const own = options as Record<string, unknown>;
  for (const key of OPTION_KEYS.connectTls) {
    if (key === "hostname" || key === "port" || key === "path") continue;
    if (own[key] !== undefined) (tls as Record<string, unknown>)[key] = own[key];
  }
  const host = either(options.host, options.hostname, "host and hostname") ?? "localhost";
  if (typeof host !== "string" || host === "") refuse("host must be a host name or IP address");
  const servername = either(options.servername, options.serverName, "servername and serverName");
  if (servername !== undefined) tls.serverName = servername;
  const ca = options.ca === undefined ? undefined : pemList(options.ca, "ca");
  tls.caCerts = either(ca, options.caCerts, "ca and caCerts");
  if (options.cert !== undefined) tls.cert = pemText(options.cert, "cert");
  if (options.key !== undefined) tls.key = pemText(options.key, "key");
  const alpn = options.ALPNProtocols === undefined
    ? undefined
    : alpnList(options.ALPNProtocols, "ALPNProtocols");
  tls.alpnProtocols = either(alpn, options.alpnProtocols, "ALPNProtocols and alpnProtocols");
  tls.minVersion = checkVersion(options.minVersion, "minVersion");
  tls.maxVersion = checkVersion(options.maxVersion, "maxVersion");
  if (options.rejectUnauthorized === false) {
    // Node still consults ca for `authorized` then; here nothing is checked at all.
    tls.dangerouslyDisableVerification = true;
    delete tls.caCerts;
  }
  const check = options.checkServerIdentity;
  if (check !== undefined) {
    if (typeof check !== "function") refuse("checkServerIdentity must be a function");
    const name = servername ?? host;
    const verifyPeer = options.verifyPeer;
    tls.verifyPeer = async (info: HandshakeInfo): Promise<void> => {
      const leaf = info.peerCertificates[0];
      const refused = leaf === undefined ? undefined : check(name, legacyCertificate(leaf));
      if (refused instanceof Error) throw refused;
      if (verifyPeer) await verifyPeer(info);
    };
  }
  for (const key of Object.keys(tls) as (keyof TlsClientOptions)[]) {
    if (tls[key] === undefined) delete tls[key];
  }
  const path = options.path;
  if (path !== undefined && (typeof path !== "string" || path === "")) {
    refuse("path must be a Unix-domain socket path");
  }
  let port: number | undefined;
  if (path === undefined && options.socket === undefined) {
    port = Number(options.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      refuse(`port must be a TCP port number, not ${JSON.stringify(options.port)}`);
    }
  }
  if (options.negotiate !== undefined && typeof options.negotiate !== "function") {
    refuse("negotiate must be a function");
  }
  if (options.negotiate !== undefined && options.socket !== undefined) {
    refuse("negotiate runs on the module's own connection: not with socket");
  }
  return {
    host,
    port,
    path,
    serverName: servername ?? host,
    tls,
    socket: options.socket,
    negotiate: options.negotiate,
    timeout: options.timeout,
    allowHalfOpen: options.allowHalfOpen === true,
  };
}

const NODE_SERVER_KEYS = new Set([
  "cert",
  "key",
  "ca",
  "requestCert",
  "rejectUnauthorized",
  "ALPNProtocols",
  "allowHalfOpen",
]);

/** Translates `createServer`'s options into `listenTls`' (without the address). */
export function serverOptions(options: NodeServerOptions): ListenTlsOptions {
  if (options === null || typeof options !== "object") {
    refuse("createServer needs an options object");
  }
  const listenKeys = [...OPTION_KEYS.listenTls].filter((k) =>
    !["hostname", "port", "path", "fd"].includes(k)
  );
  checkKeys(options, "createServer", new Set([...NODE_SERVER_KEYS, ...listenKeys]));
  const out: Record<string, unknown> = {};
  const own = options as Record<string, unknown>;
  for (const key of listenKeys) if (own[key] !== undefined) out[key] = own[key];
  if (options.cert !== undefined) out.cert = pemText(options.cert, "cert");
  if (options.key !== undefined) out.key = pemText(options.key, "key");
  const alpn = options.ALPNProtocols === undefined
    ? undefined
    : alpnList(options.ALPNProtocols, "ALPNProtocols");
  const protocols = either(alpn, options.alpnProtocols, "ALPNProtocols and alpnProtocols");
  if (protocols !== undefined) out.alpnProtocols = protocols;
  if (options.requestCert === true) {
    if (options.clientAuth !== undefined) {
      refuse("give one of requestCert and clientAuth, not both");
    }
    if (options.ca === undefined) {
      refuse("requestCert needs ca: the roots client certificates must chain to");
    }
    out.clientAuth = {
      caCerts: pemList(options.ca, "ca"),
      required: options.rejectUnauthorized !== false,
    };
  } else if (options.ca !== undefined) {
    refuse(
      "ca without requestCert: put intermediates in cert (leaf first); ca is for verifying " +
        "client certificates (requestCert: true)",
    );
  } else if (options.rejectUnauthorized !== undefined) {
    refuse("rejectUnauthorized applies to client certificates: give it with requestCert");
  }
  return out as ListenTlsOptions;
}
