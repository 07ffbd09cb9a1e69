#!/usr/bin/env bash
# Small-image throughput of the HTTP service (issue #4): one image posted raw
# to /v1/analyze with wrk (Debian package `wrk`; a benchmark tool only, not a
# test dependency) at 2 and 16 connections, with p50/p99 latency. The image:
# IMAGE (a .png or .jpg file), or by default a 160x120 photo-like PNG that
# `http_bench --small-png` writes. bench/small_jpeg.py writes the 3.4 KB JPEG
# of docs/BENCHMARKS.md. BIN: the huepool binary (default BUILD_DIR's).
#   bash bench/http_wrk.sh [BUILD_DIR=build] [DURATION=10s] [WORKERS=2] [IMAGE]
set -euo pipefail
build=${1:-build}
duration=${2:-10s}
workers=${3:-2}
image=${4:-}
bin=${BIN:-$build/server/huepool}
command -v wrk >/dev/null || { echo "wrk not installed (apt-get install wrk)"; exit 1; }
tmp=$(mktemp -d)
if [ -z "$image" ]; then
  image="$tmp/small.png"
  "$build/bench/http_bench" --small-png "$image"
fi
case "$image" in
  *.jpg|*.jpeg) type=image/jpeg ;;
  *) type=image/png ;;
esac
"$bin" serve --host 127.0.0.1 --port 0 --workers "$workers" --access-log=false \
  > "$tmp/out" 2> "$tmp/err" &
server=$!
cleanup() { kill -TERM "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT
for _ in $(seq 100); do grep -q listening "$tmp/out" 2>/dev/null && break; sleep 0.1; done
port=$(grep -o '[0-9]*$' "$tmp/out")
echo "$(basename "$image"): $(stat -c %s "$image") bytes; $bin; workers=$workers; duration=$duration"
for conns in 2 16; do
  HUEPOOL_PNG="$image" HUEPOOL_CONTENT_TYPE="$type" wrk -t2 -c"$conns" -d"$duration" --latency \
    -s "$(dirname "$0")/http_small_png.lua" "http://127.0.0.1:$port" > "$tmp/wrk.$conns"
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.$conns")
  echo "connections=$conns  req/s=$rps  $(tail -1 "$tmp/wrk.$conns")"
done
