#!/usr/bin/env bash
# Small-image throughput of the HTTP service (issue #4): a 160x120 PNG posted
# raw to /v1/analyze with wrk (Debian package `wrk`; a benchmark tool only, not
# a test dependency) at 2 and 16 connections, with p50/p99 latency.
#   bash bench/http_wrk.sh [BUILD_DIR=build] [DURATION=10s] [WORKERS=2]
set -euo pipefail
build=${1:-build}
duration=${2:-10s}
workers=${3:-2}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
tmp=$(mktemp -d)
"$build/bench/http_bench" --small-png "$tmp/small.png"
"$build/server/huepool" serve --host 127.0.0.1 --port 0 --workers "$workers" --access-log=false \
  > "$tmp/out" 2> "$tmp/err" &
server=$!
cleanup() { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '[0-9]*$' "$tmp/out")
echo "small PNG: $(stat -c %s "$tmp/small.png") bytes, 160x120; workers=$workers; duration=$duration"
for conns in 2 16; do
  HUEPOOL_PNG="$tmp/small.png" wrk -t2 -c"$conns" -d"$duration" --latency \
    -s "$(dirname "$0")/http_small_png.lua" "http://127.0.0.1:$port" > "$tmp/wrk.$conns"
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.$conns")
  echo "connections=$conns  req/s=$rps  $(tail -1 "$tmp/wrk.$conns")"
done
