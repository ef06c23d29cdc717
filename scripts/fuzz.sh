#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, -fsanitize=fuzzer,address,undefined; fuzz/fuzz.cmake) in
# build-fuzz/ and runs each for SECONDS (default 60) from its seed corpus (fuzz/corpus/<target>,
# plus the fixtures' chat templates and configs when ../shared/fixtures is there) with its
# dictionary (fuzz/dict/<target>.dict). Any crash, sanitizer report, leak, timeout (20 s per
# input) or allocation over 2 GB fails the script and leaves the input in build-fuzz/findings/.
# The seed corpus in the repository is never written; runs work on a copy. With FUZZ_RUNS=N a
# target stops after N executions (SECONDS still bounds it).
#   scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(safetensors json_config tokenizer_load tokenizer_text chat_template lora regex gguf)
JOBS=${JOBS:-$(nproc)}
FIX=${HEARTH_FIXTURES:-$(pwd)/../shared/fixtures}
start=$(date +%s)

cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DHEARTH_FUZZ=ON -DHEARTH_TESTS=OFF \
  -DCMAKE_BUILD_TYPE=Release -DHEARTH_FIXTURES="$FIX" >/dev/null
if ! cmake --build build-fuzz -j"$JOBS" --target hearth_fuzzers >build-fuzz/build.log 2>&1; then
  grep -E "error|Error" build-fuzz/build.log | head -20
  exit 1
fi
echo "== fuzz targets built in $(( $(date +%s) - start )) s"

# Seeds that live outside the repository: the fixtures' chat templates and configs.
extra_seeds() {  # target dir
  [ -d "$FIX" ] || return 0
  case $1 in
    chat_template) python3 - "$FIX" "$2" <<'PY' ;;
import glob, json, os, sys
fix, out = sys.argv[1], sys.argv[2]
for p in glob.glob(os.path.join(fix, "tokenizers", "*.tokenizer_config.json")):
    t = json.load(open(p)).get("chat_template")
    if isinstance(t, str):
        open(os.path.join(out, "fixture_" + os.path.basename(p).split(".")[0]), "w").write(t)
PY
    json_config) for f in "$FIX"/*/config.json "$FIX"/*/generation_config.json; do
                   [ -f "$f" ] && cp "$f" "$2/fixture_$(basename "$(dirname "$f")")_$(basename "$f")"; done ;;
  esac
  return 0
}

rm -rf build-fuzz/run build-fuzz/findings
mkdir -p build-fuzz/run build-fuzz/findings
failed=0
runs_start=$(date +%s)
for t in "${TARGETS[@]}"; do
  work=build-fuzz/run/$t
  mkdir -p "$work"
  cp fuzz/corpus/"$t"/* "$work"/
  extra_seeds "$t" "$work"
  log=build-fuzz/run/$t.log
  if ./build-fuzz/fuzz_"$t" "$work" -dict=fuzz/dict/"$t".dict -max_total_time="$SECS" -timeout=20 \
       -rss_limit_mb=2048 -malloc_limit_mb=2048 -artifact_prefix=build-fuzz/findings/"$t"- -print_final_stats=1 \
       ${FUZZ_RUNS:+-runs=$FUZZ_RUNS} \
       >"$log" 2>&1; then
    execs=$(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}')
    secs=$(grep -m1 'Done [0-9]* runs in' "$log" | awk '{print $5}')
    echo "fuzz_$t: ${execs:-?} executions in ${secs:-$SECS} s, no findings"
  else
    echo "fuzz_$t: FINDING (log: $log, input: build-fuzz/findings/$t-*)"
    grep -E "ERROR|SUMMARY|runtime error|==[0-9]+==" "$log" | head -8
    failed=1
  fi
done
echo "== fuzzing took $(( $(date +%s) - start )) s ($(( $(date +%s) - runs_start )) s running ${#TARGETS[@]} targets)"
exit $failed
