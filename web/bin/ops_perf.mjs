#!/usr/bin/env node
// The parity harness's perf mode on WebGPU (tests/parity/perf.cpp through
// web/test/webgpu_parity.cpp): matrix-vector and matrix-matrix products at Qwen2.5-3B's shapes in
// every weight format (ms, GB/s of weights, GFLOP/s) and quantization on upload (GB/s of BF16).
//   ops_perf.mjs [--tier subgroups|none] [--reps 50]
import { GpuBridge } from '../src/gpu_bridge.mjs';
import { nodeGpu, releaseNodeGpu } from '../src/node_gpu.mjs';
import { loadWasmModule } from '../src/wasm_loader.mjs';
import { buildFile } from '../test/helpers.mjs';

const a = new Map([['--tier', 'subgroups'], ['--reps', '50']]);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) a.set(argv[i], argv[i + 1]);
const gpu = await nodeGpu();
if (!gpu) throw new Error('no WebGPU (npm package webgpu is missing)');
const { bridge, reason } = await GpuBridge.create({ gpu });
if (!bridge) throw new Error(`no WebGPU device: ${reason}`);
console.log(`adapter: ${bridge.adapterName()}, tier ${a.get('--tier')}`);
const mod = await loadWasmModule(buildFile('hearth_webgpu_ops_test.cjs'), 'createHearthOpsTest', { hearthGpu: bridge });
const rc = await mod.ccall('hearth_ops_perf', 'number', ['string', 'number'], [a.get('--tier'), Number(a.get('--reps'))],
  { async: true });
bridge.destroy();
releaseNodeGpu();
process.exit(rc);
