#!/usr/bin/env node
// One-load benchmark of the wasm engine on WebGPU at a real model size: prefill of N tokens,
// greedy and sampled decode at two context lengths, and decode with a rank-R LoRA adapter on
// all seven projections, all measured in the same process on the same loaded model; and, on a
// device of its own in the same process, the GPU's plain storage-read bandwidth and the cost of a
// dependent dispatch (gpu_probe.mjs), which decode is compared to.
//   bench_gpu.mjs -m DIR [--dtype int4] [--ctx 1024,4096] [--gen 128] [--repeat 3] [--adapter DIR] [--quant-search off]
//                 [--cache-dir DIR] (load through the pack cache: the first load writes the pack, later ones read it)
//                 [--load-only on]  (stop after the load)
//                 [--prefill-only on]  (prefill at each --ctx, median of --repeat, no decode runs)
//                 [--max-prefill N] (tokens per prefill pass, default 1024) [--prefill-dequant off]
//   Each decode speed is the median of --repeat runs (greedy and sampled, or base and adapter,
//   alternating), printed with the slowest and fastest: the host's speed varies from run to run.
//                 [--profile on]   (GPU time per kernel from timestamp queries; slows the run down)
//                 [--profile passes]  (the GPU's busy time per decoded token against the wall time: how
//                                      much of a decode step the GPU waits on the host)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadModel, shutdown } from '../src/hearth.mjs';
import { nodeGpu } from '../src/node_gpu.mjs';
import { probeGpu } from './gpu_probe.mjs';

const a = new Map([['--dtype', 'int4'], ['--ctx', '1024,4096'], ['--gen', '128'], ['--repeat', '3']]);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) a.set(argv[i] === '-m' ? '--model' : argv[i], argv[i + 1]);
const ctxs = a.get('--ctx').split(',').map(Number);
const gen = Number(a.get('--gen'));
const repeat = Number(a.get('--repeat'));
if (!(Number.isInteger(repeat) && repeat >= 1)) throw new Error(`--repeat: expected an integer >= 1, got ${a.get('--repeat')}`);
const maxCtx = Math.max(...ctxs) + gen + 8;

const t0 = performance.now();
const model = await loadModel(a.get('--model'), {
  backend: 'webgpu', dtype: a.get('--dtype'), maxCtx, maxPrefillT: Number(a.get('--max-prefill') ?? 1024),
  prefillDequant: a.get('--prefill-dequant') !== 'off', quantSearch: a.get('--quant-search') !== 'off',
  profileKernels: a.get('--profile') === 'passes' ? 'passes' : a.get('--profile') === 'on',
  cacheDir: a.get('--cache-dir'),
});
const info = model.info;
const pack = info.pack ? `  pack: ${info.pack.hit ? 'loaded from' : 'written to'} ${info.pack.path}${info.pack.note ? ` (${info.pack.note})` : ''}` : '';
console.log(`load: ${((performance.now() - t0) / 1000).toFixed(1)} s (engine ${info.load_seconds.toFixed(1)} s)  backend: ${info.backend}  `
  + `tier: ${info.tier}  dtype: ${info.dtype}  GPU memory (weights + KV + activations): ${(info.bytes / 2 ** 30).toFixed(2)} GiB${pack}`);
if (a.get('--load-only') === 'on') {
  await model.dispose();
  await shutdown();
  process.exit(0);
}

// The GPU's own limits, on a device of their own in this process: what decode is compared to.
const probe = await probeGpu(await nodeGpu());
if (probe) {
  console.log(`device probe: storage read ${probe.readTBs.toFixed(2)} TB/s (plain kernel over `
    + `${(probe.readBytes / 2 ** 20).toFixed(0)} MiB${probe.checksumOk ? '' : ', CHECKSUM WRONG'}), `
    + `${probe.dispatchUs.toFixed(2)} us per dependent dispatch in one pass`);
}

