#!/usr/bin/env bash
# HTTPS from the installed binary alone (issue 8): in an empty directory
# holding only the binary, the whole built-in suite passes over HTTPS
#   1. against `modspec serve --tls-cert/--tls-key` (rustls) with --cacert,
#   2. against a TLS front that is not modspec's (Python ssl = OpenSSL,
#      .ci/tls_proxy.py) before a plain `modspec serve`, with --cacert,
# and without --cacert the run exits 2 naming the unknown issuer.
# Usage: https.sh BIN EXPECTED_TRIALS
set -euo pipefail
bin=$(realpath "$1"); expected=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d); solo=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work" "$solo"; }
trap cleanup EXIT
cp "$bin" "$solo/modspec"

# A CA of this run, and a server certificate for 127.0.0.1 signed by it.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
  -subj "/CN=modspec CI CA" -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
  -subj "/CN=127.0.0.1" -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null

# Starts a server in the background (not in a subshell, so the trap can
# stop it); its first stdout line, its address, goes into $started.
start() { # name, command...
  local name=$1; shift
  "$@" > "$work/$name.out" 2> "$work/$name.err" & pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$name.out" ] && break; sleep 0.1; done
  started=$(head -n 1 "$work/$name.out")
}
expect_all_pass() { # label, run args...
  local label=$1; shift
  (cd "$solo" && ./modspec run "$@") > "$work/run.txt" 2>&1 || { cat "$work/run.txt"; echo "$label: the run failed"; exit 1; }
  local summary; summary=$(tail -n 1 "$work/run.txt")
  echo "$label: $summary"
  case "$summary" in
    "$expected passed, 0 failed, 0 errors, 0 skipped in "*) ;;
    *) echo "$label: not every built-in trial passed"; exit 1 ;;
  esac
}

start rustls "$bin" serve --listen 127.0.0.1:0 --tls-cert "$work/server.pem" --tls-key "$work/server.key"
url="https://${started#*://}"; url="${url%/}/"
expect_all_pass "modspec serve over TLS ($url)" --target "$url" --cacert "$work/ca.pem"

set +e
(cd "$solo" && ./modspec run --target "$url") > "$work/nocacert.txt" 2>&1; code=$?
set -e
echo "without --cacert: exit $code: $(grep -m1 -i 'issuer' "$work/nocacert.txt" || true)"
[ "$code" = 2 ] && grep -qi 'issuer is unknown' "$work/nocacert.txt" \
  || { cat "$work/nocacert.txt"; echo "without --cacert the run must exit 2 naming the unknown issuer"; exit 1; }

start plain "$bin" serve --listen 127.0.0.1:0
plain="${started%/}"
start front python3 "$here/tls_proxy.py" "$work/server.pem" "$work/server.key" "${plain#*://}"
front="${started%/}/"
expect_all_pass "OpenSSL front ($front) before plain serve" --target "$front" --cacert "$work/ca.pem"
