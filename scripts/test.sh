#!/usr/bin/env bash
# Sets up, builds and runs every test: the native suite, then the same suite compiled to
# WebAssembly and run in Node, the web tests, and each fuzz target for a few seconds
# (FUZZ_SECONDS each, default 11: 8 targets, under 2 minutes of fuzzing; scripts/fuzz.sh runs
# longer campaigns).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
echo "== native tests"
ctest --test-dir build --output-on-failure
echo "== wasm tests (Node)"
ctest --test-dir build-wasm --output-on-failure
if [ -f scripts/test_web.sh ]; then
  echo "== web tests (Node + WebGPU on SwiftShader, headless Chromium)"
  bash scripts/test_web.sh
fi
echo "== fuzz targets (${FUZZ_SECONDS:-11} s each)"
bash scripts/fuzz.sh "${FUZZ_SECONDS:-11}"
