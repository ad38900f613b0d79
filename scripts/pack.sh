#!/usr/bin/env bash
# Builds the npm packages into dist/ (npm run pack): the JS package
# (@rustls-sockets/tls: the module compiled to JavaScript with declarations, licences, README; no tests,
# benchmarks, native sources or build output) and the platform package of
# this machine (@rustls-sockets/tls-linux-x64-gnu or -linux-arm64-gnu: the
# stripped library built from source here), which the JS package lists as an
# exact-version optional dependency, as esbuild and swc ship native code.
# The packed module carries the built library's SHA-256 (what
# installNativeLibrary() checks downloads against); --release also writes it
# into ffi/library_digests.ts, for the JSR publish of the same release.
set -euo pipefail
release=0
[ "${1:-}" = "--release" ] && release=1
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/build-rustls-ffi.sh >/dev/null
version="$(node -p 'require("./package.json").version')"
case "$(uname -m)" in
  x86_64) target="linux-x64-gnu"; cpu="x64" ;;
  aarch64) target="linux-arm64-gnu"; cpu="arm64" ;;
  *) echo "pack.sh: no platform package for $(uname -m)" >&2; exit 1 ;;
esac
dist="$root/dist"
rm -rf "$dist"
mkdir -p "$dist/platform" "$dist/js"

# The platform package: one stripped library.
strip --strip-unneeded -o "$dist/platform/librustls_sockets.so" native/build/librustls_sockets.so
cp LICENSE-APACHE LICENSE-MIT "$dist/platform/"
cat > "$dist/platform/package.json" <<JSON
{
  "name": "@rustls-sockets/tls-$target",
  "version": "$version",
  "description": "The rustls-sockets native library (rustls-ffi and its additions) for $target",
  "license": "Apache-2.0 OR MIT",
  "os": ["linux"],
  "cpu": ["$cpu"],
  "libc": ["glibc"],
  "files": ["librustls_sockets.so", "LICENSE-APACHE", "LICENSE-MIT"]
}
JSON
sha="$(sha256sum "$dist/platform/librustls_sockets.so" | cut -d' ' -f1)"

# The JS package: the source compiled to JavaScript with its declarations
# (Deno refuses to strip types under node_modules), the licences and the
# README, and a manifest without the repository's scripts and
# devDependencies, with the platform packages.
node_modules/.bin/tsc -p tsconfig.npm.json --outDir "$dist/js"
# The digest of the library just built goes into the packed module (and with
# --release into ffi/library_digests.ts, for JSR's publish from the repository).
set_digest() {
  node -e '
const fs = require("fs");
const [file, target, sha] = process.argv.slice(1);
const text = fs.readFileSync(file, "utf8");
const entries = /libraries: \{([^}]*)\}/.exec(text)[1].split(",").map((e) => e.trim()).filter(
  (e) => e !== "" && !e.startsWith(`"${target}"`),
);
entries.push(`"${target}": "${sha}"`);
fs.writeFileSync(file, text.replace(/libraries: \{[^}]*\}/, `libraries: { ${entries.join(", ")} }`));
' "$1" "$target" "$sha"
}
set_digest "$dist/js/ffi/library_digests.js"
[ "$release" = 1 ] && set_digest ffi/library_digests.ts && node_modules/.bin/deno fmt ffi/library_digests.ts >/dev/null 2>&1
cp README.md LICENSE-APACHE LICENSE-MIT "$dist/js/"
node -e '
const fs = require("fs");
const manifest = JSON.parse(fs.readFileSync("package.json", "utf8"));
delete manifest.scripts;
delete manifest.devDependencies;
const js = (path) => path.replace(/\.ts$/, ".js");
manifest.exports = Object.fromEntries(
  Object.entries(manifest.exports).map(([key, path]) => [
    key,
    { types: path.replace(/\.ts$/, ".d.ts"), default: js(path) },
  ]),
);
manifest.bin = Object.fromEntries(Object.entries(manifest.bin).map(([k, v]) => [k, js(v)]));
manifest.files = ["**/*.js", "**/*.d.ts", "README.md", "LICENSE-*"];
manifest.optionalDependencies = {
  "@rustls-sockets/tls-linux-x64-gnu": manifest.version,
  "@rustls-sockets/tls-linux-arm64-gnu": manifest.version,
};
fs.writeFileSync(process.argv[1], JSON.stringify(manifest, null, 2) + "\n");
' "$dist/js/package.json"

(cd "$dist/platform" && npm pack --silent --pack-destination "$dist" >/dev/null)
(cd "$dist/js" && npm pack --silent --pack-destination "$dist" >/dev/null)
rm -rf "$dist/platform" "$dist/js"
ls -l "$dist"/*.tgz | awk '{print "pack: " $NF " (" $5 " bytes)"}'
