/**
 * The crypto provider: the library's default, created once, and those
 * restricted to given cipher suites and key-exchange groups, kept for the
 * process lifetime (they are few).
 *
 * @module
 */
import { RESULT } from "../../ffi/constants.ts";

import { TlsError } from "../core/errors.ts";
import { check, cString, type NativeLibrary, outCell, type Pointer } from "../core/native.ts";

/** Process-wide native objects, created once and kept for the process lifetime. */
interface Shared {
  provider: Pointer;
  platformVerifier?: Pointer;
}
let shared: Shared | undefined;

export function sharedObjects(lib: NativeLibrary): Shared {
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
