#!/usr/bin/env bash
# Installs, from Debian's packages, the toolchains and the independent TLS
# peers the tests start (OpenSSL, GnuTLS, curl, Go, Python, Java's JSSE, NSS,
# nginx, PostgreSQL, redis-server, valgrind, ...), only those missing. Called by
# scripts/test.sh and .ci/run; safe to run again. Needs root (or sudo) and
# Debian's package registry when something is missing.
set -euo pipefail

need=()
command -v openssl >/dev/null || need+=(openssl)
command -v go >/dev/null || need+=(golang-go)
command -v gnutls-cli >/dev/null || need+=(gnutls-bin)
command -v curl >/dev/null || need+=(curl)
command -v python3 >/dev/null || need+=(python3)
command -v valgrind >/dev/null || need+=(valgrind)
command -v cargo >/dev/null || need+=(cargo)
command -v npm >/dev/null || need+=(npm)
command -v javac >/dev/null || need+=(openjdk-17-jdk-headless)
command -v tstclnt >/dev/null || need+=(libnss3-tools)
command -v gcc >/dev/null || need+=(gcc)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists nss 2>/dev/null || need+=(libnss3-dev)
[ -x /usr/sbin/nginx ] || need+=(nginx-light)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
# LLVM's shared AddressSanitizer runtime, for scripts/asan.sh.
ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.asan-x86_64.so >/dev/null 2>&1 || need+=(libclang-rt-19-dev)
[ ${#need[@]} -gt 0 ] || exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null || ! sudo -n true 2>/dev/null; then
    echo "install-peers: missing peers; as root, run: apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  sudo=(sudo -n)
fi
echo "install-peers: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq "${need[@]}" >/dev/null
