#!/usr/bin/env bash
# The native crate's own tests (native/tests/abi.rs: the C ABI driven from
# Rust, every object freed), run under valgrind memcheck: any invalid
# access, use of uninitialised memory or definite leak fails the run.
# Prints cargo's "test result:" line; exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v valgrind >/dev/null || { echo "native-tests: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
provider="$(cat "$root/native/build/provider" 2>/dev/null || echo aws-lc-rs)"
target_dir="$root/native/target/$provider"
binary=$(cargo test --release --locked --quiet --no-run --manifest-path "$root/native/Cargo.toml" \
  --no-default-features --features "$provider,describe" --target-dir "$target_dir" --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    try:
        item = json.loads(line)
    except ValueError:
        continue
    if item.get("reason") == "compiler-artifact" and item.get("target", {}).get("name") == "abi" and item.get("executable"):
        print(item["executable"])')
[ -n "$binary" ] || { echo "native-tests: the abi test binary was not built" >&2; exit 1; }
valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
  --show-leak-kinds=definite --quiet \
  "$binary" --test-threads=1
