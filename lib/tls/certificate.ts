/**
 * Certificates for people and for pinning: `describeCertificate` (parsed
 * natively with the `x509-parser` crate) and curl-style public-key pins.
 *
 * @module
 */
import { RESULT } from "../../ffi/constants.ts";
import { createHash } from "node:crypto";
import { TlsError } from "../core/errors.ts";
import { copyGrowing, fromUtf8, native, type NativeLibrary } from "../core/native.ts";
import type { CertificateSummary, HandshakeInfo } from "../core/types.ts";

const PIN_FORM = /^sha256\/\/[A-Za-z0-9+/]{43}=$/;
/** The library's own result for a feature its build left out (`--minimal`). */

function copyOut(
  call: (buf: Uint8Array, n: BigUint64Array) => number,
  what: string,
): Uint8Array {
  const { result, bytes } = copyGrowing(call, 2048);
  if (result === RESULT.NOT_SUPPORTED) {
    throw new TlsError(
      "NOT_SUPPORTED",
      `${what}: this native library was built --minimal, without the certificate parser`,
    );
  }
  if (result !== RESULT.OK) {
    throw new TlsError("CERT_INVALID", `${what}: not a valid X.509 certificate`);
  }
  return bytes;
}

/** The DER SubjectPublicKeyInfo of a certificate. */
function spki(lib: NativeLibrary, der: Uint8Array): Uint8Array {
  return copyOut(
    (buf, n) => lib.symbols.rustls_sockets_certificate_spki(der, der.length, buf, buf.length, n),
    "public key pin",
  );
}

/** The certificate's key as a pin: `sha256//` + base64(SHA-256(SubjectPublicKeyInfo)). */
export function publicKeyPinOf(lib: NativeLibrary, der: Uint8Array): string {
  return "sha256//" + createHash("sha256").update(spki(lib, der)).digest("base64");
}

/** Throws `INVALID_CONFIG` unless every pin has curl's `sha256//<base64>` form. */
export function checkPinForm(pins: unknown): string[] {
  if (!Array.isArray(pins) || pins.length === 0) {
    throw new TlsError("INVALID_CONFIG", "pinnedPublicKeys must be a non-empty array of pins");
  }
  for (const pin of pins) {
    if (typeof pin !== "string" || !PIN_FORM.test(pin)) {
      throw new TlsError(
        "INVALID_CONFIG",
        `pinnedPublicKeys: ${JSON.stringify(pin)} is not of the form sha256//<base64 of 32 bytes>`,
      );
    }
  }
  return pins;
}

/**
 * Fails with `PIN_MISMATCH` unless the peer's end-entity certificate has
 * one of `pins`. Only the end-entity certificate counts: it is the one
 * certificate of the verified chain that rustls names (rustls-ffi does not
 * say which of the other certificates the peer sent its verifier used), and
 * a peer may send any certificate besides its chain, including the public
 * certificate of the site whose key is pinned. This is curl's
 * `--pinnedpubkey` rule; RFC 7469 §2.6 also allows pins of the validated
 * chain's CAs, which cannot be told apart from extra certificates here.
 */
export function checkPins(lib: NativeLibrary, info: HandshakeInfo, pins: string[]): void {
  const leaf = info.peerCertificates[0];
  const seen = leaf === undefined ? undefined : publicKeyPinOf(lib, leaf);
  if (seen !== undefined && pins.includes(seen)) return;
  throw new TlsError(
    "PIN_MISMATCH",
    `the key of the peer's certificate matches none of pinnedPublicKeys (its pin: ${
      seen ?? "none"
    })`,
  );
}

/**
 * Summarises a DER certificate (e.g. one of `HandshakeInfo.peerCertificates`):
 * names, validity, serial, fingerprints, key type. Rejects with
 * `CERT_INVALID` for bytes that are not a certificate, and `NOT_SUPPORTED`
 * with a library built `--minimal`.
 */
export async function describeCertificate(der: Uint8Array): Promise<CertificateSummary> {
  const lib = await native();
  const json = copyOut(
    (buf, n) =>
      lib.symbols.rustls_sockets_certificate_describe(der, der.length, buf, buf.length, n),
    "describeCertificate",
  );
  const raw = JSON.parse(fromUtf8(json)) as
    & Omit<
      CertificateSummary,
      "notBefore" | "notAfter" | "sha256Fingerprint" | "publicKeyPin"
    >
    & { notBefore: number; notAfter: number };
  const fingerprint = createHash("sha256").update(der).digest("hex").toUpperCase()
    .match(/../g)!.join(":");
  return {
    subject: raw.subject,
    issuer: raw.issuer,
    dnsNames: raw.dnsNames,
    ipAddresses: raw.ipAddresses,
    notBefore: new Date(raw.notBefore * 1000),
    notAfter: new Date(raw.notAfter * 1000),
    serialNumber: raw.serialNumber,
    sha256Fingerprint: fingerprint,
    publicKeyPin: publicKeyPinOf(lib, der),
    publicKeyType: raw.publicKeyType,
    isCA: raw.isCA,
  };
}
