// The training fixtures (tests/train_fixture.h: PyTorch's pretraining and LoRA runs of
// fixtures/train, with the tolerances) on WebGPU, through web/test/webgpu_train.cpp
// compiled to wasm, on Dawn (SwiftShader in CI): step-0 gradients, every loss, the final
// weights / adapter, greedy ids of the saved model and of the hot-swapped adapter; QLoRA on an
// int4 base (only with HEARTH_TRAIN_FULL=1: minutes on SwiftShader); and the Q8_0 / Q4_0 GGUF
// fixtures' perplexity (web/test/webgpu_gguf.cpp): two windows against the CPU backend, and (with
// HEARTH_TRAIN_FULL=1) all 32 against llama.cpp's figures. One tier: the subgroup
// tier where the adapter has it (the per-op parity tests cover both).
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { loadWasmModule } from '../src/wasm_loader.mjs';
import { releaseNodeGpu } from '../src/node_gpu.mjs';
import { buildFile, sharedBridge } from './helpers.mjs';

const { bridge, reason } = await sharedBridge();
const tier = bridge?.tier === 'subgroups' ? 'subgroups' : 'none';
let mod = null;
if (bridge) {
  mod = await loadWasmModule(buildFile('hearth_webgpu_train_test.cjs'), 'createHearthTrainTest', { hearthGpu: bridge });
}

after(() => {
  bridge?.destroy();
  releaseNodeGpu();
});

const full = process.env.HEARTH_TRAIN_FULL === '1';
const cases = ['PretrainGptQwen2MatchesPyTorch', 'LoraQwen2TinyMatchesPyTorchAndHotSwaps', 'QLoraOnAnInt4BaseTrains',
  'TwoWindowsMatchTheCpu', 'PerplexityEqualsLlamaCpp'];
const fullOnly = (name) => name.startsWith('QLora') || name === 'PerplexityEqualsLlamaCpp';
for (const name of cases) {
  const skip = !bridge ? reason : fullOnly(name) && !full ? 'HEARTH_TRAIN_FULL=1 runs it (minutes on SwiftShader)' : false;
  test(`${name} on WebGPU [tier ${tier}]`, { skip }, async () => {
    const t0 = performance.now();
    const failures = await mod.ccall('hearth_train_test', 'number', ['string', 'string'], [`*.${name}`, tier],
      { async: true });
    console.log(`${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    assert.equal(failures, 0, `${name} failed on WebGPU (see the log above)`);
  });
}
