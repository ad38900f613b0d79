/**
 * The server's configurations: one `rustls_server_config` per certificate
 * (default, SNI entries, and those `resolveCertificate` returns, cached),
 * all sharing the listener's ALPN, version and client-auth settings. The
 * configuration is chosen after the ClientHello was read.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { alpnWire, captureMode, exporterWanted, versionRange } from "./options.ts";
import { type CertifiedKey, certifiedKey } from "./certified_key.ts";
import { cryptoProvider } from "./provider.ts";
import { addCrls, rootStore } from "./trust.ts";
import { TlsError } from "../core/errors.ts";
import { check, type NativeLibrary, outCell, type Pointer } from "../core/native.ts";
import type {
  CertificateAndKey,
  ClientHelloInfo,
  ServerCertificates,
  TlsServerOptions,
} from "../core/types.ts";

const RESOLVED_CACHE_SIZE = 64;

/**
 * A configuration lent to one handshake: valid until `release()`, however
 * the cache or the listener changes meanwhile. Release it exactly once,
 * after the worker job that makes the connection from it settled.
 */
export interface ConfigLease {
  /** The `rustls_server_config *`. */
  readonly config: Pointer;
  /** Ends the loan (idempotent); an evicted configuration is freed on its last release. */
  release(): void;
}

/** A configuration with its loans: the default, an `sni` entry, or a `resolveCertificate` result. */
interface LentConfig {
  readonly config: Pointer;
  /** Handshakes holding a lease. */
  users: number;
  /**
   * Replaced (`setCertificates`), left the cache, or the listener was freed:
   * freed by the last lease's release.
   */
  evicted: boolean;
}

function lentConfig(config: Pointer): LentConfig {
  return { config, users: 0, evicted: false };
}

/** The default pair of the options or of `setCertificates`, with its OCSP response. */
function defaultPair(from: ServerCertificates | TlsServerOptions): CertificateAndKey {
  return { cert: from.cert!, key: from.key!, ocspResponse: from.ocspResponse };
}

function digest(pair: CertificateAndKey): string {
  const hash = createHash("sha256").update(pair.cert).update("\0").update(pair.key);
  if (pair.ocspResponse instanceof Uint8Array) hash.update("\0").update(pair.ocspResponse);
  return hash.digest("base64");
}

/** Everything a listener needs to pick and build server configurations. */
export class ServerSetup {
  readonly #lib: NativeLibrary;
  readonly #options: TlsServerOptions;
  readonly #versions: Uint16Array;
  readonly #alpn: Uint8Array | undefined;
  #clientVerifier: Pointer | undefined;
  #default: LentConfig | undefined;
  #byName = new Map<string, LentConfig>();
  readonly #resolved = new Map<string, LentConfig>();
  #freed = false;
  #closing = false;
  #users = 0;
  readonly #capture: number;
  /** Whether connections keep the exporter's secrets (`exportKeyingMaterial`). */
  readonly exporter: boolean;

  /** Validates the options and builds every configuration known up front. */
  constructor(lib: NativeLibrary, options: TlsServerOptions) {
    this.#lib = lib;
    this.#options = options;
    this.#versions = versionRange(options.minVersion, options.maxVersion);
    if (options.alpnProtocols !== undefined && !Array.isArray(options.alpnProtocols)) {
      throw new TlsError("INVALID_CONFIG", "alpnProtocols must be an array of strings");
    }
    this.#alpn = options.alpnProtocols ? alpnWire(options.alpnProtocols) : undefined;
    if ((options.cert === undefined) !== (options.key === undefined)) {
      throw new TlsError("INVALID_CONFIG", "cert and key must be given together");
    }
    if (options.ocspResponse !== undefined && options.cert === undefined) {
      throw new TlsError("INVALID_CONFIG", "ocspResponse belongs to a cert/key pair");
    }
    cryptoProvider(lib, options); // validates cipherSuites / keyExchangeGroups up front
    this.exporter = exporterWanted(options);
    this.#capture = captureMode(options.keyLog, options.verifyPeer !== undefined, this.exporter);
    const sni = options.sni ?? {};
    if (
      options.cert === undefined && Object.keys(sni).length === 0 && !options.resolveCertificate
    ) {
      throw new TlsError(
        "INVALID_CONFIG",
        "listenTls needs a certificate: cert/key, sni entries or resolveCertificate",
      );
    }
    try {
      if (options.clientAuth !== undefined) this.#clientVerifier = this.#buildClientVerifier();
      if (options.cert !== undefined && options.key !== undefined) {
        this.#default = lentConfig(this.#build(defaultPair(options), "cert/key"));
      }
      this.#byName = this.#buildSni(sni);
    } catch (error) {
      this.free();
      throw error;
    }
  }

