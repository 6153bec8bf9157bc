#!/usr/bin/env bash
# Build the libFuzzer targets (clang, ASan + UBSan) and run each for FUZZ_SECONDS (default 30)
# on its seed corpus (fuzz/corpus/NAME) plus a working corpus in build-fuzz/corpus/NAME.
# Any crash fails the script; the crashing input is left in build-fuzz/artifacts/.
#   scripts/fuzz.sh                 # all targets, 30 s each (what the test script runs)
#   FUZZ_SECONDS=600 scripts/fuzz.sh token_cache config   # long runs of some targets
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-30}
command -v clang++ >/dev/null || { echo "fuzz: clang++ is missing (apt-get install clang libclang-rt-dev)" >&2; exit 2; }
cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for t in fuzz/targets/fuzz_*.cpp; do targets+=("$(basename "$t" .cpp | sed 's/^fuzz_//')"); done
fi
mkdir -p build-fuzz/artifacts
failed=0
for t in "${targets[@]}"; do
  mkdir -p "build-fuzz/corpus/$t"
  log="build-fuzz/$t.log"
  if build-fuzz/"fuzz_$t" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="build-fuzz/artifacts/$t-" "build-fuzz/corpus/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    echo "fuzz: $t: $(grep -E '^#[0-9]+' "$log" | tail -1 | awk '{print $1, "runs,", $3, $4}') - no crash in ${seconds}s"
  else
    echo "fuzz: $t: FAILED, see $log and build-fuzz/artifacts/" >&2
    grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5 >&2
    failed=1
  fi
done
exit $failed
