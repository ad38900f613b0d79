#!/usr/bin/env bash
# The benchmark (the README's command: npm run bench [-- --quick]): in Deno
# and in Bun, the module and the runtime's own TLS measured side by side in
# the same run —
#   bench/suite.ts      bulk throughput per suite, handshakes/s, resumed, RSS per idle connection
#   bench/peer.ts       the same kinds of rows with a Go peer in another process, as client and
#                       as server (bench/peers/go-load), with process CPU per MiB / round trip
#   bench/roundtrip.ts  64-byte round trips, p50/p99, 1 and 64 connections
#   bench/lag.ts        event-loop lag p99 while 200 handshakes are in flight
# — then the native library: stripped size per crypto provider, and (full
# mode only) a clean build time per provider.
# --quick: tiny sizes so CI proves it runs; never fails on speed.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh >/dev/null
quick=""
for arg in "$@"; do [ "$arg" = "--quick" ] && quick="--quick"; done

for bench in suite peer roundtrip lag; do
  flags=()
  # Deno.listenTls takes reusePort (peer.ts's Worker rows) only with --unstable-net.
  [ "$bench" = peer ] && flags=(--unstable-net)
  echo "== $bench (Deno)"
  node_modules/.bin/deno run -A --v8-flags=--expose-gc "${flags[@]}" "bench/$bench.ts" $quick
  echo "== $bench (Bun)"
  node_modules/.bin/bun "bench/$bench.ts" $quick
done

echo "== native library"
for build in aws-lc-rs ring "ring --minimal"; do
  provider="${build%% *}"
  dir="$(mktemp -d)"
  features="$provider,describe"
  profile=()
  if [ "$build" = "ring --minimal" ]; then
    features="$provider"
    profile=(--config 'profile.release.opt-level="z"' --config 'profile.release.lto="fat"' --config 'profile.release.codegen-units=1')
  fi
  if [ -z "$quick" ] || [ "$build" = "ring --minimal" ]; then
    start=$(date +%s.%N)
    cargo build --quiet --release --locked --manifest-path native/Cargo.toml "${profile[@]}" \
      --no-default-features --features "$features" --target-dir "$dir"
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    built="$dir/release/librustls_sockets.so"
    [ -n "$quick" ] && seconds="(not timed in quick mode)"
  else
    seconds="(not timed in quick mode)"
    built="native/target/$provider/release/librustls_sockets.so"
    [ -f "$built" ] || bash scripts/build-rustls-ffi.sh --provider "$provider" >/dev/null
  fi
  strip -o "$dir/stripped.so" "$built"
  printf '%-16s stripped %6d KiB, clean build %s s on %s cores\n' "$build" \
    $(( $(stat -c %s "$dir/stripped.so") / 1024 )) "$seconds" "$(nproc)"
  rm -rf "$dir"
done
# The default library again (the builds above must not be what tests load).
bash scripts/build-rustls-ffi.sh >/dev/null
