#!/usr/bin/env bash
# Web tests (called by scripts/test.sh after the C++ suites): the WebGPU kernels' per-op parity
# with the CPU references, end-to-end reference generation through the wasm engine module on
# WebGPU and on the wasm CPU backend, the Node CLI, and a headless Chromium smoke test.
# WebGPU in Node comes from the npm package `webgpu` (Dawn); without a GPU it runs on
# SwiftShader from Debian's chromium package. Assumes scripts/setup.sh (npm ci in web/) and
# scripts/build.sh (build-wasm/) ran; (re)builds the two wasm targets it needs.
set -euo pipefail
cd "$(dirname "$0")/.."
export NODE_PATH=/usr/share/nodejs
B=${BUILD_WASM:-build-wasm}  # the Emscripten build folder
if [ ! -f "$B/CMakeCache.txt" ]; then
  emcmake cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CROSSCOMPILING_EMULATOR="$(command -v node)" >/dev/null
fi
cmake --build "$B" --target hearth_web hearth_webgpu_ops_test hearth_webgpu_train_test -j"${JOBS:-2}"
if [ ! -d web/node_modules/webgpu ]; then
  (cd web && npm ci --no-audit --no-fund >/dev/null)
fi
export HEARTH_WEB_BUILD="$PWD/$B/web"
# No Vulkan driver configured and none installed: use SwiftShader (CPU) from chromium.
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ] && ! ls /usr/share/vulkan/icd.d/*.json >/dev/null 2>&1 \
    && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json
  export LD_LIBRARY_PATH="/usr/lib/chromium${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
cd web
start=$(date +%s)
failed=()
for f in test/*.test.mjs; do  # one file at a time, each with its duration
  t0=$(date +%s)
  node --test --test-concurrency=1 "$f" || failed+=("$f")
  echo "web suite $f: $(( $(date +%s) - t0 )) s"
done
echo "web tests: $(( $(date +%s) - start )) s"
if [ ${#failed[@]} -gt 0 ]; then
  echo "web suites that failed: ${failed[*]}"
  exit 1
fi
