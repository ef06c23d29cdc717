#!/usr/bin/env bash
# Sets up, builds and runs every test: the native suite, then the same suite compiled to
# WebAssembly and run in Node, the web tests, and each fuzz target for a few seconds
# (FUZZ_SECONDS each, default 11: 8 targets, under 2 minutes of fuzzing; scripts/fuzz.sh runs
# longer campaigns).
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
took() { echo "== $1: $(( $(date +%s) - t0 )) s"; t0=$(date +%s); }
trap 'took "(at exit)"' EXIT
bash scripts/setup.sh
took "setup"
bash scripts/build.sh
took "build"
echo "== native tests"
ctest --test-dir build --output-on-failure
took "native tests"
echo "== wasm tests (Node)"
ctest --test-dir build-wasm --output-on-failure
took "wasm tests"
if [ -f scripts/test_web.sh ]; then
  echo "== web tests (Node + WebGPU on SwiftShader, headless Chromium)"
  bash scripts/test_web.sh
  took "web tests"
fi
echo "== fuzz targets (${FUZZ_SECONDS:-11} s each)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-11}"
took "fuzz"
