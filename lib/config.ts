/**
 * rustls client configurations, built with rustls-ffi's builders from the
 * user's options and cached: connections with equal trust and identity
 * options share one `rustls_client_config`, which is also what makes TLS
 * session resumption work across `connectTls` calls (rustls keeps its
 * session cache in the config).
 *
 * @module
 */
import { RESULT } from "../ffi/constants.ts";
import { createHash } from "node:crypto";
import { access, readdir } from "node:fs/promises";
import process from "node:process";
import { TlsError } from "./errors.ts";
import {
  check,
  cString,
  isNull,
  type NativeLibrary,
  outCell,
  type Pointer,
  resultError,
  utf8,
} from "./native.ts";
import { readiness } from "./readiness.ts";
import type { TlsClientOptions, TlsVersion } from "./types.ts";

const VERSION_CODES: Record<TlsVersion, number> = { "TLSv1.2": 0x0303, "TLSv1.3": 0x0304 };

/** Process-wide native objects, created once and kept for the process lifetime. */
interface Shared {
  provider: Pointer;
  platformVerifier?: Pointer;
}
let shared: Shared | undefined;

function sharedObjects(lib: NativeLibrary): Shared {
  if (shared) return shared;
  const s = lib.symbols;
  const cell = outCell();
  check(lib, s.rustls_crypto_provider_builder_new_from_default(cell), "crypto provider");
  const builder = lib.pointerFrom(cell);
  try {
    check(lib, s.rustls_crypto_provider_builder_build(builder, cell), "crypto provider");
  } finally {
    s.rustls_crypto_provider_builder_free(builder);
  }
  shared = { provider: lib.pointerFrom(cell) };
  return shared;
}

/** Restricted providers by `suites|groups`, kept for the process lifetime (they are few). */
const restricted = new Map<string, Pointer>();

/** Checks that `value` is absent or an array of strings; `name` is the option. */
function nameList(value: unknown, name: string): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string" || v.includes(","))) {
    throw new TlsError("INVALID_CONFIG", `${name} must be an array of rustls names`);
  }
  if (value.length === 0) {
    throw new TlsError("INVALID_CONFIG", `${name} must name at least one entry when given`);
  }
  return value as string[];
}

/**
 * The library's crypto provider, or (with `cipherSuites` / `keyExchangeGroups`)
 * one restricted to those names, in that order of preference.
 */
export function cryptoProvider(
  lib: NativeLibrary,
  options: { cipherSuites?: string[]; keyExchangeGroups?: string[] } = {},
): Pointer {
  const base = sharedObjects(lib).provider;
  const suites = nameList(options.cipherSuites, "cipherSuites");
  const groups = nameList(options.keyExchangeGroups, "keyExchangeGroups");
  if (suites.length === 0 && groups.length === 0) return base;
  const key = `${suites.join(",")}|${groups.join(",")}`;
  const known = restricted.get(key);
  if (known !== undefined) return known;
  const cell = outCell();
  const message = new Uint8Array(2048);
  const n = outCell();
  const result = lib.symbols.rustls_sockets_crypto_provider_restrict(
    base,
    cString(suites.join(",")),
    cString(groups.join(",")),
    cell,
    message,
    message.length,
    n,
  );
  if (result !== RESULT.OK) {
    const text = new TextDecoder().decode(message.subarray(0, Number(n[0])));
    throw new TlsError(
      "INVALID_CONFIG",
      text || "cipherSuites/keyExchangeGroups could not be applied",
      { rustlsResult: result },
    );
  }
  const provider = lib.pointerFrom(cell);
  restricted.set(key, provider);
  return provider;
}

/**
 * Sets `verifier` on `builder`, wrapped so that a refused chain's details
 * (which certificate, date, names) are filed for the error message.
 */
function setRecordingVerifier(lib: NativeLibrary, builder: Pointer, verifier: Pointer): void {
  const s = lib.symbols;
  const recording = s.rustls_sockets_server_cert_verifier_recording(verifier);
  if (isNull(recording)) {
    s.rustls_client_config_builder_set_server_verifier(builder, verifier);
    return;
  }
  s.rustls_client_config_builder_set_server_verifier(builder, recording);
  s.rustls_server_cert_verifier_free(recording); // the builder holds its own reference
}

