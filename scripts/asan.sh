#!/usr/bin/env bash
# Runs JS tests against an AddressSanitizer build of the native library, in
# Deno and in Bun: any invalid access in the library (use after free, double
# free, overflow of a caller buffer) that a test provokes fails the run.
#
#   scripts/asan.sh [--crate DIR] [--runtime deno|bun] [test files...]
#
# Test files default to every tests/*/*.test.ts; --runtime runs one runtime
# only (default: Deno, then Bun).
# --crate builds another copy of the crate (DIR/Cargo.toml, target in
# DIR/target/asan) instead of native/, e.g. one with a deliberate bug.
# Prints one line per runtime and a last line "asan: N passed, N failed";
# exits non-zero when a test fails or ASan reported anything (any process:
# reports go to files, so those of child processes are seen too).
#
# Needs: the nightly toolchain (rustup toolchain install nightly), LLVM's
# shared ASan runtime (Debian: apt-get install libclang-rt-19-dev; or
# ASAN_RUNTIME=/path/to/libclang_rt.asan-x86_64.so), Deno and Bun from
# node_modules (scripts/setup.sh), and what the chosen tests need as peers.
#
# How: the library is built with nightly's -Zsanitizer=address for
# x86_64-unknown-linux-gnu (so build scripts and proc-macros are not
# instrumented; aws-lc's C code is not either), with frame pointers and line
# tables for readable reports, into DIR/target/asan. No -Zbuild-std: the
# precompiled std is not instrumented, but generic std code (Vec, slices,
# Arc) is compiled into the library and is, and every allocation goes
# through the runtime's malloc, so heap misuse is caught. A cdylib does
# not carry the ASan runtime and nightly ships only a static one, so a
# shared runtime is preloaded (LD_PRELOAD, inherited by every process the
# tests start);
# the script checks it defines every __asan_* symbol the library needs.
# The peers the tests start (openssl, curl, nginx, postgres, ...) inherit
# it too and run normally with LLVM's runtime. Not GCC's libasan.so.8 (gcc
# 12): preloaded into curl or postgres it hangs them at start-up (glibc's
# setlocale lock is found corrupt), so every test with such a peer times out.
# RUSTLS_SOCKETS_LIB points the module's loader at the build.
#
# ASAN_OPTIONS (an ASAN_OPTIONS already set is appended, so it can override):
#   halt_on_error=1, exitcode=86  the first report ends the process, with an
#                                 exit status no test runner uses;
#   detect_leaks=0                LeakSanitizer at exit reports Deno's own
#                                 allocations (V8, the CLI; no frame in this
#                                 library), and every stack has runtime
#                                 frames, so no suppression can keep only the
#                                 library's; its leaks are counted by
#                                 liveNativeObjects in the tests, the fuzzers
#                                 and scripts/native-tests.sh instead;
#   quarantine_size_mb=32         the default 256 MiB of freed memory held
#                                 back makes RSS climb for a long time, which
#                                 the soak test in robustness.test.ts reads as
#                                 a leak; 32 MiB still catches a use soon
#                                 after a free;
#   log_path=<temp dir>/asan      a report is written to asan.<pid>, found
#                                 even when a test swallowed the child's stderr.
# Left at their defaults, with which both runtimes pass: detect_odr_violation
# (only the library is instrumented, so no global is registered twice),
# allow_user_segv_handler (deprecated, true already: V8's and JSC's own
# signal handlers still install), use_sigaltstack.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

crate="$root/native"
files=()
runtimes=(deno bun)
while [ $# -gt 0 ]; do
  case "$1" in
    --runtime) runtimes=("${2:?--runtime needs deno or bun}"); shift 2 ;;
    --runtime=*) runtimes=("${1#--runtime=}"); shift ;;
    --crate) crate="$(cd "${2:?--crate needs a directory}" && pwd)"; shift 2 ;;
    --crate=*) crate="$(cd "${1#--crate=}" && pwd)"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) files+=("$1"); shift ;;
  esac
done
case "${runtimes[0]}" in
  deno|bun) ;;
  *) echo "asan: --runtime must be deno or bun, not '${runtimes[0]}'" >&2; exit 2 ;;
