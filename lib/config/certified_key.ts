/**
 * A certificate chain and its private key as one `rustls_certified_key`,
 * checked to match.
 *
 * @module
 */
import { RESULT } from "../../ffi/constants.ts";

import { TlsError } from "../core/errors.ts";
import { check, type NativeLibrary, outCell, type Pointer, utf8 } from "../core/native.ts";

/** A `rustls_certified_key` and the 8-byte cell holding its address (a one-element pointer array). */
export interface CertifiedKey {
  /** The key object; free with `rustls_certified_key_free`. */
  pointer: Pointer;
  /** `const rustls_certified_key *[1]`, for the `set_certified_key(s)` calls. */
  list: BigUint64Array;
}

/** Builds a `rustls_certified_key` from PEM, checking that key and certificate match. */
export function certifiedKey(
  lib: NativeLibrary,
  cert: string,
  key: string,
  what: string,
): CertifiedKey {
  const s = lib.symbols;
  if (typeof cert !== "string" || !cert.includes("-----BEGIN CERTIFICATE-----")) {
    throw new TlsError("INVALID_CONFIG", `${what}: cert is not a PEM certificate chain`);
  }
  if (typeof key !== "string" || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new TlsError("INVALID_CONFIG", `${what}: key is not a PEM private key`);
  }
  const chain = utf8(cert);
  const keyBytes = utf8(key);
  const cell = outCell();
  const result = s.rustls_certified_key_build(chain, chain.length, keyBytes, keyBytes.length, cell);
  keyBytes.fill(0);
  check(lib, result, `${what}: cannot use cert/key`);
  const pointer = lib.pointerFrom(cell);
  const match = s.rustls_certified_key_keys_match(pointer);
  if (match !== RESULT.OK) {
    s.rustls_certified_key_free(pointer);
    throw new TlsError(
      "INVALID_CONFIG",
      `${what}: the private key does not belong to the certificate's public key`,
      { rustlsResult: match },
    );
  }
  return { pointer, list: cell };
}
