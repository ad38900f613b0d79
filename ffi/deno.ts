/**
 * The Deno loader: translates {@link SYMBOLS} to `Deno.dlopen` types.
 *
 * @module
 */
import { type NativeLibrary, type NativeSymbols, type NativeType, SYMBOLS } from "./symbols.ts";

/**
 * The part of `Deno.dlopen` this loader uses, declared here rather than
 * taken from Deno's global types: the package also type-checks where they
 * are absent (a Bun project's `tsc`).
 */
interface DenoFfi {
  dlopen(
    path: string,
    symbols: Record<string, { parameters: string[]; result: string }>,
  ): { symbols: unknown };
}

const DENO_TYPES: Record<NativeType, string> = {
  void: "void",
  bool: "bool",
  u8: "u8",
  u16: "u16",
  u32: "u32",
  i32: "i32",
  usize: "usize",
  pointer: "pointer",
  buffer: "buffer",
  function: "function",
};

/** Opens the library at `path` with `Deno.dlopen`. */
export function openDeno(path: string): NativeLibrary {
  const table: Record<string, { parameters: string[]; result: string }> = {};
  for (const [name, spec] of Object.entries(SYMBOLS)) {
    table[name] = {
      parameters: spec.parameters.map((t) => DENO_TYPES[t]),
      result: DENO_TYPES[spec.result],
    };
  }
  const lib = (globalThis as unknown as { Deno: DenoFfi }).Deno.dlopen(path, table);
  const symbols = lib.symbols as unknown as NativeSymbols;
  return {
    runtime: "deno",
    symbols,
    // Through the library, not Deno.UnsafePointer.create: that needs unscoped --allow-ffi.
    pointerFrom: (cell) => symbols.rustls_sockets_pointer_from_cell(cell),
  };
}
