#!/usr/bin/env bun
/**
 * `probe`: what a TLS server negotiates and presents, for people.
 *
 * ```sh
 * deno run -A cli/probe.ts example.com:443 [options]
 * bun cli/probe.ts example.com:443 [options]
 * ```
 *
 * Prints the version, cipher suite, key exchange group, ALPN, whether a
 * second connection resumes, the certificate chain (subject, issuer, names,
 * validity, fingerprint, key pin), the verification result with its error
 * code, and the time of the TCP connect and of the handshake. Exit status:
 * 0 verified, 1 verification failed, 2 usage or connection error.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import process from "node:process";
import {
  type CertificateSummary,
  connect,
  describeCertificate,
  type HandshakeInfo,
  liveNativeObjects,
  startTls,
  type StartTlsOptions,
  TlsError,
} from "../mod.ts";
import { silenceDangerousVerificationWarning } from "../lib/config/client_config.ts";

const USAGE = `usage: probe <host:port> [options]
  --servername NAME   name to send (SNI) and verify (default: the host)
  --alpn LIST         ALPN protocols to offer, comma-separated (e.g. h2,http/1.1)
  --ca FILE           trust only the PEM roots in FILE (default: the system's)
  --tls12 | --tls13   allow only that version
  --cert FILE --key FILE   present this client certificate
  --json              one JSON object instead of text
  --timeout MS        connect + handshake limit (default 10000)`;

/** Parsed command line. */
interface ProbeArgs {
  host: string;
  port: number;
  serverName?: string;
  alpn?: string[];
  ca?: string;
  version?: "TLSv1.2" | "TLSv1.3";
  cert?: string;
  key?: string;
  json: boolean;
  timeout: number;
}

