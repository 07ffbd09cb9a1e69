#!/usr/bin/env bash
# Fuzz smoke (issue 14; scripts/test.sh runs it): builds the libFuzzer targets
# with Debian's clang in build-fuzz, replays every regression input (the
# findings of earlier runs, tests/fuzz/regressions/<target>/, run once each
# without fuzzing), then fuzzes each target for a bounded time from its seeds.
# A finding (crash, leak, timeout, out-of-memory, a failed property check)
# fails the script and names the reproducer. docs/RELIABILITY.md has the long
# runs and how to reproduce a finding.
#   scripts/fuzz-smoke.sh                     every target, HUEPOOL_FUZZ_SECONDS each (default 55)
#   HUEPOOL_FUZZ_SECONDS=0 scripts/fuzz-smoke.sh   replay only
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${HUEPOOL_FUZZ_SECONDS:-55}
jobs=$(nproc)

# target, its seed directory, its -max_len (inputs beyond that are never made)
targets=(
  "fuzz_analyze seeds-analyze 65536"
  "fuzz_png_paths seeds 16384"
  "fuzz_multipart seeds-multipart 4096"
  "fuzz_proto seeds-proto 8192"
  "fuzz_options seeds-options 1024"
)
# Per input: a hang is a finding past this; the RSS limit catches runaway allocations.
common_flags=(-timeout=25 -rss_limit_mb=2560 -print_final_stats=1)

CC=clang CXX=clang++ cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHUEPOOL_FUZZ=ON \
  -DHUEPOOL_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets >/dev/null

out=build-fuzz/smoke
rm -rf "$out"
mkdir -p "$out"
failed=0

# 1. Replay: each regression input once (libFuzzer runs files given as arguments).
for t in "${targets[@]}"; do
  read -r name _ _ <<<"$t"
  dir=tests/fuzz/regressions/${name#fuzz_}
  [[ -d $dir ]] || continue
  mapfile -t inputs < <(find "$dir" -type f | sort)
  ((${#inputs[@]})) || continue
  if ! build-fuzz/tests/fuzz/"$name" "${common_flags[@]}" "${inputs[@]}" >"$out/$name-replay.log" 2>&1; then
    tail -40 "$out/$name-replay.log"
    echo "fuzz smoke: $name fails on a regression input in $dir (log: $out/$name-replay.log)" >&2
    failed=1
  fi
done
echo "fuzz smoke: regression inputs replayed"

# 2. Bounded fuzzing, up to $jobs targets at once, each in a scratch corpus
#    seeded from its committed seeds (the seeds themselves are never written).
run_one() {
  local name=$1 seeds=$2 max_len=$3
  mkdir -p "$out/$name-corpus" "$out/$name-findings"
  if build-fuzz/tests/fuzz/"$name" "${common_flags[@]}" -max_len="$max_len" -max_total_time="$seconds" \
      -artifact_prefix="$out/$name-findings/" "$out/$name-corpus" "tests/fuzz/$seeds" >"$out/$name.log" 2>&1; then
    echo "fuzz smoke: $name $(grep -E '^stat::number_of_executed_units' "$out/$name.log" | awk '{print $2}') executions, no finding"
  else
    tail -40 "$out/$name.log"
    for f in "$out/$name-findings"/*; do
      [[ -e $f ]] && echo "fuzz smoke: $name FINDING: $f (reproduce: build-fuzz/tests/fuzz/$name $f)" >&2
    done
    echo "fuzz smoke: $name failed (log: $out/$name.log)" >&2
    return 1
  fi
}
if ((seconds > 0)); then
  for t in "${targets[@]}"; do
    read -r name seeds max_len <<<"$t"
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    (run_one "$name" "$seeds" "$max_len" && touch "$out/$name.passed") &
  done
  wait
  for t in "${targets[@]}"; do
    read -r name _ _ <<<"$t"
    [[ -e $out/$name.passed ]] || failed=1
  done
fi
if ((failed)); then
  echo "fuzz smoke failed" >&2
  exit 1
fi
echo "fuzz smoke: every target passed"
