// GPU time per kernel (loadModel's profileKernels, bench_gpu --profile): timestamp queries around
// one compute pass per dispatch, summed per kernel in stats().gpu.host.kernels. Its own file:
// the option takes effect when the process creates its GPU device.
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, test } from 'node:test';

import { loadModel, shutdown } from '../src/hearth.mjs';
import { nodeGpu } from '../src/node_gpu.mjs';
import { buildFile, fixtures } from './helpers.mjs';

const gpu = await nodeGpu();
const adapter = gpu ? await gpu.requestAdapter() : null;
const skip = !adapter ? 'no WebGPU adapter' : adapter.features.has('timestamp-query') ? false
  : 'the adapter has no timestamp-query feature';

after(shutdown);

test('profileKernels times every dispatch that ran, by kernel', { skip }, async () => {
  const model = await loadModel(resolve(fixtures, 'pycoder-6m'), {
    wasmUrl: buildFile('hearth_engine.cjs'), gpu, backend: 'webgpu', dtype: 'int8', maxCtx: 64, profileKernels: true,
  });
  const { ids } = await model.complete([1, 2, 3, 4, 5], { maxTokens: 9, temperature: 0, stopIds: [-1] });
  assert.equal(ids.length, 9);
  await new Promise((r) => { setTimeout(r, 500); });  // the timestamp read-backs land
  const { dispatches, host } = model.stats().gpu;
  const kernels = Object.entries(host.kernels);
  const timed = kernels.reduce((t, [, [, n]]) => t + n, 0);
  assert.equal(timed, dispatches, 'one timing per dispatch');
  for (const [label, [ms, n]] of kernels) {
    assert.ok(n > 0 && ms >= 0 && Number.isFinite(ms), `${label}: ${ms} ms over ${n} dispatches`);
  }
  // Labels are the kernel, its weight format and the bool consts that are on:
  // matmul_vec_subgroup_int8+XV4+NORM.
  const kernelOf = (label) => label.split('+')[0];
  for (const k of ['matmul_vec_subgroup_int8', 'attention_decode_splitk', 'argmax']) {
    assert.ok(kernels.some(([label]) => [k, k.replace('_subgroup', '')].includes(kernelOf(label))), `${k} was timed`);
  }
  // The decode products of this model (rows of 4-float chunks) read x as vec4: XV4 names it.
  assert.ok(kernels.some(([label]) => /^matmul_vec(_subgroup)?_int8\+.*XV4/.test(label)),
    `a matmul label names its consts: ${kernels.map(([label]) => label).join(', ')}`);
  assert.ok(kernels.reduce((t, [, [ms]]) => t + ms, 0) > 0, 'some GPU time');
  await model.dispose();
});
