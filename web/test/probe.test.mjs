// bench_gpu's device probe (bin/gpu_probe.mjs): the read kernel must read every word of its
// buffer (XOR checksum against the known contents) and the dependent chain must run every
// dispatch; the timings must be real numbers.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { probeGpu } from '../bin/gpu_probe.mjs';
import { nodeGpu } from '../src/node_gpu.mjs';

const gpu = await nodeGpu();
const adapter = gpu ? await gpu.requestAdapter() : null;
const skip = adapter ? false : 'no WebGPU adapter';

test('the probe reads its whole buffer and runs its whole dispatch chain', { skip }, async () => {
  // An odd number of vec4 words: the read loop's tail is taken.
  const p = await probeGpu(gpu, { bytes: 3 * 2 ** 20 + 48, reads: 2, chain: 24, reps: 2 });
  assert.ok(p);
  assert.equal(p.readBytes, 3 * 2 ** 20 + 48);
  assert.ok(p.checksumOk, 'XOR of every word read');
  assert.equal(p.chainCount, p.chainExpected);
  assert.equal(p.chainExpected, 24 * 3);
  assert.ok(Number.isFinite(p.readTBs) && p.readTBs > 0, `read ${p.readTBs} TB/s`);
  assert.ok(Number.isFinite(p.dispatchUs) && p.dispatchUs > 0, `${p.dispatchUs} us per dispatch`);
});
