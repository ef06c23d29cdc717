// End to end through the wasm engine module: the fixtures' reference greedy ids on WebGPU at
// f32 (LoRA adapters too), and WebGPU == wasm CPU greedy tokens at f16, int8 and int4.
//
// CI runs this on Dawn + SwiftShader (a CPU Vulkan driver, 2 cores): barriers are costly there
// and pipelines take ~1 s each to compile, so the models are loaded with maxPrefillT 4 (prompts
// go through the decode kernels in chunks of 4 tokens) for prompts up to 64 tokens, the 64- and
// 300-token prompts also in batched prefills (the 300 in passes of 128), and the 1000-token
// prompts are left out (HEARTH_E2E_FULL=1 runs every case, every prompt in chunks of 4 too).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, test } from 'node:test';

import { loadModel, shutdown } from '../src/hearth.mjs';
import { buildFile, fixtures, repoRoot, sharedBridge } from './helpers.mjs';

const full = process.env.HEARTH_E2E_FULL === '1';
const wasmUrl = buildFile('hearth_engine.cjs');
const { bridge, reason } = await sharedBridge();
const skip = bridge ? false : reason;
const never = [-1];  // stop ids that never match: the references run to their full length

after(shutdown);

const load = (dir, opts) => loadModel(dir, { wasmUrl, gpu: globalThis.navigator?.gpu, ...opts });

async function greedy(model, prompt, n, extra = {}) {
  const r = await model.complete(prompt, { maxTokens: n, temperature: 0, stopIds: never, ...extra });
  return r.ids;
}

// GPU dispatches per decoded token over n tokens: a run of 1 + n tokens minus a run of 1 (both
// prefilling the whole prompt).
async function decodeDispatches(model, prompt, n, extra = {}) {
  const d0 = model.stats().gpu.dispatches;
  await greedy(model, prompt, 1, { ...extra, reusePrefix: false });
  const d1 = model.stats().gpu.dispatches;
  await greedy(model, prompt, 1 + n, { ...extra, reusePrefix: false });
  return (model.stats().gpu.dispatches - d1 - (d1 - d0)) / n;
}

for (const name of ['qwen2-tiny', 'qwen3-tiny']) {
  describe(`${name} on WebGPU (f32) reproduces the reference greedy ids`, { skip }, () => {
    const dir = resolve(fixtures, name);
    const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));
    const cases = ref.cases.filter((c) => c.adapter === null && (full || c.prompt.length <= 300));
    let chunked, batched;
    for (const c of cases.filter((c) => full || c.prompt.length <= 64)) {
      // Greedy decode with the argmax on the GPU (8 tokens per submission), and for the short
      // prompts also with the logits read back every token.
      const modes = c.prompt.length <= 7 ? [8, 0] : [8];
      for (const steps of modes) {
        test(`prompt of ${c.prompt.length} tokens, prefill in chunks of 4, deviceSteps ${steps}`, async () => {
          chunked ??= await load(dir, { backend: 'webgpu', dtype: 'f32', maxCtx: 1100, maxPrefillT: 4 });
          assert.match(chunked.info.backend, /^webgpu/);
          assert.deepEqual(await greedy(chunked, c.prompt, c.greedy.length, { deviceSteps: steps }), c.greedy);
        });
      }
    }
    const c64 = cases.find((c) => c.prompt.length === 64);
    test('prompt of 64 tokens in one batched prefill (tiled matmul, flash attention)', async () => {
      batched ??= await load(dir, { backend: 'webgpu', dtype: 'f32', maxCtx: 400, maxPrefillT: 128 });
      assert.deepEqual(await greedy(batched, c64.prompt, c64.greedy.length, { reusePrefix: false }), c64.greedy);
    });
    const c300 = cases.find((c) => c.prompt.length === 300);
    test('prompt of 300 tokens in prefill passes of 128 (later passes attend to the cache)', { skip: !c300 }, async () => {
      batched ??= await load(dir, { backend: 'webgpu', dtype: 'f32', maxCtx: 400, maxPrefillT: 128 });
      assert.deepEqual(await greedy(batched, c300.prompt, c300.greedy.length, { reusePrefix: false }), c300.greedy);
      await batched.dispose();
      await chunked?.dispose();
    });
  });
}

