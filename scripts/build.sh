#!/usr/bin/env bash
# Builds hearth natively (build/) and, unless NATIVE_ONLY=1, to WebAssembly (build-wasm/).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$JOBS"
if [ "${NATIVE_ONLY:-0}" != 1 ]; then
  export NODE_PATH=/usr/share/nodejs
  emcmake cmake -S . -B build-wasm -DCMAKE_BUILD_TYPE=Release -DCMAKE_CROSSCOMPILING_EMULATOR="$(command -v node)" >/dev/null
  cmake --build build-wasm -j"$JOBS"
fi
