// The FFI symbol table (ffi/symbols.ts) and ABI constants (ffi/constants.ts) checked against the C headers.
// Those are native/include/rustls_sockets.h (generated from native/src by
// scripts/abi-header.sh) and rustls-ffi's own rustls.h (from cargo's copy of
// the pinned crate). A wrong parameter count or type is undefined behaviour
// at run time and invisible to both runtimes' FFI, so it fails here.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { CAPTURE, EVENT_DONE, INTEREST, IO, LISTEN, RESULT } from "../../ffi/constants.ts";
import { type NativeType, SYMBOLS } from "../../ffi/symbols.ts";
import { test } from "../helpers/harness.ts";
import { repoPath } from "../helpers/scripts.ts";

/** What a function-pointer parameter's type reads as after parsing. */
const FUNCTION_POINTER = "function_pointer";
const root = repoPath("");

/** The directory of the pinned rustls-ffi crate's sources, from cargo. */
function rustlsFfiSources(): string {
  const metadata = JSON.parse(
    execFileSync("cargo", [
      "metadata",
      "--quiet",
      "--offline",
      "--format-version",
      "1",
      "--manifest-path",
      join(root, "native/Cargo.toml"),
    ], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 }),
  ) as { packages: { name: string; manifest_path: string }[] };
  const crate = metadata.packages.find((p) => p.name === "rustls-ffi");
  assert.ok(crate, "cargo metadata names rustls-ffi");
  return join(dirname(crate.manifest_path), "src");
}

/** A C prototype: its result type and parameter types, as written. */
interface Prototype {
  result: string;
  parameters: string[];
}

