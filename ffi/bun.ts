/**
 * The Bun loader: translates {@link SYMBOLS} to `bun:ffi` types. `bun:ffi` is
 * imported by a computed specifier so that Deno never tries to resolve it.
 *
 * @module
 */
import type { NativeLibrary, NativeSymbols, NativeType, Pointer } from "./symbols.ts";
import { SYMBOLS } from "./symbols.ts";

const BUN_TYPES: Record<NativeType, string> = {
  void: "void",
  bool: "bool",
  u8: "u8",
  u16: "u16",
  u32: "u32",
  i32: "i32",
  usize: "usize",
  pointer: "ptr",
  buffer: "ptr",
  function: "ptr",
};

/** The part of `bun:ffi` this loader uses. */
interface BunFfi {
  dlopen(
    path: string,
    symbols: Record<string, { args: string[]; returns: string }>,
  ): { symbols: Record<string, unknown> };
  JSCallback: new (
    fn: () => void,
    def: { args: string[]; returns: string; threadsafe: boolean },
  ) => { ptr: number | null; close(): void };
}

/** Opens the library at `path` with `bun:ffi`'s `dlopen`. */
export async function openBun(path: string): Promise<NativeLibrary> {
  const specifier = "bun:ffi";
  const ffi = (await import(specifier)) as BunFfi;
  const table: Record<string, { args: string[]; returns: string }> = {};
  for (const [name, spec] of Object.entries(SYMBOLS)) {
    table[name] = {
      args: spec.parameters.map((t) => BUN_TYPES[t]),
      returns: BUN_TYPES[spec.result],
    };
  }
  const lib = ffi.dlopen(path, table);
  return {
    runtime: "bun",
    symbols: lib.symbols as unknown as NativeSymbols,
    // Bun represents pointers as numbers; addresses fit in 53 bits on x86-64 and arm64.
    pointerFrom: (cell) => (cell[0] === 0n ? null : Number(cell[0])) as unknown as Pointer,
    threadSafeCallback: (fn) => {
      const callback = new ffi.JSCallback(fn, { args: [], returns: "void", threadsafe: true });
      return { pointer: callback.ptr as unknown as Pointer, close: () => callback.close() };
    },
  };
}