/** With `ech`, TLS 1.3 only (an explicit TLS 1.2 bound is a contradiction). */
function echVersions(options: TlsClientOptions): Uint16Array | undefined {
  if (options.ech === undefined) return undefined;
  if (options.minVersion === "TLSv1.2" || options.maxVersion === "TLSv1.2") {
    throw new TlsError("INVALID_CONFIG", "ech needs TLS 1.3: drop minVersion/maxVersion TLSv1.2");
  }
  versionRange(options.minVersion, options.maxVersion); // validates the names
  return Uint16Array.of(0x0304);
}

function enableEch(
  lib: NativeLibrary,
  builder: Pointer,
  ech: NonNullable<TlsClientOptions["ech"]>,
): void {
  const s = lib.symbols;
  const hpke = s.rustls_supported_hpke();
  if (isNull(hpke)) {
    throw new TlsError(
      "NOT_SUPPORTED",
      "ech needs HPKE, which this library's crypto provider lacks (build it with aws-lc-rs)",
    );
  }
  if (ech === "grease") {
    check(lib, s.rustls_client_config_builder_enable_ech_grease(builder, hpke), "ech");
    return;
  }
  if (!ech || typeof ech !== "object" || !(ech.configList instanceof Uint8Array)) {
    throw new TlsError("INVALID_CONFIG", 'ech must be { configList: Uint8Array } or "grease"');
  }
  const list = ech.configList;
  const result = s.rustls_client_config_builder_enable_ech(builder, list, list.length, hpke);
  if (result !== RESULT.OK) {
    throw new TlsError(
      "INVALID_CONFIG",
      `ech.configList is not a usable ECHConfigList: ${resultError(lib, result, "ech").message}`,
      { rustlsResult: result },
    );
  }
}

/** How a configuration captures secrets: everything for a key log, else the exporter secret only. */
export function captureMode(
  keyLog: TlsClientOptions["keyLog"],
  checkedAfterHandshake: boolean,
  exporter: boolean,
): number {
  // Bit 2: the secrets of the fatal alert that tells a peer refused after the
  // handshake (by verifyPeer or a pin) why; see native/src/alert.rs.
  // Bit 4: the exporter's (exportKeyingMaterial); nothing is filed without a bit.
  const alert = (checkedAfterHandshake ? 2 : 0) | (exporter ? 4 : 0);
  if (keyLog === undefined) return alert;
  if (keyLog !== "env" && typeof keyLog !== "function") {
    throw new TlsError("INVALID_CONFIG", 'keyLog must be a function or "env"');
  }
  return 1 | alert;
}

/**
 * The `exportKeyingMaterial` option: whether connections keep the
 * exporter's secrets after their handshake.
 */
export function exporterWanted(options: { exportKeyingMaterial?: unknown }): boolean {
  const wanted = options.exportKeyingMaterial;
  if (wanted !== undefined && typeof wanted !== "boolean") {
    throw new TlsError("INVALID_CONFIG", "exportKeyingMaterial must be a boolean");
  }
  return wanted === true;
}

/** The `dangerouslyIgnoreCrlExpiry` option, checked. */
function ignoresCrlExpiry(options: { dangerouslyIgnoreCrlExpiry?: unknown }): boolean {
  const ignore = options.dangerouslyIgnoreCrlExpiry;
  if (ignore !== undefined && typeof ignore !== "boolean") {
    throw new TlsError("INVALID_CONFIG", "dangerouslyIgnoreCrlExpiry must be a boolean");
  }
  return ignore === true;
}

/** Whether connections with these client options check the server after the handshake. */
export function checksAfterHandshake(options: TlsClientOptions): boolean {
  return options.verifyPeer !== undefined || options.pinnedPublicKeys !== undefined;
}

