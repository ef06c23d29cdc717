#!/usr/bin/env bash
# Generates the malformed-input corpus from the fixtures and runs it through the native CLI.
#   malformed_test.sh HEARTH FIXTURES BUNDLED_MODEL OUT_DIR
set -euo pipefail
here=$(dirname "$0")
python3 "$here/make_cases.py" "$4" "$2" "$3"
python3 "$here/run_cases.py" "$4" "$1"
