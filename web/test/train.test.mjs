// Training through the JS API (web/src/train.mjs) and the Node CLI (web/bin/train.mjs), against
// the PyTorch runs of fixtures/train (every loss within 1e-3): pretraining gpt-qwen2 and LoRA
// fine-tuning of qwen2-tiny on the wasm CPU backend to the end (the saved model's greedy ids,
// the hot-swapped and the saved adapter's), and on WebGPU the first steps of pretraining (then
// stopped by an AbortSignal). The full WebGPU runs, with gradients, weights and adapters:
// train_webgpu.test.mjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { after, describe, test } from 'node:test';

import { loadModel, shutdown, trainModel } from '../src/hearth.mjs';
import { swiftshaderEnv } from '../src/node_gpu.mjs';
import { buildFile, fixtures, repoRoot, sharedBridge } from './helpers.mjs';

const wasmUrl = buildFile('hearth_engine.cjs');
const { bridge, reason } = await sharedBridge();
const gpu = globalThis.navigator?.gpu;
after(shutdown);

const gptDir = resolve(fixtures, 'train/gpt-qwen2');
const loraDir = resolve(fixtures, 'train/lora-qwen2-tiny');
const reference = (dir) => JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));

// The fixture's hyperparameters as options (steps, batch and seq come from its token file).
function hyper(ref) {
  const h = ref.hyper;
  return { lr: h.lr, minLr: h.min_lr, warmup: h.warmup_steps, beta1: h.beta1, beta2: h.beta2, eps: h.eps,
    weightDecay: h.weight_decay, gradClip: h.grad_clip };
}

function expectSteps(records, ref, what) {
  assert.ok(records.length > 0, `${what}: no steps`);
  records.forEach((r, s) => {
    const want = ref.steps[s];
    assert.equal(r.step, s);
    assert.ok(Math.abs(r.loss - want.loss) <= 1e-3, `${what} step ${s}: loss ${r.loss}, PyTorch ${want.loss}`);
    assert.ok(Math.abs(r.grad_norm - want.grad_norm) <= 1e-3 * want.grad_norm,
      `${what} step ${s}: grad_norm ${r.grad_norm}, PyTorch ${want.grad_norm}`);
    assert.ok(Math.abs(r.lr - want.lr) <= 1e-8 * want.lr, `${what} step ${s}: lr ${r.lr}, PyTorch ${want.lr}`);
    assert.ok(r.tokens_per_s > 0 && r.tokens > 0);
  });
}

async function collect(run, stopAfter = Infinity, controller = null) {
  const records = [];
  for await (const r of run) {
    records.push(r);
    if (records.length === stopAfter) {
      if (controller) controller.abort();
      else break;
    }
  }
  return records;
}

async function greedy(model, prompt, n, extra = {}) {
  const r = await model.complete(prompt, { maxTokens: n, temperature: 0, stopIds: [-1], ...extra });
  return r.ids;
}

describe('pretraining gpt-qwen2 through the JS API', () => {
  const ref = reference(gptDir);
  const data = resolve(gptDir, 'batches.safetensors');

  test('wasm CPU, model.train: every loss; the saved model loads and gives PyTorch\'s greedy ids', async () => {
    const base = await loadModel(gptDir, { wasmUrl, backend: 'cpu' });
    const run = base.train({ data, ...hyper(ref) });
    const records = await collect(run);
    assert.equal(records.length, ref.hyper.steps);
    expectSteps(records, ref, 'cpu');
    const summary = await run.result;
    assert.deepEqual([summary.stepsDone, summary.aborted], [ref.hyper.steps, false]);
    const files = await base.save();
    await base.dispose();
    assert.deepEqual(Object.keys(files).sort(), ['config.json', 'model.safetensors']);
    const model = await loadModel(files, { wasmUrl, backend: 'cpu' });
    const g = ref.greedy_after;
    assert.deepEqual(await greedy(model, g.prompt, g.ids.length), g.ids);
    await model.dispose();
  });

  test('WebGPU, trainModel: the first steps, then the AbortSignal stops the run', { skip: bridge ? false : reason },
    async () => {
    // The first 4 steps (3 of warmup) do not depend on the run's length: their rates are PyTorch's.
    const controller = new AbortController();
    const run = trainModel(gptDir, { wasmUrl, gpu, backend: 'webgpu', data, ...hyper(ref), signal: controller.signal });
    const records = await collect(run, 4, controller);
    assert.match((await run.stats()).backend, /^webgpu/);
    expectSteps(records, ref, 'webgpu');
    const summary = await run.result;
    assert.deepEqual([summary.stepsDone, summary.aborted], [4, true]);
  });
});

