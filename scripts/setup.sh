#!/usr/bin/env bash
# Brings a fresh clone to a runnable state: Deno and Bun from npm (exact
# versions in package-lock.json), then the native library (cargo, offline
# after the first fetch from crates.io). Safe to run again: each step is
# skipped when already done.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

command -v npm >/dev/null || { echo "setup: npm (Node.js) is required" >&2; exit 1; }
if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/bun ] ||
   ! node_modules/.bin/deno --version >/dev/null 2>&1 || ! node_modules/.bin/bun --version >/dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error
fi
bash scripts/build-rustls-ffi.sh
