#!/usr/bin/env bash
# huepool with curl: every mode and option of POST /v1/analyze, and the
# operations endpoints. Each step prints "## <step>", the command, then what
# the server answered.
#
#   bash examples/curl.sh [URL] IMAGE IMAGE [BROKEN_IMAGE]
#   URL defaults to $HUEPOOL_URL, then http://127.0.0.1:8080.
#   e.g. bash examples/curl.sh http://127.0.0.1:8080 a.png b.jpg
#
# The "expected" comments show what a user should see (from a real run on
# ../shared/corpus/seed12/skimage-astronaut.png and mate-Dune.jpg; elapsed_ms
# and worker vary from run to run).
set -euo pipefail

url=${HUEPOOL_URL:-http://127.0.0.1:8080}
if [[ $# -gt 0 && $1 == http* ]]; then url=$1; shift; fi
if [[ $# -lt 2 ]]; then
  echo "usage: $0 [URL] IMAGE IMAGE [BROKEN_IMAGE]" >&2
  exit 64
fi
a=$1 b=$2 broken=${3:-}

step() { printf '\n## %s\n' "$1"; }
run() { printf '$'; printf ' %q' "$@"; printf '\n'; "$@"; echo; }

step "health"
# expected: {"status":"ok"}
run curl -sS "$url/healthz"

step "info"
# expected: {"version":"0.1.0","formats":["png","jpeg"],"limits":{...},...}
run curl -sS "$url/v1/info"

step "map (default): one JSON document, results in input order"
# expected: {"results":[{"index":0,"name":"skimage-astronaut.png","format":"png",...,"hex":"#000000",...},
#                       {"index":1,"name":"mate-Dune.jpg",...}],"count":2,"failed":0,"elapsed_ms":...}
run curl -sS -F "image=@$a" -F "image=@$b" "$url/v1/analyze"

step "raw body: one image, its name from ?name= (any image/* Content-Type; the format is sniffed from the bytes)"
# expected: {"results":[{"index":0,"name":"one-image",...}],"count":1,"failed":0,"elapsed_ms":...}
run curl -sS --data-binary "@$a" -H 'Content-Type: image/png' "$url/v1/analyze?name=one-image"

step "imap: NDJSON in input order, then the done line"
# expected: {"index":0,...}
#           {"index":1,...}
#           {"done":true,"count":2,"failed":0,"elapsed_ms":...}
run curl -sS -N -F "image=@$a" -F "image=@$b" "$url/v1/analyze?mode=imap"

step "imap_unordered with top=3 and processes=2: completion order, the 3 most common colors each"
# expected: one line per image as it completes (match them by "index"), each with
#           "colors":[{"r":..,"g":..,"b":..,"hex":..,"count":..,"percentage":..} x3], then the done line
run curl -sS -N -F "image=@$a" -F "image=@$b" "$url/v1/analyze?mode=imap_unordered&top=3&processes=2"

step "alpha=ignore: fully transparent pixels are not counted"
# expected: like map; "pixels" is the number of pixels that are not fully transparent
run curl -sS -F "image=@$a" "$url/v1/analyze?alpha=ignore"

if [[ -n $broken ]]; then
  step "a damaged image fails alone"
  # expected: {"results":[{"index":0,...,"hex":...},{"index":1,"name":"...","error":{"code":"decode_failed","message":"..."}}],
  #            "count":2,"failed":1,...}
  run curl -sS -F "image=@$a" -F "image=@$broken" "$url/v1/analyze"
fi

step "a bad option: 400 application/problem+json naming it"
# expected: {"type":...,"title":"Bad Request","status":400,"detail":"mode: must be map, imap or imap_unordered",...}
#           HTTP 400
run curl -sS -w '\nHTTP %{http_code}\n' -F "image=@$a" "$url/v1/analyze?mode=fast"

step "metrics (Prometheus text format), first lines"
# expected: # HELP huepool_... / # TYPE huepool_... / huepool_...{...} N
printf '$ curl -sS %s/metrics | head -n 12\n' "$url"
metrics=$(curl -sS "$url/metrics")   # not piped: head closing early would fail the script
sed -n 1,12p <<<"$metrics"
