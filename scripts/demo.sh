#!/usr/bin/env bash
# The demo (npm run demo): sets up what is missing (Deno, Bun, the native
# library), makes a throw-away CA and server certificate, starts a local
# HTTPS peer (openssl s_server -www) and connects to it with the module in
# Deno and in Bun, printing what each negotiated; then serves HTTPS with the
# module in each runtime and fetches it with curl and with the module's client.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
bash scripts/setup.sh

work="$(mktemp -d)"
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# A CA and a localhost leaf (keys stay in the temp dir and are deleted on exit).
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
  -subj "/CN=rustls-sockets demo CA" -keyout "$work/ca.key" -out "$work/ca.crt" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.crt" -CAkey "$work/ca.key" \
  -CAcreateserial -days 1 -extfile "$work/ext" -out "$work/server.crt" 2>/dev/null

openssl s_server -accept 0 -cert "$work/server.crt" -key "$work/server.key" -www \
  -alpn http/1.1 > "$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
  port=$(sed -nE 's/^ACCEPT .*:([0-9]+)$/\1/p' "$work/server.log")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "${port:-}" ] || { echo "demo: openssl s_server did not start" >&2; cat "$work/server.log" >&2; exit 1; }
echo "local TLS peer: openssl s_server -www on 127.0.0.1:$port ($(openssl version | cut -d' ' -f1-2))"
echo "native library: native/build/librustls_sockets.so ($(cat native/build/provider))"
echo
node_modules/.bin/deno run -A examples/demo.ts "$port" "$work/ca.crt"
echo
node_modules/.bin/bun examples/demo.ts "$port" "$work/ca.crt"
echo
node_modules/.bin/deno run -A examples/https_server.ts "$work"
echo
node_modules/.bin/bun examples/https_server.ts "$work"
