// The npm packages as a consumer gets them: packed, installed into a fresh project of the
// runtime running the test (no cargo, no repository), connecting, type-checking; and
// installNativeLibrary() against a local download server.
import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { createServer } from "node:http";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { VERSION } from "../../ffi/version.ts";
import { runtime, test } from "../helpers/harness.ts";
import { openSslServer } from "../helpers/peers.ts";
import { pki } from "../helpers/pki.ts";
import { repoPath } from "../helpers/scripts.ts";

const p = pki();
const dist = repoPath("dist");
const jsTarball = join(dist, `rustls-sockets-tls-${VERSION}.tgz`);
const platformTarball = join(dist, `rustls-sockets-tls-linux-x64-gnu-${VERSION}.tgz`);
const bin = repoPath("node_modules/.bin");
/** The consumer's environment: no library path, the runtimes and npm on PATH. */
const consumerEnv = (() => {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  delete env.RUSTLS_SOCKETS_LIB;
  env.PATH = `${bin}:${env.PATH}`;
  return env;
})();

let packed = false;
/** Runs `npm run pack` once per process. */
function pack(): void {
  if (packed) return;
  execFileSync("bash", [repoPath("scripts/pack.sh")], { stdio: "pipe", timeout: 600_000 });
  packed = true;
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, {
    cwd,
    env: consumerEnv,
    encoding: "utf8",
    timeout: 300_000,
  });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}:\n${result.stdout}${result.stderr}`);
  return result.stdout;
}

/** A fresh consumer project with the packed tarballs installed (`platform`: the library too). */
function consumer(platform: boolean): string {
  const dir = mkdtempSync(join(tmpdir(), `rustls-sockets-consumer-${runtime}-`));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  const tarballs = platform ? [platformTarball, jsTarball] : [jsTarball];
  if (runtime === "bun") {
    run(join(bin, "bun"), ["add", ...tarballs], dir);
  } else {
    writeFileSync(join(dir, "deno.json"), JSON.stringify({ nodeModulesDir: "manual" }));
    // --omit=optional: the platform packages are not published; the one given here is
    // installed. @types/node: what deno check reads for node: imports.
    run(
      "npm",
      ["install", "--no-audit", "--no-fund", "--omit=optional", ...tarballs, "@types/node@22.20.5"],
      dir,
    );
  }
  writeFileSync(
    join(dir, "main.ts"),
    `import { readFileSync } from "node:fs";
import process from "node:process";
import { installNativeLibrary } from "@rustls-sockets/tls";
import { connectTls } from "@rustls-sockets/tls/client";

