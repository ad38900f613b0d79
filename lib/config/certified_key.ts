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
  ocspResponse?: Uint8Array,
): CertifiedKey {
  if (
    ocspResponse !== undefined &&
    (!(ocspResponse instanceof Uint8Array) || ocspResponse.length === 0)
  ) {
    throw new TlsError(
      "INVALID_CONFIG",
      `${what}: ocspResponse must be a non-empty Uint8Array (DER)`,
    );
  }
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
  if (ocspResponse === undefined) return { pointer, list: cell };
  const stapling = outCell();
  const stapled = s.rustls_sockets_certified_key_with_ocsp(
    pointer,
    ocspResponse,
    ocspResponse.length,
    stapling,
  );
  s.rustls_certified_key_free(pointer); // the copy holds its own reference to the chain and key
  check(lib, stapled, `${what}: ocspResponse`);
  return { pointer: lib.pointerFrom(stapling), list: stapling };
}