function platformVerifier(lib: NativeLibrary): Pointer {
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

/** Checks and normalises the version range. */
export function versionRange(min?: TlsVersion, max?: TlsVersion): Uint16Array {
  for (const [name, value] of [["minVersion", min], ["maxVersion", max]] as const) {
    // Own keys only: "toString" and friends are no version.
    if (
      value !== undefined && (typeof value !== "string" || !Object.hasOwn(VERSION_CODES, value))
    ) {
      throw new TlsError(
        "INVALID_CONFIG",
        `${name} must be "TLSv1.2" or "TLSv1.3", not ${JSON.stringify(value)}`,
      );
    }
  }
  const low = VERSION_CODES[min ?? "TLSv1.2"];
  const high = VERSION_CODES[max ?? "TLSv1.3"];
  if (low > high) {
    throw new TlsError("INVALID_CONFIG", `minVersion ${min} is above maxVersion ${max}`);
  }
  return Uint16Array.from([0x0304, 0x0303].filter((v) => v >= low && v <= high));
}

/** The ALPN list in wire format (each name preceded by its length). */
export function alpnWire(protocols: string[]): Uint8Array {
  const parts = protocols.map((p) => {
    const bytes = utf8(p);
    if (bytes.length === 0 || bytes.length > 255) {
      throw new TlsError(
        "INVALID_CONFIG",
        `ALPN protocol ${JSON.stringify(p)} must be 1 to 255 bytes long`,
      );
    }
    return bytes;
  });
  const wire = new Uint8Array(parts.reduce((n, p) => n + 1 + p.length, 0));
  let at = 0;
  for (const p of parts) {
    wire[at++] = p.length;
    wire.set(p, at);
    at += p.length;
  }
  return wire;
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
async function systemRootStore(lib: NativeLibrary, extra: string[]): Promise<Pointer> {
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

let warnedDangerous = false;

/** A webpki verifier over `store` (consumed) with `crls`. */
function webPkiVerifier(
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

async function buildClientConfig(lib: NativeLibrary, options: TlsClientOptions): Promise<Pointer> {
  const s = lib.symbols;
  const versions = echVersions(options) ?? versionRange(options.minVersion, options.maxVersion);
  const provider = cryptoProvider(lib, options);
  const capture = captureMode(
    options.keyLog,
    checksAfterHandshake(options),
    exporterWanted(options),
  );
  const cell = outCell();
  check(
    lib,
    s.rustls_client_config_builder_new_custom(provider, versions, versions.length, cell),
    "client configuration (cipherSuites, keyExchangeGroups and versions must fit together)",
  );
  const builder = lib.pointerFrom(cell);
  let consumed = false;
  try {
    check(
      lib,
      s.rustls_sockets_client_config_builder_capture_secrets(builder, capture),
      "keyLog",
    );
    if (options.ech !== undefined) enableEch(lib, builder, options.ech);
    if (options.dangerouslyDisableVerification === true) {
      if (options.caCerts || options.extraCaCerts || options.crls || options.pinnedPublicKeys) {
        throw new TlsError(
          "INVALID_CONFIG",
          "dangerouslyDisableVerification cannot be combined with caCerts, extraCaCerts, crls or pinnedPublicKeys",
        );
      }
      if (!warnedDangerous) {
        warnedDangerous = true;
        console.warn(
          "rustls-sockets: dangerouslyDisableVerification is set: server certificates are NOT verified",
        );
      }
      check(
        lib,
        s.rustls_sockets_client_config_builder_dangerous_disable_verification(builder),
        "dangerouslyDisableVerification",
      );
    } else if (options.caCerts !== undefined) {
      const store = rootStore(
        lib,
        [...options.caCerts, ...(options.extraCaCerts ?? [])],
        "caCerts",
      );
      const verifier = webPkiVerifier(
        lib,
        store,
        options.crls,
        ignoresCrlExpiry(options),
      );
      setRecordingVerifier(lib, builder, verifier);
      s.rustls_server_cert_verifier_free(verifier); // the builder holds its own reference
    } else if (options.extraCaCerts !== undefined || options.crls !== undefined) {
      const store = await systemRootStore(lib, options.extraCaCerts ?? []);
      const verifier = webPkiVerifier(
        lib,
        store,
        options.crls,
        ignoresCrlExpiry(options),
      );
      setRecordingVerifier(lib, builder, verifier);
      s.rustls_server_cert_verifier_free(verifier);
    } else {
      setRecordingVerifier(lib, builder, platformVerifier(lib));
    }
    if (options.alpnProtocols !== undefined) {
      if (!Array.isArray(options.alpnProtocols)) {
        throw new TlsError("INVALID_CONFIG", "alpnProtocols must be an array of strings");
      }
      const wire = alpnWire(options.alpnProtocols);
      check(
        lib,
        s.rustls_sockets_client_config_builder_set_alpn_protocols(builder, wire, wire.length),
        "alpnProtocols",
      );
    }
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TlsError("INVALID_CONFIG", "cert and key must be given together");
    }
    if (options.cert !== undefined && options.key !== undefined) {
      const key = certifiedKey(lib, options.cert, options.key, "client certificate");
      try {
        check(
          lib,
          s.rustls_client_config_builder_set_certified_key(builder, key.list, 1),
          "client certificate",
        );
      } finally {
        s.rustls_certified_key_free(key.pointer); // the config keeps its own reference
      }
    }
    consumed = true;
    check(lib, s.rustls_sockets_client_config_builder_build(builder, cell), "client configuration");
    return lib.pointerFrom(cell);
  } finally {
    if (!consumed) s.rustls_client_config_builder_free(builder);
  }
}

/** How many distinct client configurations stay cached (least recently used go first). */
const CACHE_SIZE = 64;
const cache = new Map<string, Pointer>();
/** Configurations a worker job is using right now, with a use count. */
const inUse = new Map<Pointer, number>();
/** Evicted configurations whose free waits for their last user. */
const evicted = new Set<Pointer>();

/** Keeps `config` alive while a worker job uses it; pair with {@link releaseConfig}. */
export function retainConfig(config: Pointer): void {
  inUse.set(config, (inUse.get(config) ?? 0) + 1);
}

/** Ends a {@link retainConfig}; frees the config if it was evicted meanwhile. */
export function releaseConfig(lib: NativeLibrary, config: Pointer): void {
  const count = (inUse.get(config) ?? 1) - 1;
  if (count > 0) {
    inUse.set(config, count);
    return;
  }
  inUse.delete(config);
  if (evicted.delete(config)) lib.symbols.rustls_sockets_client_config_free(config);
}

function cacheKey(options: TlsClientOptions, endpoint: string): string {
  const relevant = [
    endpoint,
    options.caCerts ?? null,
    options.extraCaCerts ?? null,
    options.crls ?? null,
    options.dangerouslyIgnoreCrlExpiry === true,
    options.dangerouslyDisableVerification === true,
    options.cert ?? null,
    options.key ?? null,
    options.alpnProtocols ?? null,
    options.minVersion ?? null,
    options.maxVersion ?? null,
    options.cipherSuites ?? null,
    options.keyExchangeGroups ?? null,
    options.keyLog !== undefined,
    options.exportKeyingMaterial === true,
    checksAfterHandshake(options),
    options.ech === undefined || options.ech === "grease"
      ? options.ech ?? null
      : Array.from(options.ech.configList ?? []),
  ];
  // A digest, so the cache never keeps a copy of a private key as a map key.
  return createHash("sha256").update(JSON.stringify(relevant)).digest("base64");
}

/**
 * The `rustls_client_config` for these options and this endpoint
 * (`host:port`), built on first use and shared by every connection to the
 * endpoint with the same trust, identity, ALPN and version options — rustls
 * keeps its TLS session cache in the config, so those connections resume.
 * It comes **retained** for the caller (the cache may evict it at any
 * microtask): end the loan with {@link releaseConfig} once the session
 * was made from it.
 *
 * The endpoint is part of the key because rustls keys sessions by server name
 * only: two servers sharing a name (e.g. `localhost` on two ports, different
 * TLS stacks) would otherwise receive each other's tickets, and rustls 0.23.46
 * fails the handshake when such a ticket meets a HelloRetryRequest (its
 * client withdraws the PSK, its server rejects that since rustls#3259).
 * The cache owns the config; connections hold their own reference in rustls.
 */
export async function clientConfig(
  lib: NativeLibrary,
  options: TlsClientOptions,
  endpoint: string,
): Promise<Pointer> {
  const key = cacheKey(options, endpoint);
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    retainConfig(hit);
    return hit;
  }
  // Concurrent first connections with the same options share one build.
  let build = pending.get(key);
  if (!build) {
    const started: PendingBuild = { waiters: 0, config: Promise.resolve(null) };
    started.config = buildClientConfig(lib, options).then((config) => {
      // All in one step: cached (so no second build starts), then one loan per
      // waiter, before any other code can evict it.
      pending.delete(key);
      remember(lib, key, config);
      for (let i = 0; i < started.waiters; i++) retainConfig(config);
      return config;
    }, (error) => {
      pending.delete(key);
      throw error;
    });
    pending.set(key, started);
    build = started;
  }
  build.waiters++;
  return await build.config;
}

/** A configuration being built, and how many callers wait for a loan of it. */
interface PendingBuild {
  waiters: number;
  config: Promise<Pointer>;
}

const pending = new Map<string, PendingBuild>();

function remember(lib: NativeLibrary, key: string, config: Pointer): void {
  cache.set(key, config);
  if (cache.size > CACHE_SIZE) {
    const [oldestKey, oldest] = cache.entries().next().value as [string, Pointer];
    cache.delete(oldestKey);
    if (inUse.has(oldest)) evicted.add(oldest);
    else lib.symbols.rustls_sockets_client_config_free(oldest);
  }
}
