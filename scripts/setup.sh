#!/usr/bin/env bash
# Installs what hearth needs on Debian 12: compilers, CMake, GoogleTest, Emscripten (+ acorn for
# its optimizer), clang with its sanitizer and libFuzzer runtimes (the fuzz targets), Unicode data
# for the tokenizer tables, Node.js and npm. Safe to re-run.
set -euo pipefail
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
pkgs=(cmake g++ make googletest libgtest-dev emscripten node-acorn unicode-data python3 chromium libcpp-httplib-dev
      pkg-config curl clang libclang-rt-14-dev)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# Node.js may come from elsewhere (e.g. a nodesource build that bundles npm): use what is there.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "== installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if [ -f web/package.json ]; then
  (cd web && if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi) >/dev/null
fi
