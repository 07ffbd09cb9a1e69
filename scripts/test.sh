#!/usr/bin/env bash
# Builds huepool and runs the whole test suite (README quick start, command 2;
# .ci/run calls exactly this). The last line is the test count, "ctest: N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh --test
jobs=$(nproc)

# Sanitizer stage (issue 14): the whole suite built a second time with
# ASan+UBSan (build-asan; UBSan halts on the first error) and run, end-to-end
# tests included: the server and its workers (the same binary, exec'd with the
# same environment) are instrumented. Left out, knowingly: label "docker" (they
# test the image docker/Dockerfile builds, not this binary) and "quickstart"
# (it compiles its own Release binary). Every process writes its sanitizer
# reports to build-asan/sanitizer-logs/, so a report from a worker whose death
# a test expects fails the stage too. No suppressions (docs/RELIABILITY.md).
# HUEPOOL_TIME_SCALE widens the few time budgets tests assert (ASan is slower).
# Before the main run so that CTest's summary stays the last line.
asan_start=$SECONDS
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUEPOOL_SANITIZE=ON -DHUEPOOL_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j"$jobs" >/dev/null
san_logs=$PWD/build-asan/sanitizer-logs
rm -rf "$san_logs"
mkdir -p "$san_logs"
if ! (cd build-asan &&
      HUEPOOL_TIME_SCALE=5 \
      ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:log_path=$san_logs/asan" \
      UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$san_logs/ubsan" \
      ctest -LE 'docker|quickstart' --output-on-failure -j"$jobs" >ctest-asan.log 2>&1) ||
   [[ -n $(ls -A "$san_logs") ]]; then
  cat build-asan/ctest-asan.log
  for f in "$san_logs"/*; do [[ -e $f ]] && { echo "== $f"; cat "$f"; }; done
  echo "ASan+UBSan stage failed" >&2
  exit 1
fi
echo "ASan+UBSan stage: $(grep -E 'tests passed' build-asan/ctest-asan.log | tail -1) in $((SECONDS - asan_start)) s"

# Fuzz smoke (issue 14): every libFuzzer target about a minute, regression
# inputs replayed; a finding fails here and names its reproducer.
fuzz_start=$SECONDS
bash scripts/fuzz-smoke.sh
echo "fuzz smoke: $((SECONDS - fuzz_start)) s"

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
