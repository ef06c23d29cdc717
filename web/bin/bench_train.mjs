#!/usr/bin/env node
// Training throughput of the wasm engine in Node (the same measurements as the native
// `hearth bench-train`), on random tokens:
//   bench_train.mjs [--preset d96|d128|d192|d256|all] [--steps N] [--backend webgpu|cpu]
//                   [--peer cpu] [--threads T] [--recompute] [--no-subgroups]
//   bench_train.mjs -m BASE_DIR [--dtype f32|int8|int4] [--rank R] [--targets q_proj,...]
//                   [--tokens 18,512] [--steps N] [--backend webgpu|cpu] [--recompute]
// Without -m: pretraining at the TinyGPT preset shapes (d_model 96/128/192/256, context
// 64/96/128/128, batch 16/12/8/8; vocabulary 256, head_dim 32, 3/4/6/8 layers, SwiGLU width 8/3
// d_model, from a seeded init). With -m: LoRA fine-tuning of one sequence of each --tokens length
// on the frozen base. Prints milliseconds per optimizer step (median over --steps after one
// warm-up step, which also compiles the GPU pipelines; also the fastest), tokens per second at
// the median, and the bytes of weights, gradients, optimizer state and activations a step
// keeps; --peer cpu measures the wasm CPU backend too and prints the ratio.
import { loadModel, shutdown, trainModel } from '../src/hearth.mjs';

const PRESETS = [
  { name: 'd96', d: 96, ctx: 64, batch: 16, layers: 3 },
  { name: 'd128', d: 128, ctx: 96, batch: 12, layers: 4 },
  { name: 'd192', d: 192, ctx: 128, batch: 8, layers: 6 },
  { name: 'd256', d: 256, ctx: 128, batch: 8, layers: 8 },
];
const VALUES = new Set(['--preset', '--steps', '--backend', '--peer', '--threads', '--model', '--dtype', '--rank',
  '--targets', '--tokens']);
const FLAGS = new Set(['--recompute', '--no-subgroups']);

function fail(msg) {
  process.stderr.write(`hearth: ${String(msg).replace(/^hearth: /, '')}\n`);
  process.exit(2);
}

const a = new Map();
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const name = argv[i] === '-m' ? '--model' : argv[i];
  if (FLAGS.has(name)) a.set(name, true);
  else if (VALUES.has(name) && i + 1 < argv.length) a.set(name, argv[++i]);
  else fail(`bench_train: unknown option or missing value "${argv[i]}"`);
}
const steps = Number(a.get('--steps') ?? 5);
if (!Number.isInteger(steps) || steps < 1) fail(`--steps: expected a positive integer, got "${a.get('--steps')}"`);
const backend = a.get('--backend') ?? 'webgpu';
if (!['webgpu', 'cpu'].includes(backend)) fail(`--backend: "${backend}" is not one of webgpu, cpu`);
const common = { threads: a.has('--threads') ? Number(a.get('--threads')) : undefined, recompute: a.has('--recompute'),
  subgroups: !a.has('--no-subgroups') };

// Rows of seq + 1 pseudo-random ids (a fixed generator: the same tokens every run).
function randomRows(n, seq, vocab, seed) {
  let state = BigInt(seed) * 0x9e3779b97f4a7c15n + 1n;
  const rows = [];
  for (let r = 0; r < n; r++) {
    const row = new Int32Array(seq + 1);
    for (let i = 0; i <= seq; i++) {
      state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
      row[i] = Number((state >> 33n) % BigInt(vocab));
    }
    rows.push(row);
  }
  return rows;
}

function presetConfig(p) {
  return JSON.stringify({
    model_type: 'llama', vocab_size: 256, hidden_size: p.d, intermediate_size: Math.floor((8 * p.d / 3 + 31) / 32) * 32,
    num_hidden_layers: p.layers, num_attention_heads: p.d / 32, num_key_value_heads: p.d / 32,
    max_position_embeddings: 1024, rms_norm_eps: 1e-6, rope_theta: 10000.0, tie_word_embeddings: true, hidden_act: 'silu',
  });
}

