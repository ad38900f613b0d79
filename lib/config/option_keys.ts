/**
 * Unknown option keys are refused: a misspelt option, or one from another
 * API (`ca`, `rejectUnauthorized`, ...), would otherwise quietly do nothing.
 * The lists are typed against the option interfaces, so they cannot fall
 * behind them.
 *
 * @module
 */
import { TlsError } from "../core/errors.ts";
import type {
  ConnectTlsOptions,
  ConnectUnixTlsOptions,
  ListenTlsOptions,
  TlsClientOptions,
  TlsServerOptions,
} from "../core/types.ts";

const CLIENT: Record<keyof TlsClientOptions, true> = {
  serverName: true,
  caCerts: true,
  extraCaCerts: true,
  crls: true,
  dangerouslyIgnoreCrlExpiry: true,
  pinnedPublicKeys: true,
  verifyPeer: true,
  dangerouslyDisableVerification: true,
  cert: true,
  key: true,
  alpnProtocols: true,
  minVersion: true,
  maxVersion: true,
  cipherSuites: true,
  keyExchangeGroups: true,
  ech: true,
  keyLog: true,
  exportKeyingMaterial: true,
  signal: true,
  handshakeTimeout: true,
  idleTimeout: true,
};

const SERVER: Record<keyof TlsServerOptions, true> = {
  cert: true,
  key: true,
  ocspResponse: true,
  sni: true,
  resolveCertificate: true,
  alpnProtocols: true,
  minVersion: true,
  maxVersion: true,
  cipherSuites: true,
  keyExchangeGroups: true,
  keyLog: true,
  exportKeyingMaterial: true,
  handshakeTimeout: true,
  idleTimeout: true,
  clientAuth: true,
  verifyPeer: true,
};

const CONNECT: Record<
  Exclude<keyof ConnectTlsOptions | keyof ConnectUnixTlsOptions, keyof TlsClientOptions>,
  true
> = { hostname: true, port: true, path: true };

const LISTEN: Record<Exclude<keyof ListenTlsOptions, keyof TlsServerOptions>, true> = {
  hostname: true,
  port: true,
  path: true,
  fd: true,
  maxConnections: true,
  reusePort: true,
};

/** The keys each entry point takes. */
export const OPTION_KEYS = {
  connectTls: new Set([...Object.keys(CLIENT), ...Object.keys(CONNECT)]),
  startTls: new Set([...Object.keys(CLIENT), "hostname"]),
  listenTls: new Set([...Object.keys(SERVER), ...Object.keys(LISTEN)]),
  acceptTls: new Set([...Object.keys(SERVER), "signal"]),
} as const;

/** Other APIs' spellings, and what this module calls them. */
const OTHER_SPELLINGS: Record<string, string> = {
  ca: "caCerts (it replaces the system roots; extraCaCerts adds to them)",
  rejectUnauthorized: "dangerouslyDisableVerification: true (rejectUnauthorized: false)",
  checkServerIdentity: "verifyPeer",
  certChain: "cert",
  privateKey: "key",
  ALPNProtocols: "alpnProtocols",
  servername: "serverName",
  host: "hostname",
  ciphers: "cipherSuites",
  ecdhCurve: "keyExchangeGroups",
  timeout: "handshakeTimeout or idleTimeout",
  SNICallback: "resolveCertificate or sni",
  requestCert: "clientAuth",
};

/** Throws `INVALID_CONFIG` naming the first key of `options` that `entry` does not take. */
export function checkOptionKeys(options: object, entry: keyof typeof OPTION_KEYS): void {
  const known = OPTION_KEYS[entry];
  for (const key of Object.keys(options)) {
    if (known.has(key)) continue;
    const other = Object.hasOwn(OTHER_SPELLINGS, key) ? OTHER_SPELLINGS[key] : undefined;
    throw new TlsError(
      "INVALID_CONFIG",
      `${entry} has no option ${JSON.stringify(key)}` +
        (other === undefined ? "" : `: here it is ${other}`),
    );
  }
}
