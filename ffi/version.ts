/**
 * The version of this module, which the native library it loads must share
 * (the loader checks it; `tests/` checks that deno.json, package.json and
 * native/Cargo.toml say the same).
 *
 * @module
 */

/** This module's version, and the native library's it needs. */
export const VERSION = "0.1.0";
