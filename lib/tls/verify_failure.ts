/**
 * Messages a person can act on for refused certificates: which certificate
 * of the chain, which name, which date — from the details the library's
 * recording verifier files (`native/src/verify.rs`).
 *
 * @module
 */
import type { TlsError, TlsErrorCode } from "../core/errors.ts";

/** One certificate of the refused chain. */
interface ChainEntry {
  subject: string | null;
  issuer?: string;
  notBefore?: number;
  notAfter?: number;
}

/** What the verifier filed. */
export interface VerifyFailure {
  /** rustls' error, debug-formatted. */
  error: string;
  /** The verification time (Unix seconds). */
  time: number;
  /** Name mismatch: the name asked for. */
  expected?: string;
  /** Name mismatch: the names the certificate carries. */
  presented?: string[];
  /** Leaf first. */
  chain: ChainEntry[];
}

/**
 * What the verifier filed, by the `TlsError` made from it: for adapters that
 * classify a refusal further (`lib/node/`: a self-signed leaf and an unknown
 * issuer are different codes in Node). Held weakly; never part of the error.
 */
const failures = new WeakMap<TlsError, VerifyFailure>();

/** Files `detail` as what refused the chain behind `error`. */
export function fileVerifyFailure(error: TlsError, detail: VerifyFailure): void {
  failures.set(error, detail);
}

/** What the verifier filed for `error`, when it filed anything. */
export function verifyFailureOf(error: TlsError): VerifyFailure | undefined {
  return failures.get(error);
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

function which(entry: ChainEntry, index: number): string {
  const role = index === 0 ? "the server's own certificate" : `intermediate ${index} of the chain`;
  return `${entry.subject ?? "an unparsable certificate"} (${role})`;
}

/**
 * The detailed message for `code`, or `undefined` when the details add
 * nothing. `subject` names the peer ("the certificate of \"example.com\"").
 */
export function verifyFailureMessage(
  code: TlsErrorCode,
  subject: string,
  detail: VerifyFailure,
): string | undefined {
  const chain = detail.chain ?? [];
  const now = iso(detail.time);
  switch (code) {
    case "CERT_EXPIRED": {
      const index = chain.findIndex((c) => c.notAfter !== undefined && c.notAfter < detail.time);
      if (index < 0) return undefined;
      return `${subject} cannot be used: ${which(chain[index], index)} expired on ${
        iso(chain[index].notAfter!)
      }, and the time here is ${now} (renew it, or check this machine's clock)`;
    }
    case "CERT_NOT_YET_VALID": {
      const index = chain.findIndex((c) => c.notBefore !== undefined && c.notBefore > detail.time);
      if (index < 0) return undefined;
      return `${subject} cannot be used yet: ${which(chain[index], index)} is valid only from ${
        iso(chain[index].notBefore!)
      }, and the time here is ${now} (check this machine's clock)`;
    }
    case "CERT_NAME_MISMATCH": {
      if (detail.presented === undefined) return undefined;
      // webpki lists them debug-formatted: DnsName("a.example"), IpAddress(...).
      const presented = detail.presented.map((n) =>
        n.replace(/^(?:DnsName|IpAddress|Ip)\((?:"(.*)"|(.*))\)$/, "$1$2")
      );
      const names = presented.length > 0
        ? `it is issued for ${presented.join(", ")}`
        : "it names no DNS name or IP address";
      return `${subject} is not valid for ${JSON.stringify(detail.expected)}: ${names} ` +
        `(connect with one of those names, or set serverName)`;
    }
    case "UNKNOWN_ISSUER": {
      const last = chain[chain.length - 1];
      if (!last?.issuer) return undefined;
      const sent = chain.length === 1
        ? "the server sent no intermediate"
        : `the server sent ${chain.length - 1} intermediate(s)`;
      return `${subject} does not chain to a trusted root: ${
        which(last, chain.length - 1)
      } is issued by ${last.issuer}, which is not trusted here; ${sent} (add the missing ` +
        `intermediate on the server, or trust the root with caCerts or extraCaCerts)`;
    }
    default:
      return undefined;
  }
}
