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
# ../shared/corpus/seed12/skimage-astronaut.png, mate-Dune.jpg and a damaged
# PNG; elapsed_ms and worker vary from run to run).
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
# expected: {"draining":false,"formats":["png","jpeg"],"limits":{"body_timeout_ms":30000,...,"max_body_bytes":67108864,
#            "max_images":256,...},"modes":["map","imap","imap_unordered"],"name":"huepool",...,
#            "pool":{"busy":0,"completed":0,"live":2,"queued":0,"restarts":0,"workers":2},"ready":true,"version":"0.1.0"}
run curl -sS "$url/v1/info"

step "map (default): one JSON document, results in input order"
# expected:
#   {"results":[{"index":0,"name":"skimage-astronaut.png","format":"png","width":512,"height":512,"pixels":262144,
#                "color":{"r":0,"g":0,"b":0},"hex":"#000000","count":27969,"percentage":10.669326782226563,
#                "elapsed_ms":33.5,"worker":25289},
#               {"index":1,"name":"mate-Dune.jpg","format":"jpeg","width":1680,"height":1050,"pixels":1764000,
#                "color":{"r":159,"g":188,"b":218},"hex":"#9fbcda","count":10935,"percentage":0.6198979591836735,...}],
#    "count":2,"failed":0,"elapsed_ms":80.1}
run curl -sS -F "image=@$a" -F "image=@$b" "$url/v1/analyze"

step "raw body: one image, its name from ?name= (any image/* Content-Type; the format is sniffed from the bytes)"
# expected: {"results":[{"index":0,"name":"one-image",...,"hex":"#000000",...}],"count":1,"failed":0,"elapsed_ms":7.8}
run curl -sS --data-binary "@$a" -H 'Content-Type: image/png' "$url/v1/analyze?name=one-image"

step "imap: NDJSON in input order, then the done line"
# expected: {"index":0,"name":"skimage-astronaut.png",...,"color":{"r":0,"g":0,"b":0},"hex":"#000000",...}
#           {"index":1,"name":"mate-Dune.jpg",...,"color":{"r":159,"g":188,"b":218},"hex":"#9fbcda",...}
#           {"done":true,"count":2,"failed":0,"elapsed_ms":59.5}
run curl -sS -N -F "image=@$a" -F "image=@$b" "$url/v1/analyze?mode=imap"

step "imap_unordered with top=3 and processes=2: completion order, the 3 most common colors each"
# expected: one line per image as it completes (match them by "index"), each with its 3 top colors:
#           {"index":0,...,"colors":[{"r":0,"g":0,"b":0,"hex":"#000000","count":27969,"percentage":10.669326782226563},
#                                    {...,"hex":"#fefefe","count":1345,...},{...,"hex":"#010101",...}]}
#           {"index":1,...,"colors":[{...,"hex":"#9fbcda",...},{...,"hex":"#9db3ca",...},{...,"hex":"#a0bbd9",...}]}
#           {"done":true,"count":2,"failed":0,"elapsed_ms":64.4}
run curl -sS -N -F "image=@$a" -F "image=@$b" "$url/v1/analyze?mode=imap_unordered&top=3&processes=2"

step "alpha=ignore: fully transparent pixels are not counted"
# expected: like map; "pixels" counts only the pixels that are not fully transparent (for an image
#           without alpha, like skimage-astronaut.png, that is all of them: 262144)
run curl -sS -F "image=@$a" "$url/v1/analyze?alpha=ignore"

if [[ -n $broken ]]; then
  step "a damaged image fails alone"
  # expected: {"results":[{...,"index":0,...},
  #                        {"index":1,"name":"damaged.png",
  #                         "error":{"code":"decode_failed","message":"PNG: PNG data ends early (truncated)"}}],
  #            "count":2,"failed":1,"elapsed_ms":54.8}
  run curl -sS -F "image=@$a" -F "image=@$broken" "$url/v1/analyze"
fi

step "a bad option: 400 application/problem+json naming it"
# expected: {"code":"invalid_option","detail":"option 'mode' must be map, imap or imap_unordered",
#            "instance":"/v1/analyze?mode=fast","option":"mode","status":400,"title":"Bad Request","type":"about:blank"}
#           HTTP 400
run curl -sS -w '\nHTTP %{http_code}\n' -F "image=@$a" "$url/v1/analyze?mode=fast"

step "metrics (Prometheus text format), first lines"
# expected: # HELP huepool_http_requests_total HTTP requests answered, by status code.
#           # TYPE huepool_http_requests_total counter
#           huepool_http_requests_total{code="200"} 10
#           ...
printf '$ curl -sS %s/metrics | head -n 12\n' "$url"
metrics=$(curl -sS "$url/metrics")   # not piped: head closing early would fail the script
sed -n 1,12p <<<"$metrics"
