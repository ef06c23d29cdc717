// Shared by the web tests: where the wasm build and the fixtures are, and a WebGPU bridge on
// Node's Dawn (SwiftShader without a GPU; scripts/test_web.sh sets its environment).
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { GpuBridge } from '../src/gpu_bridge.mjs';
import { nodeGpu } from '../src/node_gpu.mjs';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
// The Emscripten build's web/ folder (HEARTH_WEB_BUILD overrides).
export const webBuild = resolve(process.env.HEARTH_WEB_BUILD ?? resolve(repoRoot, 'build-wasm/web'));
// ../shared/fixtures relative to the repository root (HEARTH_FIXTURES overrides).
export const fixtures = resolve(process.env.HEARTH_FIXTURES ?? resolve(repoRoot, '../shared/fixtures'));

export function buildFile(name) {
  const p = resolve(webBuild, name);
  if (!existsSync(p)) throw new Error(`${p} is missing: build the wasm target first (scripts/test_web.sh)`);
  return p;
}

let bridgePromise = null;
// One device for the whole test file. Resolves to { bridge, reason }.
export function sharedBridge(opts = {}) {
  bridgePromise ??= (async () => {
    const gpu = await nodeGpu();
    if (!gpu) return { bridge: null, reason: 'npm package webgpu is not installed' };
    return GpuBridge.create({ gpu, ...opts });
  })();
  return bridgePromise;
}