let state = 0x9e3779b97f4a7c15n;
const prompt = [];
for (let i = 0; i < Math.max(...ctxs); i++) {
  state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
  prompt.push(Number((state >> 33n) % BigInt(info.vocab_size)));
}
const settle = () => new Promise((r) => { setTimeout(r, 300); });  // kernel-time read-backs land
const kernels = () => structuredClone(model.stats().gpu?.host?.kernels ?? {});
async function run(n, opts) {
  await settle();
  const k0 = kernels();
  const before = model.stats().gpu;
  const { stats } = await model.complete(prompt.slice(0, n), { maxTokens: gen, stopIds: [-1], ...opts });
  await settle();
  const after = model.stats().gpu;
  // Totals over the run, and host time per generated token (prefill included): encoding command
  // lists and waiting on read-backs.
  const d = (k) => (after.host[k] ?? 0) - (before.host[k] ?? 0);
  const raw = after?.host && before?.host ? {
    tokens: stats.generated_tokens, seconds: stats.prefill_seconds + stats.decode_seconds,
    dispatches: after.dispatches - before.dispatches, encode: d('encodeMs'), submit: d('submitMs'), gpu: d('gpuMs'),
  } : null;
  const host = raw ? {
    dispatches: raw.dispatches / stats.generated_tokens,
    encode: raw.encode / stats.generated_tokens,
    wait: d('waitMs') / stats.generated_tokens,
  } : null;
  const k1 = kernels();
  // GPU ms per generated token, prefill included, per kernel.
  const gpu = Object.entries(k1).map(([label, [ms, count]]) => [label, (ms - (k0[label]?.[0] ?? 0)) / stats.generated_tokens,
    (count - (k0[label]?.[1] ?? 0)) / stats.generated_tokens]).filter((e) => e[2] > 0).sort((x, y) => y[1] - x[1]);
  return { prefill: n / stats.prefill_seconds, decode: Math.max(stats.generated_tokens - 1, 1) / stats.decode_seconds, host, gpu,
    raw };
}
const gpuLines = (r) => r.gpu.map(([label, ms, count]) => `    ${ms.toFixed(3).padStart(8)} ms ${count.toFixed(1).padStart(6)}x  ${label}`)
  .join('\n');
const hostLine = (r) => (r.host ? `  per token (prefill included): ${r.host.dispatches.toFixed(0)} dispatches, `
  + `encode ${r.host.encode.toFixed(2)} ms, read-back wait ${r.host.wait.toFixed(2)} ms` : '');
