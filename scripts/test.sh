#!/usr/bin/env bash
# Runs every test (the README's test command: npm test): tests/ under
# `deno test` and under `bun test`, then the native crate's own tests under
# valgrind. Installs the missing peers (scripts/install-peers.sh) and sets up
# what is missing (scripts/setup.sh) first, and ends with one line summing
# all three: "N passed, N failed".
# Exits non-zero on any failure, or when a runner ends without a summary.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

bash scripts/install-peers.sh || { echo "test: installing the peers failed (scripts/install-peers.sh)" >&2; echo "0 passed, 1 failed"; exit 1; }
bash scripts/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
for tool in openssl go gnutls-cli curl python3 node valgrind /usr/sbin/nginx redis-server java javac tstclnt certutil pk12util gcc pkg-config; do
  command -v "$tool" >/dev/null || { echo "test: '$tool' is needed as a TLS peer" >&2; echo "0 passed, 1 failed"; exit 1; }
done
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 ||
  { echo "test: PostgreSQL (Debian's postgresql package) is needed as a STARTTLS peer" >&2; echo "0 passed, 1 failed"; exit 1; }

export NO_COLOR=1
logs="$(mktemp -d)"
passed=0
failed=0
status=0

echo "== deno test"
node_modules/.bin/deno test -A --v8-flags=--expose-gc tests/ "$@" 2>&1 | tee "$logs/deno.log"
deno_status=${PIPESTATUS[0]}
summary=$(grep -E '^(ok|FAILED) \| [0-9]+ passed' "$logs/deno.log" | tail -1)
if [ -n "$summary" ]; then
  passed=$((passed + $(echo "$summary" | sed -E 's/.*\| ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$summary" | sed -E 's/.*\| ([0-9]+) failed.*/\1/')))
else
  failed=$((failed + 1))
fi
[ "$deno_status" -eq 0 ] || status=1

echo "== bun test"
node_modules/.bin/bun test tests/ "$@" 2>&1 | tee "$logs/bun.log"
bun_status=${PIPESTATUS[0]}
bun_pass=$(grep -E '^ *[0-9]+ pass$' "$logs/bun.log" | tail -1 | tr -dc '0-9')
bun_fail=$(grep -E '^ *[0-9]+ fail$' "$logs/bun.log" | tail -1 | tr -dc '0-9')
if [ -n "$bun_pass" ]; then
  passed=$((passed + bun_pass))
  failed=$((failed + ${bun_fail:-0}))
else
  failed=$((failed + 1))
fi
[ "$bun_status" -eq 0 ] || status=1

echo "== native tests (cargo test under valgrind)"
bash scripts/native-tests.sh 2>&1 | tee "$logs/native.log"
native_status=${PIPESTATUS[0]}
native=$(grep -E '^test result: .* [0-9]+ passed; [0-9]+ failed' "$logs/native.log" | tail -1)
if [ -n "$native" ]; then
  passed=$((passed + $(echo "$native" | sed -E 's/.* ([0-9]+) passed.*/\1/')))
  failed=$((failed + $(echo "$native" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
else
  failed=$((failed + 1))
fi
[ "$native_status" -eq 0 ] || { status=1; [ -n "$native" ] && failed=$((failed + 1)); }

rm -rf "$logs"
[ "$failed" -eq 0 ] || status=1
echo "$passed passed, $failed failed"
exit "$status"
