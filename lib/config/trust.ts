/**
 * Trust anchors and verifiers: root stores from PEM, the system's root
 * bundle (read off the event loop), CRLs, the webpki and platform verifiers.
 *
 * @module
 */
import { RESULT } from "../../ffi/constants.ts";
import { access, readdir } from "node:fs/promises";
import process from "node:process";
import { TlsError } from "../core/errors.ts";
import {
  check,
  cString,
  type NativeLibrary,
  outCell,
  type Pointer,
  resultError,
  utf8,
} from "../core/native.ts";
import { readiness } from "../runtime/readiness.ts";
import { sharedObjects } from "./provider.ts";

export function platformVerifier(lib: NativeLibrary): Pointer {
  const objects = sharedObjects(lib);
  if (objects.platformVerifier === undefined) {
    const cell = outCell();
    check(
      lib,
      lib.symbols.rustls_platform_server_cert_verifier_try_with_provider(objects.provider, cell),
      "platform certificate verifier",
    );
    objects.platformVerifier = lib.pointerFrom(cell);
  }
  return objects.platformVerifier;
}

/** A `rustls_root_cert_store` of PEM certificates; `what` names the option in errors. */
export function rootStore(lib: NativeLibrary, pems: string[], what: string): Pointer {
  const s = lib.symbols;
  if (!Array.isArray(pems) || pems.length === 0) {
    throw new TlsError("INVALID_CONFIG", `${what} must be a non-empty array of PEM certificates`);
  }
  const builder = s.rustls_root_cert_store_builder_new();
  try {
    for (const [i, pem] of pems.entries()) {
      if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new TlsError("INVALID_CONFIG", `${what}[${i}] is not a PEM certificate`);
      }
      const bytes = utf8(pem);
      const result = s.rustls_root_cert_store_builder_add_pem(builder, bytes, bytes.length, true);
      if (result !== RESULT.OK) throw resultError(lib, result, `${what}[${i}]`);
    }
    const cell = outCell();
    check(lib, s.rustls_root_cert_store_builder_build(builder, cell), what);
    return lib.pointerFrom(cell);
  } finally {
    s.rustls_root_cert_store_builder_free(builder);
  }
}

/**
 * Hands each PEM CRL to `add` (a verifier builder's `add_crl`); `what` names
 * the option in errors.
 */
export function addCrls(
  lib: NativeLibrary,
  crls: string[] | undefined,
  add: (pem: Uint8Array) => number,
  what: string,
): void {
  for (const [i, crl] of (crls ?? []).entries()) {
    if (typeof crl !== "string" || !crl.includes("-----BEGIN X509 CRL-----")) {
      throw new TlsError("INVALID_CONFIG", `${what}[${i}] is not a PEM CRL`);
    }
    const result = add(utf8(crl));
    if (result !== RESULT.OK) {
      throw new TlsError("INVALID_CONFIG", resultError(lib, result, `${what}[${i}]`).message, {
        rustlsResult: result,
      });
    }
  }
}

/** Where Linux distributions keep the system's root bundle (as openssl-probe looks). */
const SYSTEM_BUNDLES = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

function environment(name: string): string | undefined {
  try {
    return process.env[name];
  } catch {
    return undefined;
  }
}

/**
 * A root store of the system's roots (`SSL_CERT_FILE`, `SSL_CERT_DIR`, else
 * the distribution's bundle) plus `extra` PEMs. Root files are parsed on a
 * worker thread.
 */
export async function systemRootStore(lib: NativeLibrary, extra: string[]): Promise<Pointer> {
  const s = lib.symbols;
  const files: string[] = [];
  const file = environment("SSL_CERT_FILE");
  const dir = environment("SSL_CERT_DIR");
  if (file) files.push(file);
  if (dir) {
    for (const d of dir.split(":")) {
      try {
        for (const name of await readdir(d)) files.push(`${d}/${name}`);
      } catch {
        // an unreadable directory adds nothing, as for OpenSSL
      }
    }
  }
  if (!file && !dir) {
    for (const candidate of SYSTEM_BUNDLES) {
      try {
        await access(candidate);
        files.push(candidate);
        break;
      } catch {
        // try the next location
      }
    }
  }
  const builder = s.rustls_root_cert_store_builder_new();
  try {
    for (const path of files) {
      const cPath = cString(path);
      // Not every file of a directory is a certificate: failures are skipped.
      await readiness(lib).runJob((poller, token) =>
        s.rustls_sockets_poller_submit_load_roots(poller, builder, cPath, token)
      );
    }
    for (const [i, pem] of extra.entries()) {
      if (typeof pem !== "string" || !pem.includes("-----BEGIN CERTIFICATE-----")) {
        throw new TlsError("INVALID_CONFIG", `extraCaCerts[${i}] is not a PEM certificate`);
      }
      const bytes = utf8(pem);
      const result = s.rustls_root_cert_store_builder_add_pem(builder, bytes, bytes.length, true);
      if (result !== RESULT.OK) throw resultError(lib, result, `extraCaCerts[${i}]`);
    }
    const cell = outCell();
    check(lib, s.rustls_root_cert_store_builder_build(builder, cell), "system roots");
    return lib.pointerFrom(cell);
  } finally {
    s.rustls_root_cert_store_builder_free(builder);
  }
}

/** A webpki verifier over `store` (consumed) with `crls`. */
export function webPkiVerifier(
  lib: NativeLibrary,
  store: Pointer,
  crls: string[] | undefined,
  ignoreCrlExpiry: boolean,
): Pointer {
  const s = lib.symbols;
  try {
    const builder = s.rustls_web_pki_server_cert_verifier_builder_new_with_provider(
      sharedObjects(lib).provider,
      store,
    );
    try {
      addCrls(
        lib,
        crls,
        (pem) => s.rustls_web_pki_server_cert_verifier_builder_add_crl(builder, pem, pem.length),
        "crls",
      );
      if (crls !== undefined && crls.length > 0) {
        // Revocation is checked against the CRLs given; a certificate no CRL
        // speaks of (e.g. the intermediate when only its CRL is given) passes.
        check(
          lib,
          s.rustls_web_pki_server_cert_verifier_allow_unknown_revocation_status(builder),
          "crls",
        );
        // A CRL past its nextUpdate says nothing about certificates revoked since.
        if (!ignoreCrlExpiry) {
          check(
            lib,
            s.rustls_web_pki_server_cert_verifier_enforce_revocation_expiry(builder),
            "crls",
          );
        }
      }
      const cell = outCell();
      check(
        lib,
        s.rustls_web_pki_server_cert_verifier_builder_build(builder, cell),
        "certificate verifier",
      );
      return lib.pointerFrom(cell);
    } finally {
      s.rustls_web_pki_server_cert_verifier_builder_free(builder);
    }
  } finally {
    s.rustls_root_cert_store_free(store);
  }
}
