#!/usr/bin/env bash
# Builds the module's one native library: rustls-ffi (pinned in native/Cargo.toml,
# locked by native/Cargo.lock) plus the few JS-FFI helpers in native/src, as
# native/build/librustls_sockets.so, where mod.ts finds it without any setting.
#
#   scripts/build-rustls-ffi.sh [--provider aws-lc-rs|ring] [--minimal]
#
# --minimal builds for size: no describeCertificate (x509-parser; certificate
# errors then say which name and code but not which date), Rust code
# optimised for size with whole-program LTO. With ring it is under 2 MiB.
#
# The crypto provider defaults to aws-lc-rs (rustls-ffi's default, with the
# post-quantum X25519MLKEM768 key exchange preferred); RUSTLS_SOCKETS_PROVIDER
# sets it too. Idempotent: cargo rebuilds only what changed and the library
# is copied only when it differs. Each provider has its own target directory,
# so switching back and forth does not rebuild either from scratch.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
provider="${RUSTLS_SOCKETS_PROVIDER:-aws-lc-rs}"
minimal=""
while [ $# -gt 0 ]; do
  case "$1" in
    --provider) provider="${2:?--provider needs aws-lc-rs or ring}"; shift 2 ;;
    --provider=*) provider="${1#--provider=}"; shift ;;
    --minimal) minimal=1; shift ;;
    -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
    *) echo "build-rustls-ffi.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
case "$provider" in
  aws-lc-rs|ring) ;;
  *) echo "build-rustls-ffi.sh: provider must be aws-lc-rs or ring, not '$provider'" >&2; exit 2 ;;
esac

command -v cargo >/dev/null || { echo "build-rustls-ffi.sh: cargo is required (https://rustup.rs)" >&2; exit 1; }

features="$provider,describe"
target_dir="$root/native/target/$provider"
if [ -n "$minimal" ]; then
  features="$provider"
  target_dir="$root/native/target/$provider-minimal"
  export CARGO_PROFILE_RELEASE_OPT_LEVEL=z CARGO_PROFILE_RELEASE_LTO=fat CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1
fi
cargo build --quiet --release --locked \
  --manifest-path "$root/native/Cargo.toml" \
  --no-default-features --features "$features" \
  --target-dir "$target_dir"

built="$target_dir/release/librustls_sockets.so"
dest="$root/native/build/librustls_sockets.so"
mkdir -p "$root/native/build"
if ! cmp -s "$built" "$dest"; then
  cp "$built" "$dest.tmp"
  mv "$dest.tmp" "$dest"
fi
echo "$provider${minimal:+ (minimal)}" > "$root/native/build/provider"
echo "native library: $dest ($provider, $(du -k "$dest" | cut -f1) KiB)"