describe('LoRA fine-tuning of qwen2-tiny through the JS API', () => {
  const ref = reference(loraDir);
  const data = resolve(loraDir, 'batches.safetensors');
  const opts = { data, adapterInit: resolve(loraDir, 'init'), ...hyper(ref) };

  test('wasm CPU: every loss; the adapter generates at once, and saved and loaded again', async () => {
    const model = await loadModel(resolve(fixtures, 'qwen2-tiny'), { wasmUrl, backend: 'cpu', maxCtx: 128 });
    const records = await collect(model.finetune({ ...opts, adapterName: 'tuned' }));
    assert.equal(records.length, ref.hyper.steps);
    expectSteps(records, ref, 'cpu');
    const w = ref.greedy_with_final;
    assert.deepEqual(await greedy(model, w.prompt, w.ids.length, { adapter: 'tuned' }), w.ids);
    const b = ref.greedy_base;
    assert.deepEqual(await greedy(model, b.prompt, b.ids.length), b.ids);
    const files = await model.saveAdapter();
    assert.deepEqual(Object.keys(files).sort(), ['adapter_config.json', 'adapter_model.safetensors']);
    await model.loadAdapter('saved', files);
    assert.deepEqual(await greedy(model, w.prompt, w.ids.length, { adapter: 'saved' }), w.ids);
    await model.dispose();
  });
});

describe('errors name the option', () => {
  test('missing data, unknown targets', async () => {
    const model = await loadModel(resolve(fixtures, 'qwen2-tiny'), { wasmUrl, backend: 'cpu', maxCtx: 64 });
    await assert.rejects(collect(model.finetune({ steps: 1, batch: 1, seq: 8, targets: 'q_proj' })),
      /give exactly one of data, text or tokens/);
    await assert.rejects(collect(model.finetune({ text: 'hello world '.repeat(20), steps: 1, batch: 1, seq: 8,
      targets: 'q_proj,x_proj' })), /targets: "x_proj" is not one of/);
    await assert.rejects(collect(model.finetune({ tokens: [[1, 2, 3], [4, 5, 6]], batch: 1, steps: 1, seq: 5,
      targets: 'q_proj' })), /rows of 3 tokens/);
    await model.dispose();
  });
});

describe('node web/bin/train.mjs', () => {
  const bin = resolve(repoRoot, 'web/bin/train.mjs');
  const env = { ...swiftshaderEnv(), HEARTH_WASM: wasmUrl };
  const node = (args) => spawnSync(process.execPath, [bin, ...args], { env, encoding: 'utf8' });

  test('train on the wasm CPU backend: a line per step, the log, the model folder, step 0\'s gradients', () => {
    const out = mkdtempSync(resolve(tmpdir(), 'hearth-train-'));
    const r = node(['train', '-m', gptDir, '--data', resolve(gptDir, 'batches.safetensors'), '--steps', '2',
      '--lr', '0.01', '--warmup', '3', '--min-lr', '0.001', '--beta2', '0.95', '--backend', 'cpu', '--out',
      resolve(out, 'model'), '--log', resolve(out, 'log.jsonl'), '--save-grads-step0', resolve(out, 'grads.safetensors')]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /step 2\/2 {2}loss \d/);
    const log = readFileSync(resolve(out, 'log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(log.length, 2);
    for (const k of ['step', 'loss', 'grad_norm', 'lr', 'tokens_per_s']) assert.ok(k in log[0], k);
    assert.ok(Math.abs(log[0].loss - reference(gptDir).steps[0].loss) <= 1e-3);
    for (const f of ['config.json', 'model.safetensors']) assert.ok(existsSync(resolve(out, 'model', f)), f);
    assert.ok(existsSync(resolve(out, 'grads.safetensors')));
  });

  test('bad options: one line starting with hearth:, exit status 2', () => {
    for (const [args, message] of [
      [['train', '-m', gptDir, '--data', 'x', '--lr', 'fast', '--out', '/tmp/x'], /--lr: expected a number/],
      [['fit', '-m', gptDir], /the first argument must be train or finetune/],
      [['finetune', '-m', gptDir, '--data', resolve(gptDir, 'nope.safetensors'), '--targets', 'q_proj', '--out',
        '/tmp/x', '--backend', 'cpu'], /nope.safetensors/],
    ]) {
      const r = node(args);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /^hearth: /);
      assert.match(r.stderr, message);
    }
  });
});
