// The per-op parity harness (tests/parity/, the cases the CPU kernels pass in ops_parity_test) on
// WebGPU through web/test/webgpu_parity.cpp compiled to wasm, on Dawn: both feature tiers when
// the adapter offers subgroups.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';

import { loadWasmModule } from '../src/wasm_loader.mjs';
import { buildFile, sharedBridge } from './helpers.mjs';
import { releaseNodeGpu } from '../src/node_gpu.mjs';

const { bridge, reason } = await sharedBridge();
const groups = (process.env.HEARTH_OPS_GROUPS
  ?? 'matmul,embed,rmsnorm,rope,attention,elementwise,argmax,sample,products,attention_step,upload').split(',');
const tiers = bridge?.tier === 'subgroups' ? ['subgroups', 'none'] : ['none'];

let mod = null;
if (bridge) {
  mod = await loadWasmModule(buildFile('hearth_webgpu_ops_test.cjs'), 'createHearthOpsTest', { hearthGpu: bridge });
}

after(() => {
  bridge?.destroy();
  releaseNodeGpu();
});

test('a WebGPU adapter is available', { skip: bridge ? false : reason }, () => {
  console.log(`adapter: ${bridge.adapterName()}, features: ${bridge.features.join(' ')}`);
});

for (const tier of tiers) {
  for (const g of groups) {
    test(`${g} kernels match the CPU reference [tier ${tier}]`, { skip: bridge ? false : reason }, async () => {
      const failures = await mod.ccall('hearth_ops_test', 'number', ['string', 'string'], [g, tier], { async: true });
      assert.equal(failures, 0, `${failures} ${g} checks failed (see the log above)`);
    });
  }
}
