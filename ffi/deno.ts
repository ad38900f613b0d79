/**
 * The Deno loader: translates {@link SYMBOLS} to `Deno.dlopen` types.
 *
 * @module
 */
import {
  type NativeLibrary,
  type NativeSymbols,
  type NativeType,
  type Pointer,
  SYMBOLS,
} from "./symbols.ts";

const DENO_TYPES: Record<NativeType, Deno.NativeType | Deno.NativeResultType> = {
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
  const table: Record<string, Deno.ForeignFunction> = {};
  for (const [name, spec] of Object.entries(SYMBOLS)) {
    table[name] = {
      parameters: spec.parameters.map((t) => DENO_TYPES[t] as Deno.NativeType),
      result: DENO_TYPES[spec.result] as Deno.NativeResultType,
    };
  }
  const lib = Deno.dlopen(path, table);
  const symbols = lib.symbols as unknown as NativeSymbols;
  return {
    runtime: "deno",
    symbols,
    pointerFrom: (cell) => Deno.UnsafePointer.create(cell[0]) as unknown as Pointer,
  };
}