esac
if [ ${#files[@]} -eq 0 ]; then
  files=(tests/*/*.test.ts)
fi

rustup run nightly rustc --version >/dev/null 2>&1 ||
  { echo "asan: the nightly toolchain is required (rustup toolchain install nightly)" >&2; exit 1; }
[ -x node_modules/.bin/deno ] && [ -x node_modules/.bin/bun ] ||
  { echo "asan: Deno and Bun are missing: run scripts/setup.sh" >&2; exit 1; }

# The LLVM runtime (compiler-rt's shared libclang_rt.asan), newest first;
# ASAN_RUNTIME names another file.
runtime_lib="${ASAN_RUNTIME:-}"
if [ -z "$runtime_lib" ]; then
  for candidate in $(ls -d /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.so \
    /usr/lib/llvm-*/lib/clang/*/lib/x86_64-unknown-linux-gnu/libclang_rt.asan.so 2>/dev/null | sort -rV); do
    runtime_lib="$candidate"
    break
  done
fi
[ -n "$runtime_lib" ] && [ -e "$runtime_lib" ] ||
  { echo "asan: no shared LLVM ASan runtime (apt-get install libclang-rt-19-dev)" >&2; exit 1; }

# Reports name functions and lines only through llvm-symbolizer (any
# version; Debian's llvm package), given by path: left to search PATH, the
# runtime said "invalid path to external symbolizer" under Deno.
symbolizer="${ASAN_SYMBOLIZER_PATH:-}"
if [ -z "$symbolizer" ]; then
  for candidate in "$(dirname "$runtime_lib")"/../../../../../bin/llvm-symbolizer \
    "$(command -v llvm-symbolizer || true)"; do
    if [ -n "$candidate" ] && [ -x "$candidate" ]; then
      symbolizer="$(readlink -f "$candidate")"
      break
    fi
  done
fi
[ -n "$symbolizer" ] ||
  echo "asan: no llvm-symbolizer (apt-get install llvm): reports will show addresses only" >&2

provider="${RUSTLS_SOCKETS_PROVIDER:-aws-lc-rs}"
target_dir="$crate/target/asan"
triple=x86_64-unknown-linux-gnu
started=$SECONDS
env -u CARGO_ENCODED_RUSTFLAGS \
  RUSTFLAGS="-Zsanitizer=address -Cforce-frame-pointers=yes" \
  CARGO_PROFILE_RELEASE_STRIP=none CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo +nightly build --quiet --release --locked \
  --manifest-path "$crate/Cargo.toml" \
  --no-default-features --features "$provider,describe" \
  --target "$triple" --target-dir "$target_dir"
library="$target_dir/$triple/release/librustls_sockets.so"
echo "asan: library $library ($provider, built in $((SECONDS - started)) s)"
echo "asan: runtime $runtime_lib${symbolizer:+, symbolizer $symbolizer}"

missing="$(comm -23 \
  <(nm -D --undefined-only "$library" | awk '{print $2}' | grep -E '^__(asan|sanitizer)_' | sort -u) \
  <(nm -D --defined-only "$runtime_lib" | awk '{print $3}' | sort -u))"
if [ -n "$missing" ]; then
  echo "asan: $runtime_lib lacks symbols the library needs:" $missing >&2
  exit 1
fi

logs="$(mktemp -d)"
status=0
trap '[ "$status" -eq 0 ] && rm -rf "$logs"' EXIT
# Peers that drop privileges (initdb, postgres) write their reports here too.
chmod 755 "$logs"
options="halt_on_error=1:exitcode=86:detect_leaks=0:quarantine_size_mb=32"
export NO_COLOR=1

passed=0
failed=0
for runtime in "${runtimes[@]}"; do
  mkdir -p "$logs/$runtime"
  chmod 1777 "$logs/$runtime"
  if [ "$runtime" = deno ]; then
    command=(node_modules/.bin/deno test -A --v8-flags=--expose-gc "${files[@]}")
  else
    command=(node_modules/.bin/bun test "${files[@]}")
  fi
  started=$SECONDS
  rc=0
  ASAN_OPTIONS="$options:log_path=$logs/$runtime/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
    ASAN_SYMBOLIZER_PATH="$symbolizer" LD_PRELOAD="$runtime_lib" \
    RUSTLS_SOCKETS_LIB="$library" "${command[@]}" >"$logs/$runtime.log" 2>&1 || rc=$?
  took=$((SECONDS - started))
  if [ "$runtime" = deno ]; then
    counts="$(sed -nE 's/^(ok|FAILED) \| ([0-9]+) passed.*\| ([0-9]+) failed.*/\2 \3/p' "$logs/$runtime.log" | tail -1)"
  else
    counts="$(awk '/^ *[0-9]+ pass$/ {p=$1} /^ *[0-9]+ fail$/ {f=$1} END {if (p != "") print p, f + 0}' "$logs/$runtime.log")"
  fi
  reports=("$logs/$runtime"/asan.*)
  [ -e "${reports[0]}" ] || reports=()
  if [ -z "$counts" ]; then
    counts="0 1" # no summary: the runner itself failed (an ASan abort, a crash)
  fi
  read -r p f <<<"$counts"
  if [ ${#reports[@]} -gt 0 ] && [ "$f" -eq 0 ]; then
    f=1 # a report from a process whose failure no test counted (a child, a late callback)
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  echo "asan $runtime: $p passed, $f failed, ${#reports[@]} ASan report(s), exit $rc, ${took} s"
  if [ "$rc" -ne 0 ] || [ "$f" -ne 0 ] || [ ${#reports[@]} -gt 0 ]; then
    status=1
    if [ ${#reports[@]} -gt 0 ]; then
      for report in "${reports[@]}"; do
        echo "---- $runtime: ${report##*/}"
        cat "$report"
      done
    else
      echo "---- $runtime: last lines of the test output"
      tail -40 "$logs/$runtime.log"
    fi
  fi
done
[ "$status" -eq 0 ] || echo "asan: test output and reports kept in $logs"
echo "asan: $passed passed, $failed failed"
exit "$status"