describe('qwen2-tiny with LoRA adapters on WebGPU (f32) reproduces the reference greedy ids', { skip }, () => {
  const dir = resolve(fixtures, 'qwen2-tiny');
  const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));
  let model;
  for (const c of ref.cases.filter((x) => x.adapter !== null && x.prompt.length <= 7)) {
    test(`${c.adapter}, prompt of ${c.prompt.length} tokens`, async () => {
      model ??= await load(dir, { backend: 'webgpu', dtype: 'f32', maxCtx: 64, maxPrefillT: 4 });
      await model.loadAdapter(c.adapter, resolve(dir, c.adapter));
      assert.deepEqual(await greedy(model, c.prompt, c.greedy.length, { adapter: c.adapter }), c.greedy);
    });
  }
  test('without the adapter the base model is back, bit for bit', async () => {
    const c = ref.cases.find((x) => x.adapter === null && x.prompt.length === 7);
    assert.deepEqual(await greedy(model, c.prompt, c.greedy.length), c.greedy);
    await model.dispose();
  });
  // Over a quantized base the adapter's matrices are f16, and their B products are folded into
  // the base products' stores on the GPU: the tokens must still be the CPU backend's.
  // Decode dispatches per token: the base's 6 per layer and 3, and one per layer for the A
  // products of each stage (q/k/v, o, gate/up, down); the B products ride in the base
  // products' stores.
  test('int4 base with an adapter: WebGPU gives the wasm CPU backend\'s greedy tokens', async () => {
    const c = ref.cases.find((x) => x.adapter !== null && x.prompt.length <= 7);
    const gpu = await load(dir, { backend: 'webgpu', dtype: 'int4', maxCtx: 64, maxPrefillT: 4 });
    const cpu = await load(dir, { backend: 'cpu', dtype: 'int4', maxCtx: 64 });
    for (const m of [gpu, cpu]) await m.loadAdapter('a', resolve(dir, c.adapter));
    const opts = { adapter: 'a' };
    const [a, b] = [await greedy(gpu, c.prompt, 24, opts), await greedy(cpu, c.prompt, 24, opts)];
    const per = await decodeDispatches(gpu, c.prompt, 16, opts);
    await gpu.dispose();
    await cpu.dispose();
    assert.deepEqual(a, b);
    const L = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8')).num_hidden_layers;
    assert.equal(per, 10 * L + 3, `${per} dispatches per decoded token`);
  });
  // Matrices in 64 KiB buffers: o_proj (256 KiB at f32) comes in chunks, so its B product goes
  // in a dispatch of its own before the chunks add to its output.
  test('lora-all with o_proj in chunks reproduces the reference greedy ids', async () => {
    const c = ref.cases.find((x) => x.adapter === 'lora-all' && x.prompt.length <= 7);
    const m = await load(dir, { backend: 'webgpu', dtype: 'f32', maxCtx: 64, maxPrefillT: 4, weightBufferBytes: 64 * 1024 });
    await m.loadAdapter('a', resolve(dir, c.adapter));
    const ids = await greedy(m, c.prompt, c.greedy.length, { adapter: 'a' });
    await m.dispose();
    assert.deepEqual(ids, c.greedy);
  });
});

describe('pycoder-6m on WebGPU (f32) reproduces the reference greedy ids', { skip }, () => {
  const dir = resolve(repoRoot, 'models/pycoder-6m');
  const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));
  let model;
  ref.greedy.forEach((g, i) => {
    test(`prompt ${i}: ${JSON.stringify(g.prompt).slice(0, 40)}`, async () => {
      model ??= await load(dir, { backend: 'webgpu', dtype: 'f32', maxCtx: 128, maxPrefillT: i === 0 ? 16 : 4 });
      assert.deepEqual(await greedy(model, g.prompt_ids, g.greedy.length), g.greedy);
    });
  });
  test('a stop id inside a batch of GPU-decoded tokens ends there, and the KV cache continues from it', async () => {
    const g = ref.greedy[0];
    const p = 10;
    const stop = g.greedy[p];
    const first = g.greedy.indexOf(stop);
    // With 2 tokens per batch, several batches past the stop are under way when it is seen.
    for (const deviceSteps of [8, 2]) {
      const r = await model.complete(g.prompt_ids, { maxTokens: 40, temperature: 0, stopIds: [stop], deviceSteps });
      assert.deepEqual(r.ids, g.greedy.slice(0, first + 1), `deviceSteps ${deviceSteps}`);
      // The stop token was not fed: feeding it now continues the reference sequence.
      const more = await model.complete([stop], { maxTokens: 8, temperature: 0, stopIds: never, keepCache: true });
      assert.deepEqual(more.ids, g.greedy.slice(first + 1, first + 9), `deviceSteps ${deviceSteps}`);
    }
  });
  test('sampling on the GPU: reproducible per seed whatever the batch size, top-k 1 is greedy, penalized greedy matches the CPU pick', async () => {
    const g = ref.greedy[1];
    const opts = { maxTokens: 24, temperature: 0.9, topK: 40, topP: 0.95, minP: 0.02, repetitionPenalty: 1.1,
      presencePenalty: 0.2, frequencyPenalty: 0.1, stopIds: never };
    const a = await model.complete(g.prompt_ids, { ...opts, seed: 7, deviceSteps: 8 });
    const b = await model.complete(g.prompt_ids, { ...opts, seed: 7, deviceSteps: 3 });
    const c = await model.complete(g.prompt_ids, { ...opts, seed: 8, deviceSteps: 8 });
    assert.equal(a.ids.length, 24);
    assert.deepEqual(a.ids, b.ids);
    assert.notDeepEqual(a.ids, c.ids);
    const k1 = await model.complete(g.prompt_ids, { maxTokens: g.greedy.length, temperature: 0.9, topK: 1, seed: 3,
      stopIds: never, deviceSteps: 8 });
    assert.deepEqual(k1.ids, g.greedy);
    const pen = { maxTokens: 32, temperature: 0, repetitionPenalty: 1.5, presencePenalty: 0.5, frequencyPenalty: 0.25,
      stopIds: never };
    const onGpu = await model.complete(g.prompt_ids, { ...pen, deviceSteps: 8 });
    const onCpu = await model.complete(g.prompt_ids, { ...pen, deviceSteps: 0 });
    assert.deepEqual(onGpu.ids, onCpu.ids);
    assert.notDeepEqual(onGpu.ids, g.greedy.slice(0, 32));
  });
  test('text in, text out', async () => {
    const r = await model.complete('def fibonacci(n):', { maxTokens: 24, temperature: 0 });
    assert.ok(r.ids.length > 0);
    assert.equal(r.text, await model.decode(r.ids, { skipSpecial: true }));
    await model.dispose();
  });
});