function fail(message: string): never {
  console.error(`probe: ${message}\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv: string[]): ProbeArgs {
  let target: string | undefined;
  const args: Partial<ProbeArgs> & { json: boolean; timeout: number } = {
    json: false,
    timeout: 10_000,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = (): string => argv[++i] ?? fail(`${arg} needs a value`);
    switch (arg) {
      case "--servername":
        args.serverName = value();
        break;
      case "--alpn":
        args.alpn = value().split(",").filter((p) => p !== "");
        break;
      case "--ca":
        args.ca = value();
        break;
      case "--tls12":
        args.version = "TLSv1.2";
        break;
      case "--tls13":
        args.version = "TLSv1.3";
        break;
      case "--cert":
        args.cert = value();
        break;
      case "--key":
        args.key = value();
        break;
      case "--json":
        args.json = true;
        break;
      case "--timeout":
        args.timeout = Number(value());
        break;
      case "-h":
      case "--help":
        console.log(USAGE);
        process.exit(0);
        break;
      default:
        if (arg.startsWith("-") || target !== undefined) fail(`unexpected argument ${arg}`);
        target = arg;
    }
  }
  if (target === undefined) fail("which server? give host:port");
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(target);
  if (!match) fail(`${target} is not host:port`);
  if ((args.cert === undefined) !== (args.key === undefined)) fail("--cert and --key go together");
  return { ...args, host: match[1] ?? match[2], port: Number(match[3]) };
}

/** What one handshake showed. */
interface Attempt {
  tcpMs: number;
  handshakeMs: number;
  info: HandshakeInfo;
}

async function attempt(args: ProbeArgs, options: Partial<StartTlsOptions>): Promise<Attempt> {
  const signal = AbortSignal.timeout(args.timeout);
  const started = performance.now();
  const plain = await connect({ hostname: args.host, port: args.port, signal });
  const connected = performance.now();
  lastTcpMs = connected - started;
  const conn = await startTls(plain, {
    serverName: args.serverName ?? args.host,
    alpnProtocols: args.alpn,
    caCerts: args.ca === undefined ? undefined : [readFileSync(args.ca, "utf8")],
    minVersion: args.version,
    maxVersion: args.version,
    cert: args.cert === undefined ? undefined : readFileSync(args.cert, "utf8"),
    key: args.key === undefined ? undefined : readFileSync(args.key, "utf8"),
    signal,
    ...options,
  });
  try {
    const info = await conn.handshake();
    const done = performance.now();
    // Let TLS 1.3 tickets arrive (they follow the handshake) so resumption can be tried.
    await Promise.race([
      conn.read(new Uint8Array(1)).catch(() => null),
      new Promise((resolve) => setTimeout(resolve, 100)),
    ]);
    return { tcpMs: connected - started, handshakeMs: done - connected, info };
  } finally {
    conn.close();
  }
}

/** The TCP connect time of the last attempt that connected, also when its TLS failed. */
let lastTcpMs: number | undefined;

/** The JSON form of a certificate summary (dates as ISO text). */
function certificateJson(c: CertificateSummary): Record<string, unknown> {
  return { ...c, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
}

async function main(): Promise<number> {
  const argv = "Deno" in globalThis
    ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
    : process.argv.slice(2);
  const args = parseArgs(argv);
  await liveNativeObjects(); // loads the library now, so the timings below are the network's
  let verified: Attempt | undefined;
  let failure: TlsError | undefined;
  try {
    verified = await attempt(args, {});
  } catch (error) {
    if (!(error instanceof TlsError)) throw error;
    failure = error;
  }
  const verificationFailed = failure !== undefined && failure.code !== "CONNECTION_REFUSED" &&
    failure.code !== "NETWORK_ERROR" && failure.code !== "NAME_RESOLUTION_FAILED" &&
    failure.code !== "TIMED_OUT" && failure.code !== "CONNECTION_RESET";
  if (failure && !verificationFailed) {
    console.error(`probe: ${failure.code}: ${failure.message}`);
    return 2;
  }
  // After a failed verification, look again without verifying, only to show what was presented.
  let shown = verified;
  const tcpMs = verified?.tcpMs ?? lastTcpMs;
  if (!shown) {
    // The report says that verification failed; this connection is only for the chain.
    silenceDangerousVerificationWarning();
    try {
      shown = await attempt(args, { dangerouslyDisableVerification: true, caCerts: undefined });
    } catch {
      shown = undefined;
    }
  }
  let resumed: boolean | null = null;
  if (verified) {
    try {
      resumed = (await attempt(args, {})).info.resumed;
    } catch {
      resumed = null;
    }
  }
  const chain = shown
    ? await Promise.all(shown.info.peerCertificates.map((der) => describeCertificate(der)))
    : [];
  const report = {
    target: `${args.host}:${args.port}`,
    serverName: args.serverName ?? args.host,
    verification: failure
      ? { ok: false, code: failure.code, message: failure.message }
      : { ok: true },
    protocol: shown?.info.protocol ?? null,
    cipherSuite: shown?.info.cipherSuite ?? null,
    keyExchangeGroup: shown?.info.keyExchangeGroup ?? null,
    alpnProtocol: shown?.info.alpnProtocol ?? null,
    resumption: resumed,
    tcpConnectMs: tcpMs === undefined ? null : Number(tcpMs.toFixed(2)),
    handshakeMs: shown ? Number(shown.handshakeMs.toFixed(2)) : null,
    chain: chain.map(certificateJson),
  };
  if (args.json) {
    console.log(JSON.stringify(report, null, 2));
  } else {
    const lines = [
      `${report.target} (${report.serverName})`,
      failure ? `verification: FAILED ${failure.code}: ${failure.message}` : "verification: OK",
      `protocol:     ${report.protocol ?? "-"} ${report.cipherSuite ?? ""}`,
      `key exchange: ${report.keyExchangeGroup ?? "-"}`,
      `ALPN:         ${report.alpnProtocol ?? "(none)"}`,
      `resumption:   ${
        resumed === null ? "not tried" : resumed ? "yes (second connection resumed)" : "no"
      }`,
      `timing:       TCP connect ${report.tcpConnectMs ?? "-"} ms, handshake ${
        report.handshakeMs ?? "-"
      } ms`,
      `chain (${chain.length}):`,
    ];
    chain.forEach((c, i) => {
      const names = [...c.dnsNames, ...c.ipAddresses];
      lines.push(
        `  ${i}: ${c.subject}`,
        `     issuer:   ${c.issuer}`,
        `     names:    ${names.length > 0 ? names.join(", ") : "(none)"}`,
        `     valid:    ${c.notBefore.toISOString()} .. ${c.notAfter.toISOString()}`,
        `     key:      ${c.publicKeyType}${c.isCA ? " (CA)" : ""}, pin ${c.publicKeyPin}`,
        `     sha256:   ${c.sha256Fingerprint}`,
      );
    });
    console.log(lines.join("\n"));
  }
  return failure ? 1 : 0;
}

process.exit(await main());