// With --profile passes: decode only (run r minus a run of the same prompt that stops after the
// first token, i.e. the prefill), the GPU's busy time per token against the wall time, and the
// host's time per token.
async function busyLine(what, r, n, opts) {
  if (a.get('--profile') !== 'passes' || !r.raw) return;
  const p1 = await run(n, { ...opts, maxTokens: 1 });
  const k = r.raw.tokens - p1.raw.tokens;
  const per = (key) => (r.raw[key] - p1.raw[key]) / k;
  console.log(`  ${what} decode only, per token: GPU busy ${per('gpu').toFixed(2)} ms of ${(1000 * per('seconds')).toFixed(2)} ms `
    + `wall; host: encode ${per('encode').toFixed(2)} ms, finish + submit ${per('submit').toFixed(2)} ms; `
    + `${per('dispatches').toFixed(0)} dispatches`);
}
const greedy = { temperature: 0 };
const sampled = { temperature: 0.8, topK: 40, topP: 0.95, seed: 1 };
await run(64, greedy);  // warm-up: pipelines compile
await run(64, sampled);
if (a.get('--prefill-only') === 'on') {
  await run(Math.max(...ctxs), { ...greedy, maxTokens: 1 });  // the prefill pipelines at full size
  for (const n of ctxs) {
    const ps = [];
    for (let i = 0; i < repeat; i++) ps.push((await run(n, { ...greedy, maxTokens: 1 })).prefill);
    ps.sort((x, y) => x - y);
    console.log(`ctx ${n}: prefill ${ps[(ps.length - 1) >> 1].toFixed(0)} tok/s (median of ${repeat}: ${ps.map((v) => v.toFixed(0)).join(', ')})`);
  }
  await model.dispose();
  await shutdown();
  process.exit(0);
}
// Bytes of KV cache (f32 K and V for every layer) and activations are in info.bytes; the
// weight bytes alone give the bandwidth a decode step needs.
const cfg = JSON.parse(readFileSync(join(a.get('--model'), 'config.json'), 'utf8'));
const hd = cfg.head_dim ?? cfg.hidden_size / cfg.num_attention_heads;
const kvBytes = cfg.num_hidden_layers * 2 * maxCtx * (cfg.num_key_value_heads ?? cfg.num_attention_heads) * hd * 4;
const results = {};
// Runs `modes` (option objects) alternating, `repeat` times each; per mode, the run with the
// median decode speed (its host and kernel figures come along) and the slowest and fastest.
async function alternate(n, modes) {
  const rs = modes.map(() => []);
  for (let i = 0; i < repeat; i++) {
    for (let m = 0; m < modes.length; m++) rs[m].push(await run(n, modes[m]));
  }
  return rs.map((list) => {
    const sorted = [...list].sort((x, y) => x.decode - y.decode);
    return { ...sorted[(sorted.length - 1) >> 1], min: sorted[0].decode, max: sorted[sorted.length - 1].decode };
  });
}
const spread = (r) => (repeat > 1 ? ` [${r.min.toFixed(1)}-${r.max.toFixed(1)}]` : '');
for (const n of ctxs) {
  const [g, s] = await alternate(n, [greedy, sampled]);
  results[n] = g;
  console.log(`ctx ${n}: prefill ${g.prefill.toFixed(0)} tok/s | decode greedy ${g.decode.toFixed(1)}${spread(g)} tok/s, `
    + `sampled ${s.decode.toFixed(1)}${spread(s)} tok/s (sampled/greedy ${(s.decode / g.decode).toFixed(3)})`
    + (repeat > 1 ? `; medians of ${repeat} runs [slowest-fastest]` : ''));
  const perToken = info.bytes - kvBytes + n * kvBytes / maxCtx;  // weights (+ scratch) + the KV read at this context
  if (g.host) console.log(`  greedy${hostLine(g)}\n  sampled${hostLine(s)}`);
  if (g.gpu.length) {
    const total = (r) => r.gpu.reduce((t, e) => t + e[1], 0).toFixed(2);
    console.log(`  GPU time per generated token (prefill included; a pass per dispatch), greedy: ${total(g)} ms\n${gpuLines(g)}`);
    console.log(`  sampled: ${total(s)} ms\n${gpuLines(s)}`);
  }
  await busyLine('greedy', g, n, greedy);
  const eff = perToken * g.decode / 1e12;
  console.log(`  greedy decode reads ~${(perToken / 1e9).toFixed(2)} GB per token: ${eff.toFixed(2)} TB/s effective`
    + (probe ? ` (${(eff / probe.readTBs).toFixed(2)} of the probe's read bandwidth)` : ''));
  if (probe && g.host) {
    const floor = g.host.dispatches * probe.dispatchUs / 1000;
    console.log(`  dispatch floor: ${g.host.dispatches.toFixed(0)} dispatches x ${probe.dispatchUs.toFixed(2)} us = `
      + `${floor.toFixed(2)} ms of the ${(1000 / g.decode).toFixed(2)} ms per token`);
  }
}
if (a.has('--adapter')) {
  await model.loadAdapter('bench', a.get('--adapter'));
  await run(64, { ...greedy, adapter: 'bench' });  // warm-up: the adapter's kernels compile
  const n = ctxs[0];
  const [base, lora] = await alternate(n, [greedy, { ...greedy, adapter: 'bench' }]);
  console.log(`ctx ${n} with LoRA adapter: decode ${lora.decode.toFixed(1)}${spread(lora)} tok/s vs base `
    + `${base.decode.toFixed(1)}${spread(base)} tok/s (lora/base ${(lora.decode / base.decode).toFixed(3)}); `
    + `prefill ${lora.prefill.toFixed(0)} vs ${base.prefill.toFixed(0)} tok/s (lora/base ${(lora.prefill / base.prefill).toFixed(3)})`
    + (repeat > 1 ? `; medians of ${repeat} runs each, alternating` : ''));
  if (lora.host) console.log(`  base${hostLine(base)}\n  lora${hostLine(lora)}`);
  await busyLine('base', base, n, greedy);
  await busyLine('lora', lora, n, { ...greedy, adapter: 'bench' });
  if (lora.gpu.length) console.log(`  with the adapter, GPU time per generated token (prefill included):\n${gpuLines(lora)}`);
}
await model.dispose();
await shutdown();
