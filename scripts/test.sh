#!/usr/bin/env bash
# Builds huepool and runs the whole test suite (README quick start, command 2;
# .ci/run calls exactly this). The last line is the test count, "ctest: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
jobs=$(nproc)

# Sanitizer stage: the common/ engine tests (malformed-input suite included)
# under ASan+UBSan, built alone in build-asan; before the main run so that
# CTest's summary stays the last line.
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUEPOOL_SANITIZE=ON -DHUEPOOL_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs" --target common_tests >/dev/null
if ! (cd build-asan && ctest -L common -LE cli --output-on-failure -j"$jobs" >ctest-asan.log 2>&1); then
  cat build-asan/ctest-asan.log
  echo "ASan+UBSan stage failed" >&2
  exit 1
fi
echo "ASan+UBSan stage: common tests passed"

cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
cd build
set +e
ctest --output-on-failure -j"$jobs" 2>&1 | tee ctest.log
status=${PIPESTATUS[0]}
set -e
# CTest prints its label and time summaries after the count line; repeat the
# counts as the very last line ("N passed, N failed").
if [[ $(grep -E 'tests failed out of [0-9]+' ctest.log | tail -1) =~ ([0-9]+)\ tests\ failed\ out\ of\ ([0-9]+) ]]; then
  echo "ctest: $((BASH_REMATCH[2] - BASH_REMATCH[1])) passed, ${BASH_REMATCH[1]} failed"
fi
exit "$status"