/** The prototypes of `header`, and the names its typedefs make pointers or callbacks. */
function parseHeader(text: string): {
  prototypes: Map<string, Prototype>;
  pointerTypedefs: Set<string>;
  callbackTypedefs: Set<string>;
} {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "")
    .replace(/^\s*#.*$/gm, "");
  const pointerTypedefs = new Set<string>();
  const callbackTypedefs = new Set<string>();
  for (const m of code.matchAll(/typedef\s+[^;()]*\*\s*(\w+)\s*;/g)) pointerTypedefs.add(m[1]);
  for (const m of code.matchAll(/typedef\s+[^;]*\(\s*\*\s*(\w+)\s*\)\s*\(/g)) {
    callbackTypedefs.add(m[1]);
  }
  const prototypes = new Map<string, Prototype>();
  // A function-pointer parameter, `void (*signal)(void)`, reads as `FUNCTION_POINTER signal`.
  const statements = code.replace(/\s+/g, " ")
    .replace(
      /[\w\s*]+\(\s*\*\s*(\w+)\s*\)\s*\([^()]*\)/g,
      (whole, name) => /\btypedef\b/.test(whole) ? whole : ` ${FUNCTION_POINTER} ${name}`,
    )
    .split(";");
  for (const statement of statements) {
    const m = /^\s*([\w\s*]+?)\s*\b(rustls_\w+)\s*\(([^()]*)\)\s*$/.exec(statement);
    if (!m || /\btypedef\b/.test(m[1])) continue;
    // Each parameter is a type and a name (generated headers name them all).
    const parameters = m[3].trim() === "void" || m[3].trim() === ""
      ? []
      : m[3].split(",").map((p) => p.trim().replace(/\s*\b\w+$/, "").trim());
    prototypes.set(m[2], { result: m[1].trim(), parameters });
  }
  return { prototypes, pointerTypedefs, callbackTypedefs };
}

/** The neutral types a C type may be declared as in the table. */
function allowed(
  cType: string,
  pointerTypedefs: Set<string>,
  callbackTypedefs: Set<string>,
): NativeType[] {
  const type = cType.replace(/\b(const|struct|enum)\b/g, "").replace(/\s+/g, " ").trim();
  if (type.includes("*") || pointerTypedefs.has(type)) return ["pointer", "buffer"];
  if (callbackTypedefs.has(type) || type === FUNCTION_POINTER) return ["function"];
  switch (type) {
    case "void":
      return ["void"];
    case "bool":
      return ["bool"];
    case "uint8_t":
      return ["u8"];
    case "uint16_t":
      return ["u16"];
    case "uint32_t":
    case "rustls_result":
    case "rustls_tls_version":
    case "rustls_handshake_kind":
      return ["u32"];
    case "int":
    case "int32_t":
    case "rustls_io_result":
      return ["i32"];
    case "size_t":
      return ["usize"];
    default:
      return [];
  }
}

test("ffi/symbols.ts matches the C headers: every entry, its parameters and its result", () => {
  const ours = parseHeader(
    readFileSync(join(root, "native/include/rustls_sockets.h"), "utf8"),
  );
  const theirs = parseHeader(readFileSync(join(rustlsFfiSources(), "rustls.h"), "utf8"));
  assert.ok(
    ours.prototypes.size > 50,
    `prototypes read from rustls_sockets.h: ${ours.prototypes.size}`,
  );
  assert.ok(
    theirs.prototypes.size > 100,
    `prototypes read from rustls.h: ${theirs.prototypes.size}`,
  );
  const pointerTypedefs = new Set([...ours.pointerTypedefs, ...theirs.pointerTypedefs]);
  const callbackTypedefs = new Set([...ours.callbackTypedefs, ...theirs.callbackTypedefs]);
  const problems: string[] = [];
  for (const [name, spec] of Object.entries(SYMBOLS)) {
    const prototype = ours.prototypes.get(name) ?? theirs.prototypes.get(name);
    if (!prototype) {
      problems.push(`${name}: in neither header`);
      continue;
    }
    if (prototype.parameters.length !== spec.parameters.length) {
      problems.push(
        `${name}: ${spec.parameters.length} parameters in the table, ` +
          `${prototype.parameters.length} in C (${prototype.parameters.join(", ")})`,
      );
      continue;
    }
    prototype.parameters.forEach((cType, i) => {
      const ok = allowed(cType, pointerTypedefs, callbackTypedefs);
      if (!ok.includes(spec.parameters[i])) {
        problems.push(
          `${name}: parameter ${i} is ${cType} in C, ${spec.parameters[i]} in the table`,
        );
      }
    });
    const ok = allowed(prototype.result, pointerTypedefs, callbackTypedefs);
    // `usize` is never a result in the table (the runtimes disagree on its JS type).
    if (!ok.includes(spec.result) && !(spec.result === "pointer" && ok.includes("buffer"))) {
      problems.push(`${name}: result is ${prototype.result} in C, ${spec.result} in the table`);
    }
  }
  assert.deepEqual(problems, []);
});

test("the table check itself catches a wrong entry", () => {
  const { prototypes, pointerTypedefs, callbackTypedefs } = parseHeader(
    "uint32_t rustls_x(const struct rustls_connection *conn, size_t len, int fd);",
  );
  const x = prototypes.get("rustls_x");
  assert.deepEqual(x, {
    result: "uint32_t",
    parameters: ["const struct rustls_connection *", "size_t", "int"],
  });
  const kinds = x!.parameters.map((t) => allowed(t, pointerTypedefs, callbackTypedefs));
  assert.deepEqual(kinds, [["pointer", "buffer"], ["usize"], ["i32"]]);
  assert.ok(!kinds[1].includes("u32"), "a size_t is not a u32");
});

test("the calls made per record take no usize argument (Deno runs those through its slow FFI path)", () => {
  const perRecord = [
    "rustls_sockets_connection_recv_fd",
    "rustls_sockets_connection_send_fd",
    "rustls_sockets_connection_feed_tls",
    "rustls_sockets_connection_recv_buf",
    "rustls_sockets_connection_send_buf",
    "rustls_sockets_socket_send",
    "rustls_sockets_socket_recv",
    "rustls_sockets_poller_submit_recv_buf",
    "rustls_sockets_poller_arm",
    "rustls_sockets_poller_take",
    "rustls_connection_wants_write",
  ] as const;
  const slow = perRecord.filter((name) =>
    (SYMBOLS[name].parameters as readonly NativeType[]).includes("usize")
  );
  assert.deepEqual(slow, []);
});

/** `#define NAME value` lines and `NAME = value` enum entries of a header, by name. */
function headerConstants(text: string): Map<string, number> {
  const found = new Map<string, number>();
  for (const m of text.matchAll(/^#define\s+(\w+)\s+(0x[0-9a-fA-F]+|\d+)\s*$/gm)) {
    found.set(m[1], Number(m[2]));
  }
  for (const m of text.matchAll(/^\s*(RUSTLS_\w+)\s*=\s*(\d+),?\s*$/gm)) {
    found.set(m[1], Number(m[2]));
  }
  return found;
}

test("ffi/constants.ts matches the headers: every result code, flag and event kind", () => {
  const c = new Map([
    ...headerConstants(readFileSync(join(root, "native/include/rustls_sockets.h"), "utf8")),
    ...headerConstants(readFileSync(join(rustlsFfiSources(), "rustls.h"), "utf8")),
  ]);
  const problems: string[] = [];
  const expect = (names: string[], value: number, what: string): void => {
    const name = names.find((n) => c.has(n));
    if (name === undefined) problems.push(`${what}: none of ${names.join(", ")} in the headers`);
    else if (c.get(name) !== value) problems.push(`${what} is ${value}, ${name} is ${c.get(name)}`);
  };
  for (const [name, value] of Object.entries(RESULT)) {
    expect([`RESULT_${name}`, `RUSTLS_RESULT_${name}`], value, `RESULT.${name}`);
  }
  for (const [name, value] of Object.entries(IO)) {
    expect([`RUSTLS_SOCKETS_IO_${name}`], value, `IO.${name}`);
  }
  for (const [name, value] of Object.entries(INTEREST)) {
    expect([`RUSTLS_SOCKETS_${name}`], value, `INTEREST.${name}`);
  }
  for (const [name, value] of Object.entries(CAPTURE)) {
    expect([`RUSTLS_SOCKETS_CAPTURE_${name}`], value, `CAPTURE.${name}`);
  }
  for (const [name, value] of Object.entries(LISTEN)) {
    expect([`RUSTLS_SOCKETS_LISTEN_${name}`], value, `LISTEN.${name}`);
  }
  expect(["RUSTLS_SOCKETS_EVENT_DONE"], EVENT_DONE, "EVENT_DONE");
  assert.ok(c.size > 100, `constants read from the headers: ${c.size}`);
  assert.deepEqual(problems, []);
});