// One warm-up step, then `steps` timed ones: { ms (median), best, tokensPerS, info }.
async function timeRun(run, tokensPerStep) {
  const ms = [];
  for await (const r of run) ms.push(r.ms);
  const info = await run.stats();
  await run.dispose();
  const timed = ms.slice(1).sort((x, y) => x - y);
  const median = timed[Math.floor(timed.length / 2)];
  return { ms: median, best: timed[0], tokensPerS: tokensPerStep / (median / 1e3), info };
}

const mb = (b) => (b / 1e6).toFixed(1);

async function benchPreset(p, be) {
  const run = trainModel({ 'config.json': new TextEncoder().encode(presetConfig(p)) }, {
    ...common, backend: be, init: true, seed: 1, lr: 1e-4, steps: steps + 1, batch: p.batch, seq: p.ctx,
    tokens: randomRows((steps + 1) * p.batch, p.ctx, 256, 1),
  });
  const t = await timeRun(run, p.batch * p.ctx);
  const b = t.info.bytes;
  process.stdout.write(`${p.name.padEnd(5)} ${(t.info.parameters / 1e6).toFixed(2)}M params  ctx ${p.ctx} batch ${p.batch}  `
    + `${t.info.backend}  ${t.ms.toFixed(1)} ms/step ${t.tokensPerS.toFixed(0)} tok/s  (best ${t.best.toFixed(1)} ms)  `
    + `weights ${mb(b.weights)} MB  grads ${mb(b.gradients)} MB  adamw ${mb(b.optimizer)} MB  `
    + `activations ${mb(b.activations)} MB\n`);
  return t;
}

async function benchPresets() {
  const which = a.get('--preset') ?? 'all';
  const list = PRESETS.filter((p) => which === 'all' || which === p.name);
  if (!list.length) fail(`--preset: "${which}" is not one of d96, d128, d192, d256, all`);
  const peer = a.get('--peer');
  if (peer !== undefined && peer !== 'cpu') fail(`--peer: "${peer}" is not cpu`);
  for (const p of list) {
    const t = await benchPreset(p, backend);
    if (peer) {
      const c = await benchPreset(p, 'cpu');
      process.stdout.write(`${p.name.padEnd(5)} ${backend} / wasm cpu: ${(c.ms / t.ms).toFixed(2)}x\n`);
    }
  }
}

async function benchLora() {
  const lengths = (a.get('--tokens') ?? '18,512').split(',').map(Number);
  if (lengths.some((n) => !Number.isInteger(n) || n < 1)) fail('--tokens: lengths must be positive integers');
  const dtype = a.get('--dtype') ?? 'int4';
  const model = await loadModel(a.get('--model'), { dtype, backend, threads: common.threads, subgroups: common.subgroups,
    maxCtx: 64, maxPrefillT: 16 });
  const rank = Number(a.get('--rank') ?? 8);
  for (const T of lengths) {
    const run = model.finetune({
      ...common, rank, alpha: 2 * rank, targets: a.get('--targets') ?? 'q_proj,k_proj,v_proj,o_proj', lr: 1e-4,
      steps: steps + 1, batch: 1, seq: T, tokens: randomRows(steps + 1, T, model.info.vocab_size, 1),
    });
    const t = await timeRun(run, T);
    const b = t.info.bytes;
    process.stdout.write(`LoRA rank ${rank} on ${a.get('--model')} (${dtype})  ${T} tokens/step  ${t.info.backend}  `
      + `${t.ms.toFixed(1)} ms/step ${t.tokensPerS.toFixed(1)} trained tok/s  (best ${t.best.toFixed(1)} ms)  `
      + `adapter ${mb(b.weights)} MB  grads ${mb(b.gradients)} MB  adamw ${mb(b.optimizer)} MB  `
      + `activations ${mb(b.activations)} MB  backend in all ${mb(model.stats().bytes)} MB\n`);
  }
  await model.dispose();
}

try {
  if (a.has('--model')) await benchLora();
  else await benchPresets();
} catch (e) {
  fail(e.message);
}
await shutdown();
