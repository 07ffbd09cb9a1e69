#!/usr/bin/env bash
# Small-image throughput of the HTTP service (issue #4): one image posted raw
# to /v1/analyze with wrk (Debian package `wrk`; a benchmark tool only, not a
# test dependency) at 2 and 16 connections, with p50/p99 latency. The image:
# IMAGE (a .png or .jpg file), or by default a 160x120 photo-like PNG that
# `http_bench --small-png` writes. bench/small_jpeg.py writes the 3.4 KB JPEG
# of docs/BENCHMARKS.md. BIN: the huepool binary (default BUILD_DIR's).
# Besides req/s (which on a shared machine is whatever CPU the others leave),
# each run prints the CPU time per request of the server and its workers and
# of wrk (from /proc, utime+stime), and the rate that CPU cost allows on 2
# idle cores: 2 s / (server + workers + wrk CPU per request); and the workers'
# own time per image from /metrics.
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
# utime+stime in clock ticks of the server and every process under it.
tree_ticks() {
  local total=0 pid
  for pid in $1 $(pgrep -P "$1"); do
    total=$((total + $(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
hz=$(getconf CLK_TCK)
# The workers' own time for the images, as they report it (Prometheus counter).
worker_seconds() {
  curl -s "http://127.0.0.1:$port/metrics" | awk '/^huepool_image_worker_seconds_total/ {print $2}'
}
for conns in 2 16; do
  worker_before=$(worker_seconds)
  before=$(tree_ticks "$server")
  HUEPOOL_PNG="$image" HUEPOOL_CONTENT_TYPE="$type" /usr/bin/time -f "%U %S" -o "$tmp/time.$conns" \
    wrk -t2 -c"$conns" -d"$duration" --latency \
    -s "$(dirname "$0")/http_small_png.lua" "http://127.0.0.1:$port" > "$tmp/wrk.$conns"
  after=$(tree_ticks "$server")
  worker_after=$(worker_seconds)
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/wrk.$conns")
  requests=$(awk '/requests in/ {print $1}' "$tmp/wrk.$conns")
  echo "connections=$conns  req/s=$rps  $(tail -1 "$tmp/wrk.$conns")"
  awk -v s="$((after - before))" -v hz="$hz" -v n="$requests" -v w="$(cat "$tmp/time.$conns")" \
      -v wb="$worker_before" -v wa="$worker_after" 'BEGIN {
    split(w, t, " "); server = 1000 * s / hz / n; client = 1000 * (t[1] + t[2]) / n;
    printf "  CPU per request: server+workers %.3f ms, wrk %.3f ms; 2 idle cores allow %.0f req/s\n",
           server, client, 2000 / (server + client);
    printf "  worker time per image (elapsed, as workers report it): %.3f ms\n", 1000 * (wa - wb) / n }'
done
