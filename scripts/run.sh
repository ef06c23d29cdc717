#!/usr/bin/env bash
# The main job: set up, build (native CLI and the wasm engine), generate Python with the bundled
# default model from the CLI, then serve the app on http://localhost:8080/web/index.html
# (WebGPU in the browser, wasm CPU fallback). NO_SERVE=1 stops after the CLI.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
./build/hearth generate -m models/pycoder-6m --prompt "${PROMPT:-def fibonacci(n):
}" -n "${N:-96}"
if [ "${NO_SERVE:-0}" != 1 ]; then
  exec node web/bin/serve.mjs --port "${PORT:-8080}"
fi