for (const dtype of ['f16', 'int8', 'int4']) {
  describe(`${dtype}: WebGPU gives the wasm CPU backend's greedy tokens`, { skip }, () => {
    const pick = [
      ['qwen2-tiny', resolve(fixtures, 'qwen2-tiny'), (r) => r.cases[1].prompt, 32],
      ['qwen3-tiny', resolve(fixtures, 'qwen3-tiny'), (r) => r.cases[1].prompt, 32],
      ['pycoder-6m', resolve(repoRoot, 'models/pycoder-6m'), (r) => r.greedy[1].prompt_ids, 48],
    ];
    for (const [name, dir, prompt, n] of pick) {
      test(name, async () => {
        const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));
        const ids = prompt(ref);
        const gpu = await load(dir, { backend: 'webgpu', dtype, maxCtx: 128, maxPrefillT: 4 });
        const cpu = await load(dir, { backend: 'cpu', dtype, maxCtx: 128 });
        assert.equal(cpu.info.tier, 'cpu');
        const [a, b] = [await greedy(gpu, ids, n), await greedy(cpu, ids, n)];
        await gpu.dispose();
        await cpu.dispose();
        assert.deepEqual(a, b);
      });
    }
  });
}

// Weights in small buffers (weightBufferBytes): matrices that share a dispatch (q, k, v; gate,
// up) are placed together even where earlier buffers have gaps, so a decoded token still costs
// 6 dispatches per layer plus 3 (LM head, argmax, next embedding); tokens as with the default.
// 300 KiB still holds the int8 embedding table in one buffer, and with the matrices placed one
// by one, layer 0's q went into the gap the table left and its k and v into the next buffer.
describe('qwen2-tiny int4 with weights in 300 KiB buffers', { skip }, () => {
  test('the same greedy tokens, and 6 dispatches per layer per decoded token', async () => {
    const dir = resolve(fixtures, 'qwen2-tiny');
    const cfg = JSON.parse(readFileSync(resolve(dir, 'config.json'), 'utf8'));
    const prompt = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8')).cases[1].prompt;
    const opts = { backend: 'webgpu', dtype: 'int4', maxCtx: 128, maxPrefillT: 4 };
    const small = await load(dir, { ...opts, weightBufferBytes: 300 * 1024 });
    const plain = await load(dir, opts);
    const per = await decodeDispatches(small, prompt, 24);
    assert.deepEqual(await greedy(small, prompt, 32), await greedy(plain, prompt, 32));
    await small.dispose();
    await plain.dispose();
    assert.equal(per, 6 * cfg.num_hidden_layers + 3, `${per} dispatches per decoded token`);
  });
  test('a bad weightBufferBytes is named', async () => {
    const dir = resolve(fixtures, 'qwen2-tiny');
    await assert.rejects(load(dir, { weightBufferBytes: -1 }), /weightBufferBytes must be a whole number/);
    // Smaller than one row of a matrix: the load fails and says why.
    await assert.rejects(load(dir, { backend: 'webgpu', dtype: 'f32', weightBufferBytes: 64 }),
      /larger than the weight buffer limit \(weightBufferBytes\) of 64 bytes/);
  });
});