  /** The configurations of an `sni` table; on a bad entry none is left built. */
  #buildSni(sni: Record<string, CertificateAndKey>): Map<string, LentConfig> {
    if (sni === null || typeof sni !== "object") {
      throw new TlsError("INVALID_CONFIG", "sni must map server names to cert and key");
    }
    const built = new Map<string, LentConfig>();
    try {
      for (const [name, pair] of Object.entries(sni)) {
        if (!pair || typeof pair !== "object") {
          throw new TlsError("INVALID_CONFIG", `sni[${JSON.stringify(name)}] needs cert and key`);
        }
        const entry = lentConfig(this.#build(pair, `sni[${JSON.stringify(name)}]`));
        const replaced = built.get(name.toLowerCase());
        if (replaced) this.#evict(replaced);
        built.set(name.toLowerCase(), entry);
      }
    } catch (error) {
      for (const entry of built.values()) this.#evict(entry);
      throw error;
    }
    return built;
  }

  /**
   * Replaces the default certificate and/or the `sni` table for handshakes
   * that start from now on. Everything new is built first: a failure
   * changes nothing. Replaced configurations are freed once the handshakes
   * holding them are done.
   */
  setCertificates(certificates: ServerCertificates): void {
    if (certificates === null || typeof certificates !== "object") {
      throw new TlsError("INVALID_CONFIG", "setCertificates needs { cert, key } and/or { sni }");
    }
    if (this.#freed || this.#closing) throw new TlsError("CLOSED", "the listener is closed");
    const { cert, key, sni } = certificates;
    if ((cert === undefined) !== (key === undefined)) {
      throw new TlsError("INVALID_CONFIG", "cert and key must be given together");
    }
    if (certificates.ocspResponse !== undefined && cert === undefined) {
      throw new TlsError("INVALID_CONFIG", "ocspResponse belongs to a cert/key pair");
    }
    if (cert === undefined && sni === undefined) {
      throw new TlsError("INVALID_CONFIG", "setCertificates needs cert/key, sni or both");
    }
    const fallback = cert !== undefined ? true : this.#default !== undefined;
    if (!fallback && Object.keys(sni ?? {}).length === 0 && !this.#options.resolveCertificate) {
      throw new TlsError(
        "INVALID_CONFIG",
        "the listener would be left without a certificate: give cert/key or sni entries",
      );
    }
    const fresh = cert === undefined
      ? undefined
      : lentConfig(this.#build(defaultPair(certificates), "cert/key"));
    let names: Map<string, LentConfig> | undefined;
    try {
      names = sni === undefined ? undefined : this.#buildSni(sni);
    } catch (error) {
      if (fresh) this.#evict(fresh);
      throw error;
    }
    if (fresh) {
      const old = this.#default;
      this.#default = fresh;
      if (old) this.#evict(old);
    }
    if (names) {
      const old = this.#byName;
      this.#byName = names;
      for (const entry of old.values()) this.#evict(entry);
    }
  }

  #buildClientVerifier(): Pointer {
    const lib = this.#lib;
    const s = lib.symbols;
    const auth = this.#options.clientAuth!;
    const store = rootStore(lib, auth.caCerts, "clientAuth.caCerts");
    try {
      const builder = s.rustls_web_pki_client_cert_verifier_builder_new_with_provider(
        cryptoProvider(lib),
        store,
      );
      try {
        addCrls(
          lib,
          auth.crls,
          (pem) => s.rustls_web_pki_client_cert_verifier_builder_add_crl(builder, pem, pem.length),
          "clientAuth.crls",
        );
        if ((auth.crls ?? []).length > 0) {
          check(
            lib,
            s.rustls_web_pki_client_cert_verifier_allow_unknown_revocation_status(builder),
            "clientAuth.crls",
          );
        }
        if (auth.required === false) {
          check(
            lib,
            s.rustls_web_pki_client_cert_verifier_builder_allow_unauthenticated(builder),
            "clientAuth",
          );
        }
        const cell = outCell();
        check(
          lib,
          s.rustls_web_pki_client_cert_verifier_builder_build(builder, cell),
          "clientAuth",
        );
        return lib.pointerFrom(cell);
      } finally {
        s.rustls_web_pki_client_cert_verifier_builder_free(builder);
      }
    } finally {
      s.rustls_root_cert_store_free(store);
    }
  }

  #build(pair: CertificateAndKey, what: string): Pointer {
    const lib = this.#lib;
    const s = lib.symbols;
    const key: CertifiedKey = certifiedKey(lib, pair.cert, pair.key, what, pair.ocspResponse);
    const cell = outCell();
    try {
      check(
        lib,
        s.rustls_server_config_builder_new_custom(
          cryptoProvider(lib, this.#options),
          this.#versions,
          this.#versions.length,
          cell,
        ),
        "server configuration",
      );
      const builder = lib.pointerFrom(cell);
      let consumed = false;
      try {
        check(lib, s.rustls_server_config_builder_set_certified_keys(builder, key.list, 1), what);
        check(
          lib,
          s.rustls_sockets_server_config_builder_capture_secrets(builder, this.#capture),
          "keyLog",
        );
        if (this.#alpn) {
          check(
            lib,
            s.rustls_sockets_server_config_builder_set_alpn_protocols(
              builder,
              this.#alpn,
              this.#alpn.length,
            ),
            "alpnProtocols",
          );
        }
        if (this.#clientVerifier !== undefined) {
          s.rustls_server_config_builder_set_client_verifier(builder, this.#clientVerifier);
        }
        consumed = true;
        check(
          lib,
          s.rustls_sockets_server_config_builder_build(builder, cell),
          "server configuration",
        );
        return lib.pointerFrom(cell);
      } finally {
        if (!consumed) s.rustls_server_config_builder_free(builder);
      }
    } finally {
      s.rustls_certified_key_free(key.pointer); // configs keep their own reference
    }
  }

  #byServerName(name: string): LentConfig | undefined {
    const lower = name.toLowerCase();
    const exact = this.#byName.get(lower);
    if (exact !== undefined) return exact;
    const dot = lower.indexOf(".");
    return dot > 0 ? this.#byName.get("*" + lower.slice(dot)) : undefined;
  }

  /**
   * The configuration for a ClientHello: an `sni` match, then what
   * `resolveCertificate` returns, then the default; `undefined` when none
   * fits. The caller holds a {@link retain} for the whole handshake, which
   * keeps the default and `sni` configurations alive; a resolved one is kept
   * alive by its lease alone (the cache may evict it meanwhile).
   */
  async configFor(hello: ClientHelloInfo): Promise<ConfigLease | undefined> {
    if (hello.serverName !== null) {
      const named = this.#byServerName(hello.serverName);
      if (named !== undefined) return this.#lend(named);
    }
    const resolve = this.#options.resolveCertificate;
    if (resolve) {
      let pair: CertificateAndKey | undefined;
      try {
        pair = await resolve(hello);
      } catch (error) {
        throw new TlsError("INVALID_CONFIG", `resolveCertificate failed: ${error}`, {
          cause: error,
        });
      }
      if (this.#freed) throw new TlsError("CLOSED", "the listener is closed");
      if (pair !== undefined) return this.#resolvedLease(pair);
    }
    return this.#default === undefined ? undefined : this.#lend(this.#default);
  }

  #resolvedLease(pair: CertificateAndKey): ConfigLease {
    const key = digest(pair);
    let entry = this.#resolved.get(key);
    if (entry !== undefined) {
      this.#resolved.delete(key); // re-inserted below: most recently used last
    } else {
      entry = lentConfig(this.#build(pair, "resolveCertificate result"));
    }
    this.#resolved.set(key, entry);
    const lease = this.#lend(entry);
    if (this.#resolved.size > RESOLVED_CACHE_SIZE) {
      const [oldestKey, oldest] = this.#resolved.entries().next().value as [
        string,
        LentConfig,
      ];
      this.#resolved.delete(oldestKey);
      this.#evict(oldest);
    }
    return lease;
  }

  #lend(entry: LentConfig): ConfigLease {
    entry.users++;
    let held = true;
    return {
      config: entry.config,
      release: () => {
        if (!held) return;
        held = false;
        entry.users--;
        if (entry.users === 0 && entry.evicted) {
          this.#lib.symbols.rustls_sockets_server_config_free(entry.config);
        }
      },
    };
  }

  /** Frees `entry` now, or at its last lease's release (connections hold their own reference). */
  #evict(entry: LentConfig): void {
    if (entry.evicted) return;
    entry.evicted = true;
    if (entry.users === 0) this.#lib.symbols.rustls_sockets_server_config_free(entry.config);
  }

  /** Marks a handshake that may still need a configuration. */
  retain(): void {
    this.#users++;
  }

  /** Ends a {@link retain}; frees everything when the listener closed meanwhile. */
  release(): void {
    this.#users--;
    if (this.#closing && this.#users === 0) this.free();
  }

  /**
   * The listener closed: frees the configurations once no accepted
   * connection still needs one for its handshake.
   */
  close(): void {
    this.#closing = true;
    if (this.#users === 0) this.free();
  }

  /** Frees every configuration (connections made from them keep working). Idempotent. */
  free(): void {
    if (this.#freed) return;
    this.#freed = true;
    const s = this.#lib.symbols;
    for (const entry of [this.#default, ...this.#byName.values(), ...this.#resolved.values()]) {
      if (entry !== undefined) this.#evict(entry);
    }
    this.#byName.clear();
    this.#resolved.clear();
    this.#default = undefined;
    if (this.#clientVerifier !== undefined) {
      s.rustls_client_cert_verifier_free(this.#clientVerifier);
    }
    this.#clientVerifier = undefined;
  }
}
