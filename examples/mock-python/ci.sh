#!/usr/bin/env bash
# Runs modspec against the example mock, the way a mock author's CI would:
#   1. with the control protocol: the whole suite passes, and a 20,000-case
#      fuzz campaign finds nothing;
#   2. --no-control with credentials: at least 150 live trials run and pass,
#      the others are skipped with the capability they need, exit 0;
#   3. the same with a planted bug (bandwidth 101 accepted): exit 1;
#   4. `modspec fuzz` with default options against the mock served like a
#      stock http.server (one thread, HTTP/1.0, backlog 5) completes.
# Usage: examples/mock-python/ci.sh [path/to/modspec]   (default: target/release/modspec)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../../target/release/modspec}")
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

# Starts the mock on a free port; sets $url.
start() {
  local log="$work/mock-$#-$RANDOM.log" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  python3 "$here/mock.py" --port "$port" "$@" >"$log" 2>&1 &
  pids+=($!)
  for _ in $(seq 50); do
    grep -q listening "$log" 2>/dev/null && break
    sleep 0.1
  done
  grep -q listening "$log" || { cat "$log"; echo "the mock did not start"; exit 1; }
  url="http://127.0.0.1:$port/"
}

fail() { echo "FAILED: $*"; exit 1; }

echo "-- 1. full suite and fuzz against the mock with the control protocol"
start
"$bin" run --target "$url" >"$work/full.txt" || { cat "$work/full.txt"; fail "the full suite"; }
summary=$(grep -E '^[0-9]+ passed' "$work/full.txt")
echo "$summary"
case "$summary" in *" 0 failed, 0 errors, 0 skipped"*) ;; *) fail "not every trial passed" ;; esac
"$bin" fuzz --target "$url" --runs 20000 --out "$work/findings" >"$work/fuzz.txt" \
  || { cat "$work/fuzz.txt"; fail "fuzz"; }
grep '^fuzz:' "$work/fuzz.txt"
grep -q 'disagreeing_cases=0 errors=0 findings=0' "$work/fuzz.txt" || fail "fuzz findings"

echo "-- 2. --no-control with credentials: live trials only"
export ALIBABA_CLOUD_ACCESS_KEY_ID="AKmockci$RANDOM"
ALIBABA_CLOUD_ACCESS_KEY_SECRET=$(python3 -c 'import secrets; print(secrets.token_urlsafe(18))')
export ALIBABA_CLOUD_ACCESS_KEY_SECRET
start --no-control
"$bin" run --target "$url" --instance-id i-mock-running >"$work/live.txt" \
  || { cat "$work/live.txt"; fail "the live run did not exit 0"; }
summary=$(grep -E '^[0-9]+ passed' "$work/live.txt")
echo "$summary"
passed=${summary%% passed*}
[ "$passed" -ge 150 ] || fail "only $passed live trials passed (at least 150 expected)"
case "$summary" in *" 0 failed, 0 errors, "*) ;; *) fail "live trials failed" ;; esac
grep -q '^skip .*needs a world: the control protocol with the capabilities core' "$work/live.txt" \
  || fail "skipped trials do not name the capabilities they need"
grep '^skipped for missing capabilities' "$work/live.txt"

echo "-- 3. --no-control with a planted bug: the run fails"
start --no-control --bug bandwidth-out-101
set +e
"$bin" run --target "$url" >"$work/bug.txt"
rc=$?
set -e
grep -E '^[0-9]+ passed' "$work/bug.txt"
[ "$rc" -eq 1 ] || { cat "$work/bug.txt"; fail "the planted bug gave exit $rc, not 1"; }
grep -q '^FAIL  live/params-bandwidth-out::over-101' "$work/bug.txt" || fail "the bug was not found where expected"

echo "-- 4. default fuzz options against a stock http.server (one thread, backlog 5)"
start --stock
"$bin" fuzz --target "$url" --out "$work/findings-stock" >"$work/stock.txt" \
  || { cat "$work/stock.txt"; fail "default fuzz against a stock http.server did not complete"; }
grep '^fuzz:' "$work/stock.txt"

echo "mock-python: all checks passed"
