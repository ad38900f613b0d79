#!/usr/bin/env bash
# The native crate's own tests (native/tests/abi.rs: the C ABI driven from
# Rust, every object freed; and the library's unit tests), run under
# valgrind memcheck: any invalid access, use of uninitialised memory or
# definite leak fails the run. Ends with one "test result:" line summing
# both binaries; exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
command -v valgrind >/dev/null || { echo "native-tests: valgrind is required (apt-get install valgrind)" >&2; exit 1; }
provider="$(cat "$root/native/build/provider" 2>/dev/null || echo aws-lc-rs)"
target_dir="$root/native/target/$provider"
# The abi test binary and the library's own unit tests.
binaries=$(cargo test --release --locked --quiet --no-run --manifest-path "$root/native/Cargo.toml" \
  --no-default-features --features "$provider,describe" --target-dir "$target_dir" --message-format=json 2>/dev/null |
  python3 -c 'import json, sys
for line in sys.stdin:
    try:
        item = json.loads(line)
    except ValueError:
        continue
    target = item.get("target", {})
    if item.get("reason") == "compiler-artifact" and item.get("executable") and (
        target.get("name") == "abi" or target.get("name") == "rustls_sockets"
    ):
        print(item["executable"])')
[ "$(echo "$binaries" | grep -c .)" -eq 2 ] || { echo "native-tests: the test binaries were not built" >&2; exit 1; }
passed=0
failed=0
status=0
for binary in $binaries; do
  log="$(mktemp)"
  valgrind --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite \
    --show-leak-kinds=definite --quiet \
    "$binary" --test-threads=1 2>&1 | tee "$log" || status=1
  result=$(grep -E '^test result: .* [0-9]+ passed; [0-9]+ failed' "$log" | tail -1)
  rm -f "$log"
  [ -n "$result" ] || { status=1; failed=$((failed + 1)); continue; }
  passed=$((passed + $(echo "$result" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$result" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
done
[ "$failed" -eq 0 ] || status=1
# One line for scripts/test.sh, in cargo's form.
echo "test result: $([ "$status" -eq 0 ] && echo ok || echo FAILED). $passed passed; $failed failed (all native test binaries)"
exit "$status"
