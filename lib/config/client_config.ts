/**
 * rustls client configurations, built with rustls-ffi's builders from the
 * user's options and cached: connections with equal trust and identity
 * options share one `rustls_client_config`, which is also what makes TLS
 * session resumption work across `connectTls` calls (rustls keeps its
 * session cache in the config).
 *
 * @module
 */
import { RESULT } from "../../ffi/constants.ts";
import { createHash } from "node:crypto";

import { TlsError } from "../core/errors.ts";
import {
  check,
  isNull,
  type NativeLibrary,
  outCell,
  type Pointer,
  resultError,
} from "../core/native.ts";
import type { TlsClientOptions } from "../core/types.ts";
import { cryptoProvider } from "./provider.ts";
import {
  alpnWire,
  captureMode,
  checksAfterHandshake,
  exporterWanted,
  ignoresCrlExpiry,
  versionRange,
} from "./options.ts";
import { platformVerifier, rootStore, systemRootStore, webPkiVerifier } from "./trust.ts";
import { certifiedKey } from "./certified_key.ts";

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

let warnedDangerous = false;

/**
 * @internal For `cli/probe.ts`, which after a failed verification looks again
 * without verifying only to show what was presented, and says so itself:
 * the warning for `dangerouslyDisableVerification` would name a setting its
 * user never chose.
 */
export function silenceDangerousVerificationWarning(): void {
  warnedDangerous = true;
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
