#!/usr/bin/env bash
# Writes the C header of the native library's own functions,
# native/include/rustls_sockets.h, with cbindgen (config: native/cbindgen.toml),
# and checks that it compiles against rustls-ffi's rustls.h. With --check it
# writes nothing and fails when the committed header is stale (CI runs that);
# tests/abi/abi_table.test.ts then checks ffi/symbols.ts against both headers.
#
#   scripts/abi-header.sh [--check]
#
# Needs cbindgen (`cargo install --locked cbindgen@0.29.0`, built from
# crates.io source; .ci/run installs it when missing), cargo and gcc.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
check=""
[ "${1:-}" = "--check" ] && check=1
command -v cbindgen >/dev/null || { echo "abi-header: cbindgen is required" >&2; exit 1; }
header="$root/native/include/rustls_sockets.h"
fresh="$(mktemp)"
trap 'rm -f "$fresh"' EXIT
(cd "$root/native" && cbindgen --quiet --config cbindgen.toml --crate rustls-sockets --output "$fresh" .)
rustls_h=$(cargo metadata --quiet --offline --format-version 1 --manifest-path "$root/native/Cargo.toml" |
  python3 -c 'import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "rustls-ffi":
        print(os.path.join(os.path.dirname(p["manifest_path"]), "src"))')
echo 'int main(void) { return 0; }' |
  gcc -fsyntax-only -Wall -Werror -I "$rustls_h" -include "$fresh" -x c - ||
  { echo "abi-header: the generated header does not compile against rustls.h" >&2; exit 1; }
if [ -n "$check" ]; then
  cmp -s "$fresh" "$header" ||
    { echo "abi-header: native/include/rustls_sockets.h is stale: run scripts/abi-header.sh" >&2; diff -u "$header" "$fresh" | head -40 >&2; exit 1; }
  echo "abi-header: native/include/rustls_sockets.h is current"
else
  mkdir -p "$(dirname "$header")"
  cp "$fresh" "$header"
  echo "abi-header: wrote native/include/rustls_sockets.h"
fi
