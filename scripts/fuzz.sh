#!/usr/bin/env bash
# Fuzzes the library's functions that take bytes or buffers from JS
# (native/fuzz/fuzz_targets): feed_tls (feed_tls/drain_tls: a client fed
# arbitrary server bytes in arbitrary pieces), recv_buf (recv_buf/send_buf,
# the buffer transport: the same with plaintext/output capacities and end of
# stream), recv_fd (the fused fd calls
# recv_fd/send_fd through a socketpair, arbitrary plaintext capacities and
# writes), acceptor (acceptor_feed_tls/accepted_get_info: arbitrary
# ClientHellos and output capacities), accepted_connection (a real
# ClientHello and arbitrary bytes after it through acceptor_feed_tls,
# accepted_into_connection and the buffer transport: the records rustls
# holds from the hello's segment), certificate (describe/spki on
# arbitrary DER), alpn_wire (both ALPN setters' parser). libFuzzer with
# AddressSanitizer and leak detection, on the nightly toolchain the machine has.
#
#   scripts/fuzz.sh [seconds per target, default 20]
#
# Needs cargo-fuzz (`cargo install --locked cargo-fuzz@0.13.2`, built from
# crates.io source; .ci/run installs it when missing) and the openssl CLI
# (accepted_connection makes its server's certificate with it at start-up).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
seconds="${1:-20}"
rustup run nightly rustc --version >/dev/null 2>&1 ||
  { echo "fuzz: the nightly toolchain is required (rustup toolchain list)" >&2; exit 1; }
cargo fuzz --version >/dev/null 2>&1 || { echo "fuzz: cargo-fuzz is required" >&2; exit 1; }
cd "$root/native"
cargo +nightly fuzz build -O
for target in feed_tls recv_buf recv_fd acceptor accepted_connection certificate alpn_wire; do
  log="$(mktemp)"
  if cargo +nightly fuzz run -O "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$log" 2>&1; then
    echo "fuzz $target: $(grep -E '^Done' "$log" | tail -1)"
  else
    echo "fuzz $target FAILED:"; tail -40 "$log"; rm -f "$log"; exit 1
  fi
  rm -f "$log"
done
