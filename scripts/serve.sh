#!/usr/bin/env bash
# Installs what is missing, builds a Release huepool and starts the server on
# :8080 with one worker per CPU (README quick start, command 1). Extra
# arguments go to `huepool serve`, e.g. `bash scripts/serve.sh --port 9000`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build-release -DCMAKE_BUILD_TYPE=Release -DHUEPOOL_BUILD_TESTS=OFF -DHUEPOOL_BUILD_BENCH=OFF >/dev/null
cmake --build build-release -j"$(nproc)" --target huepool
exec ./build-release/server/huepool serve "$@"
