// The native library's loader: version check, foreign libraries, Deno's permission messages.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { VERSION } from "../../ffi/version.ts";
import { test } from "../helpers/harness.ts";
import { repoPath, scriptArgs } from "../helpers/scripts.ts";

const library = repoPath("native/build/librustls_sockets.so");
const deno = repoPath("node_modules/.bin/deno");
const dir = mkdtempSync(join(tmpdir(), "rustls-sockets-loader-"));
const probe = join(dir, "probe.ts");
writeFileSync(
  probe,
  `import { liveNativeObjects } from ${JSON.stringify(repoPath("mod.ts"))};
try {
  await liveNativeObjects();
  console.log("LOADED");
} catch (error) {
  console.log("ERROR " + error.name + ": " + error.message);
}
`,
);

/** Runs the probe in a child of this runtime (or Deno with `denoFlags`); its output line. */
function runProbe(env: Record<string, string>, denoFlags?: string[]): string {
  const [command, args] = denoFlags === undefined
    ? [process.execPath, scriptArgs(probe)]
    : [deno, ["run", "--no-prompt", ...denoFlags, probe]];
  const result = spawnSync(command, args, {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  return `${result.stdout}${result.stderr}`.trim();
}

test("deno.json, package.json and native/Cargo.toml carry the module's version", () => {
  const denoJson = JSON.parse(readFileSync(repoPath("deno.json"), "utf8"));
  const packageJson = JSON.parse(readFileSync(repoPath("package.json"), "utf8"));
  const cargo = /^version = "([^"]+)"/m.exec(readFileSync(repoPath("native/Cargo.toml"), "utf8"));
  assert.equal(denoJson.version, VERSION);
  assert.equal(packageJson.version, VERSION);
  assert.equal(cargo?.[1], VERSION);
  assert.equal(denoJson.name, packageJson.name, "one package name in both manifests");
});

test("a library of another version is refused, naming the path and both versions", () => {
  assert.equal(runProbe({ RUSTLS_SOCKETS_LIB: library }), "LOADED");
  const bytes = readFileSync(library);
  const mark = Buffer.from(`rustls-sockets version ${VERSION}`);
  const at = bytes.indexOf(mark);
  assert.ok(at >= 0, "the library holds its marked version text");
  const other = Buffer.from(bytes);
  other.write("rustls-sockets version 0.0.9".padEnd(mark.length, " "), at);
  const path = join(dir, "other-version.so");
  writeFileSync(path, other);
  const out = runProbe({ RUSTLS_SOCKETS_LIB: path });
  assert.match(out, /^ERROR NativeLibraryError: the native library at \S+other-version\.so/);
  assert.match(
    out,
    new RegExp(`is version 0\\.0\\.9 *, this module is ${VERSION.replace(/\./g, "\\.")}`),
  );
  assert.match(out, /build-rustls-ffi\.sh/);
});

test("a foreign library is refused, naming the function it lacks", () => {
  const libz = execFileSync("sh", ["-c", "ls /usr/lib/*-linux-gnu/libz.so.1 | head -1"], {
    encoding: "utf8",
  }).trim();
  const out = runProbe({ RUSTLS_SOCKETS_LIB: libz });
  assert.match(
    out,
    /^ERROR NativeLibraryError: the native library at \S+libz\.so\.1 lacks the function rustls_\w+/,
  );
});

test("a RUSTLS_SOCKETS_LIB that names no file is an error, not a fallback", () => {
  const out = runProbe({ RUSTLS_SOCKETS_LIB: join(dir, "missing.so") });
  assert.match(
    out,
    /^ERROR NativeLibraryError: RUSTLS_SOCKETS_LIB names \S+missing\.so, which is not a file/,
  );
});

test("Deno: the permission the loader lacks is the first thing it says; scoped --allow-ffi works", () => {
  assert.match(
    runProbe({}, ["--allow-read", "--allow-env"]),
    /^ERROR NativeLibraryError: Deno needs --allow-ffi/,
  );
  assert.match(
    runProbe({ RUSTLS_SOCKETS_LIB: library }, ["--allow-read", "--allow-ffi"]),
    /^ERROR NativeLibraryError: Deno needs --allow-env=RUSTLS_SOCKETS_LIB/,
  );
  assert.equal(
    runProbe({}, [
      "--allow-read",
      "--allow-env=RUSTLS_SOCKETS_LIB",
      `--allow-ffi=${library}`,
    ]),
    "LOADED",
  );
});

test("Deno: a refused name lookup says --allow-net", () => {
  const script = join(dir, "resolve.ts");
  writeFileSync(
    script,
    `import { connectTls } from ${JSON.stringify(repoPath("mod.ts"))};
try {
  await connectTls({ hostname: "name.invalid", port: 443 });
} catch (error) {
  console.log(error.code + " " + error.message);
}
`,
  );
  const result = spawnSync(deno, [
    "run",
    "--no-prompt",
    "--allow-read",
    "--allow-env",
    "--allow-ffi",
    script,
  ], { encoding: "utf8", timeout: 30_000 });
  assert.match(result.stdout, /^NAME_RESOLUTION_FAILED .*--allow-net/);
});