const [port, ca, url, cacheDir] = process.argv.slice(2);
if (url) console.log("INSTALLED " + await installNativeLibrary({ url, cacheDir }));
const conn = await connectTls({
  hostname: "127.0.0.1",
  port: Number(port),
  serverName: "localhost",
  caCerts: [readFileSync(ca, "utf8")],
});
console.log("NEGOTIATED " + (await conn.handshake()).protocol);
conn.close();
`,
  );
  return dir;
}

/**
 * Runs the consumer's main.ts with the runtime under test: whether it exited 0, and its
 * output. Asynchronous, so that this process's download server keeps answering.
 */
function runMain(dir: string, args: string[]): Promise<{ ok: boolean; output: string }> {
  const [command, runArgs] = runtime === "bun"
    ? [join(bin, "bun"), ["main.ts", ...args]]
    : [join(bin, "deno"), ["run", "-A", "main.ts", ...args]];
  return new Promise((resolve) => {
    const child = spawn(command, runArgs, { cwd: dir, env: consumerEnv });
    let output = "";
    child.stdout.on("data", (c: Uint8Array) => (output += new TextDecoder().decode(c)));
    child.stderr.on("data", (c: Uint8Array) => (output += new TextDecoder().decode(c)));
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0, output });
    });
  });
}

test(
  "npm run pack: a JS package under 1 MiB without tests or native sources, and a platform package",
  () => {
    pack();
    const size = statSync(jsTarball).size;
    assert.ok(size < 1024 * 1024, `the JS tarball is ${size} bytes`);
    const files = execFileSync("tar", ["tzf", jsTarball], { encoding: "utf8" }).split("\n");
    assert.ok(files.includes("package/mod.js") && files.includes("package/mod.d.ts"));
    assert.ok(files.includes("package/cli/probe.js") && files.includes("package/node.js"));
    for (const banned of ["tests/", "bench/", "native/", ".ts\0"]) {
      assert.ok(
        !files.some((f) => (f + "\0").includes(banned) && !f.endsWith(".d.ts")),
        `the JS tarball holds no ${banned}`,
      );
    }
    const manifest = JSON.parse(
      execFileSync("tar", ["xzf", jsTarball, "-O", "package/package.json"], { encoding: "utf8" }),
    );
    assert.equal(manifest.optionalDependencies["@rustls-sockets/tls-linux-x64-gnu"], VERSION);
    assert.equal(manifest.devDependencies, undefined);
    assert.deepEqual(
      Object.keys(manifest.dependencies ?? {}),
      ["undici"],
      "no other run-time dependency",
    );
    const platformFiles = execFileSync("tar", ["tzf", platformTarball], { encoding: "utf8" });
    assert.match(platformFiles, /package\/librustls_sockets\.so/);
  },
  600_000,
);

test(
  `a fresh ${runtime} project installs both tarballs, connects to openssl s_server and type-checks`,
  async () => {
    pack();
    const dir = consumer(true);
    const peer = await openSslServer(p.server.certPath, p.server.keyPath, ["-www"]);
    try {
      const { ok, output } = await runMain(dir, [String(peer.port), p.ca.certPath]);
      assert.ok(ok, output);
      assert.match(output, /NEGOTIATED TLSv1\.3/);
    } finally {
      await peer.stop();
    }
    if (runtime === "deno") {
      run(join(bin, "deno"), ["check", "main.ts"], dir);
    } else {
      run("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--no-save",
        "@types/bun@1.4.5",
        "typescript@5.9.3",
      ], dir);
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            target: "ES2022",
            module: "ESNext",
            moduleResolution: "bundler",
            strict: true,
            noEmit: true,
            allowImportingTsExtensions: true,
            types: ["bun"],
          },
          files: ["main.ts"],
        }),
      );
      run(join(dir, "node_modules/.bin/tsc"), ["-p", "."], dir);
    }
  },
  600_000,
);

test(
  `installNativeLibrary (${runtime}): a verified download loads; one changed byte is refused`,
  async () => {
    pack();
    const dir = consumer(false);
    const unpacked = mkdtempSync(join(tmpdir(), "rustls-sockets-release-"));
    execFileSync("tar", ["xzf", platformTarball, "-C", unpacked]);
    const library = readFileSync(join(unpacked, "package/librustls_sockets.so"));
    let body = library;
    const server = createServer((request, response) => {
      if (request.url !== `/v${VERSION}/librustls_sockets-linux-x64-gnu.so`) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    const peer = await openSslServer(p.server.certPath, p.server.keyPath, ["-www"]);
    try {
      // Without the platform package and without an install, nothing loads.
      const before = await runMain(dir, [String(peer.port), p.ca.certPath]);
      assert.ok(!before.ok);
      assert.match(before.output, /no rustls-sockets native library found/);

      const tampered = Buffer.from(library);
      tampered[tampered.length >> 1] ^= 1;
      body = tampered;
      const badCache = join(dir, "bad-cache");
      const refused = await runMain(dir, [String(peer.port), p.ca.certPath, url, badCache]);
      assert.ok(!refused.ok);
      assert.match(refused.output, /has SHA-256 [0-9a-f]{64}, not the [0-9a-f]{64}.*refused/);
      assert.deepEqual(
        readdirSync(dir).includes("bad-cache") ? readdirSync(badCache, { recursive: true }) : [],
        [],
        "nothing is left in the cache",
      );

      body = library;
      const cache = join(dir, "cache");
      const good = await runMain(dir, [String(peer.port), p.ca.certPath, url, cache]);
      assert.ok(good.ok, good.output);
      assert.match(good.output, new RegExp(`INSTALLED ${cache}/${VERSION}/linux-x64-gnu/`));
      assert.match(good.output, /NEGOTIATED TLSv1\.3/);
    } finally {
      await peer.stop();
      server.close();
    }
  },
  600_000,
);
