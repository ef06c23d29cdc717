#!/usr/bin/env bash
# The main job: set up, build, and generate Python with the bundled default model.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
NATIVE_ONLY=1 bash scripts/build.sh
./build/hearth generate -m models/pycoder-6m --prompt "${PROMPT:-def fibonacci(n):
}" -n "${N:-96}"
