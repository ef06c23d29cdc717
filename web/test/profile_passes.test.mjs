// The GPU's busy time (loadModel's profileKernels: 'passes', bench_gpu --profile passes):
// timestamp queries around the compute passes as they are encoded, summed in
// stats().gpu.host.gpuMs. Its own file: the option takes effect when the process creates its GPU
// device.
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

test("profileKernels 'passes' times the passes as encoded: busy time within the wall time", { skip }, async () => {
  const model = await loadModel(resolve(fixtures, 'pycoder-6m'), {
    wasmUrl: buildFile('hearth_engine.cjs'), gpu, backend: 'webgpu', dtype: 'int8', maxCtx: 64, profileKernels: 'passes',
  });
  const settle = () => new Promise((r) => { setTimeout(r, 500); });  // the timestamp read-backs land
  await settle();
  const before = model.stats().gpu;
  const t0 = performance.now();
  const { ids } = await model.complete([1, 2, 3, 4, 5], { maxTokens: 9, temperature: 0, stopIds: [-1] });
  const wall = performance.now() - t0;
  assert.equal(ids.length, 9);
  await settle();
  const { dispatches, submits, host } = model.stats().gpu;
  assert.equal(host.kernels, undefined, 'no per-kernel times in this mode');
  const passes = host.passes - before.host.passes;
  const busy = host.gpuMs - before.host.gpuMs;
  // Dispatches share passes (a pass per command list, unless a copy splits it).
  assert.ok(passes >= submits - before.submits - 1, `${passes} passes, ${submits - before.submits} submits`);
  assert.ok(dispatches - before.dispatches > 2 * passes, `${dispatches - before.dispatches} dispatches in ${passes} passes`);
  assert.ok(busy > 0 && busy <= wall, `GPU busy ${busy} ms, wall ${wall} ms`);
  assert.ok(host.submitMs > 0 && host.encodeMs > 0, 'host time of finish + submit and of encoding');
  await model.dispose();
});
