/**
 * Small helpers over the loaded library: out-parameter cells, C strings,
 * result checking. Everything that turns a native result into a `TlsError`
 * goes through here.
 *
 * @module
 */
import { loadNative } from "../../ffi/load.ts";
import { RESULT } from "../../ffi/constants.ts";
import type { NativeLibrary, NativeSymbols, Pointer } from "../../ffi/symbols.ts";
import { codeForResult, TlsError } from "./errors.ts";

export type { NativeLibrary, NativeSymbols, Pointer };

/** The library, loaded on first use. */
export function native(): Promise<NativeLibrary> {
  return loadNative();
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A NUL-terminated UTF-8 copy of `text`. */
export function cString(text: string): Uint8Array {
  const bytes = encoder.encode(text + "\0");
  if (bytes.indexOf(0) !== bytes.length - 1) {
    throw new TlsError("INVALID_CONFIG", "text passed to the native library contains a NUL byte");
  }
  return bytes;
}

/** UTF-8 bytes of `text` (no terminator). */
export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** The largest length a `u32` length parameter carries. */
const U32_MAX = 0xffff_ffff;

/**
 * A buffer's length as a `u32` length argument (the per-record calls take
 * `u32`, see `ffi/symbols.ts`): past 4 GiB the call sees the first
 * 4 GiB - 1 bytes and reports how many it took, as for any partial call.
 */
export function u32Length(length: number): number {
  return length < U32_MAX ? length : U32_MAX;
}

/** An 8-byte cell for a `T **out` or `size_t *out` parameter. */
export function outCell(): BigUint64Array {
  return new BigUint64Array(1);
}

/**
 * Runs a native "copy into `buf`, length into `n`" call, growing `buf` once
 * to the size the call asks for when it answers `INSUFFICIENT_SIZE`.
 * Returns the call's result and the bytes it wrote (a view of `buf`).
 */
export function copyGrowing(
  call: (buf: Uint8Array, n: BigUint64Array) => number,
  initial: number,
): { result: number; bytes: Uint8Array } {
  let buf = new Uint8Array(initial);
  const n = outCell();
  let result = call(buf, n);
  if (result === RESULT.INSUFFICIENT_SIZE) {
    buf = new Uint8Array(Number(n[0]));
    result = call(buf, n);
  }
  return {
    result,
    bytes: result === RESULT.OK ? buf.subarray(0, Number(n[0])) : buf.subarray(0, 0),
  };
}

/** The text rustls-ffi gives for `result`. */
export function resultText(lib: NativeLibrary, result: number): string {
  const buf = new Uint8Array(512);
  const n = outCell();
  lib.symbols.rustls_sockets_error_text(result, buf, buf.length, n);
  return fromUtf8(buf.subarray(0, Number(n[0])));
}

/** A `TlsError` for a non-OK `rustls_result`; `context` says what was being done. */
export function resultError(lib: NativeLibrary, result: number, context: string): TlsError {
  const { code, alert } = codeForResult(result);
  const text = resultText(lib, result);
  return new TlsError(code, `${context}: ${text}`, { rustlsResult: result, alert });
}

/** Throws a `TlsError` unless `result` is `RUSTLS_RESULT_OK`. */
export function check(lib: NativeLibrary, result: number, context: string): void {
  if (result !== RESULT.OK) throw resultError(lib, result, context);
}

/** Whether a pointer is NULL (Deno: null; Bun: null or 0). */
export function isNull(pointer: Pointer): boolean {
  return pointer === null || (pointer as unknown) === 0;
}

/** The name of the crypto provider the library was built with. */
export function providerName(lib: NativeLibrary): string {
  const buf = new Uint8Array(32);
  const n = outCell();
  lib.symbols.rustls_sockets_crypto_provider_name(buf, buf.length, n);
  return fromUtf8(buf.subarray(0, Number(n[0])));
}

/** Live native objects the module created and has not freed yet. */
export interface LiveObjects {
  /** rustls connections (client and server sessions). */
  connections: number;
  /** rustls client configurations (cached ones included). */
  clientConfigs: number;
  /** rustls server configurations (each listener holds some). */
  serverConfigs: number;
  /**
   * TLS secrets held for connections: those a late alert or
   * `exportKeyingMaterial` may still need; 0 once every connection is freed.
   */
  secrets: number;
}

/**
 * Debugging aid: counts the native objects alive right now, so tests and
 * leak hunts can check they return to their baseline.
 */
export async function liveNativeObjects(): Promise<LiveObjects> {
  const lib = await native();
  const out = new BigInt64Array(4);
  lib.symbols.rustls_sockets_debug_live_objects(out);
  return {
    connections: Number(out[0]),
    clientConfigs: Number(out[1]),
    serverConfigs: Number(out[2]),
    secrets: Number(out[3]),
  };
}
