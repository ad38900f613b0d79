/**
 * The peer's certificates in the shapes `node:tls` gives them:
 * `getPeerCertificate()`'s object (`subject`, `issuer`, `subjectaltname`,
 * `valid_from`, `fingerprint256`, `raw`, ...) and `node:crypto`'s
 * `X509Certificate`, both made by the runtime's `node:crypto` from the DER
 * the handshake delivered.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { X509Certificate } from "node:crypto";

/** A certificate as `tls.TLSSocket.getPeerCertificate()` describes it. */
export interface PeerCertificate {
  /** Subject name fields (`CN`, `O`, ...); a field given twice is an array. */
  subject: Record<string, string | string[]>;
  /** Issuer name fields. */
  issuer: Record<string, string | string[]>;
  /** The subjectAltName extension as text (`DNS:example.com, IP Address:127.0.0.1`). */
  subjectaltname?: string;
  /** Authority information access as Node lists it. */
  infoAccess?: Record<string, string[]>;
  /** Whether it is a CA certificate. */
  ca: boolean;
  /** Start of validity, e.g. `Nov 25 02:52:06 2026 GMT`. */
  valid_from: string;
  /** End of validity. */
  valid_to: string;
  /** Serial number, upper-case hex. */
  serialNumber: string;
  /** SHA-1 fingerprint, colon-separated hex. */
  fingerprint: string;
  /** SHA-256 fingerprint, colon-separated hex. */
  fingerprint256: string;
  /** SHA-512 fingerprint, colon-separated hex. */
  fingerprint512: string;
  /** Extended key usage OIDs, when the runtime reports them. */
  ext_key_usage?: string[];
  /** Key size in bits. */
  bits?: number;
  /** The public key (an EC point or the RSA modulus' key encoding). */
  pubkey?: Buffer;
  /** RSA modulus, hex. */
  modulus?: string;
  /** RSA exponent, e.g. `0x10001`. */
  exponent?: string;
  /** EC curve (`prime256v1`). */
  asn1Curve?: string;
  /** EC curve, NIST name (`P-256`). */
  nistCurve?: string;
  /** The DER certificate. */
  raw: Buffer;
}

/**
 * A certificate with its issuer linked, as `getPeerCertificate(true)` gives
 * it; the issuer is the next certificate the peer sent, the last one links
 * to itself when self-signed and has none otherwise.
 */
export interface DetailedPeerCertificate extends PeerCertificate {
  /** The certificate that issued this one, when the peer sent it. */
  issuerCertificate?: DetailedPeerCertificate;
}

/** What `toLegacyObject()` returns in either runtime (Deno leaves a `Uint8Array` for `pubkey`). */
type LegacyObject = Omit<PeerCertificate, "raw" | "pubkey"> & {
  raw: Uint8Array;
  pubkey?: Uint8Array;
};

/** `der` in `getPeerCertificate()`'s shape. */
export function legacyCertificate(der: Uint8Array): DetailedPeerCertificate {
  const x509 = new X509Certificate(Buffer.from(der));
  const legacy = (x509 as unknown as { toLegacyObject(): LegacyObject }).toLegacyObject();
  const out: DetailedPeerCertificate = {
    ...legacy,
    subject: { ...legacy.subject },
    issuer: { ...legacy.issuer },
    raw: Buffer.from(der),
    pubkey: legacy.pubkey === undefined ? undefined : Buffer.from(legacy.pubkey),
  };
  if (out.pubkey === undefined) delete out.pubkey;
  return out;
}

/** The peer's chain (`chain`: DER, leaf first) as `getPeerCertificate(detailed)` returns it. */
export function peerCertificate(
  chain: Uint8Array[],
  detailed: boolean,
): DetailedPeerCertificate | Record<string, never> {
  if (chain.length === 0) return {};
  if (!detailed) return legacyCertificate(chain[0]);
  const certs = chain.map(legacyCertificate);
  const names = chain.map((der) => {
    const x509 = new X509Certificate(Buffer.from(der));
    return { subject: x509.subject, issuer: x509.issuer };
  });
  for (let i = 0; i < certs.length; i++) {
    if (names[i].subject === names[i].issuer) {
      certs[i].issuerCertificate = certs[i];
      continue;
    }
    const issuer = names.findIndex((n, j) => j !== i && n.subject === names[i].issuer);
    if (issuer >= 0) certs[i].issuerCertificate = certs[issuer];
  }
  return certs[0];
}

/** The peer's leaf certificate as a `node:crypto` `X509Certificate`. */
export function peerX509(chain: Uint8Array[]): X509Certificate | undefined {
  return chain.length === 0 ? undefined : new X509Certificate(Buffer.from(chain[0]));
}
