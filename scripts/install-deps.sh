#!/usr/bin/env bash
# Installs, from Debian's archive, whatever of huepool's build and test
# dependencies is missing. Idempotent: does nothing (not even apt-get update)
# when everything is present. Needs root (or sudo) on Debian 12.
#   scripts/install-deps.sh            build + runtime packages
#   scripts/install-deps.sh --test     also what the test suite uses
#   scripts/install-deps.sh --bench    also the benchmark tools (wrk, for bench/http_wrk.sh)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libboost1.81-dev nlohmann-json3-dev
            libpng-dev libjpeg62-turbo-dev zlib1g-dev doctest-dev libisal-dev libseccomp-dev
            libwebp-dev libgif-dev)
test_pkgs=(curl python3 python3-pil python3-jsonschema python3-yaml)
bench_pkgs=(wrk python3-pil)

# Fuzz smoke (issue 14, scripts/fuzz-smoke.sh): clang with libFuzzer and the
# sanitizer runtimes (libclang_rt.fuzzer/asan/ubsan are in libclang-rt-dev).
test_pkgs+=(clang libclang-rt-dev)

# Client tests (issue #7): Debian's chromium, driven by npm's playwright-core.
test_pkgs+=(chromium)

pkgs=("${build_pkgs[@]}")
if [[ "${1:-}" == "--bench" ]]; then
  pkgs+=("${bench_pkgs[@]}")
fi
if [[ "${1:-}" == "--test" ]]; then
  pkgs+=("${test_pkgs[@]}")
  # Node and npm for the client tests: Debian's, unless some node/npm is
  # already installed (e.g. a NodeSource nodejs, which bundles npm and
  # conflicts with Debian's npm package).
  command -v node >/dev/null || pkgs+=(nodejs)
  command -v npm >/dev/null || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
((${#missing[@]})) || exit 0

sudo=""
if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
