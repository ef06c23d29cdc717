#!/usr/bin/env node
// Throughput of the wasm engine in Node: prefill and greedy decode on a deterministic
// pseudo-random prompt (the same one as the native `hearth bench`).
//   bench.mjs -m DIR [--prompt-len N] [--gen N] [--dtype D] [--backend webgpu|cpu]
//             [--device-steps K] [--max-prefill N] [--reps R] [--peer cpu]
//             [--temp T [--top-k K] [--top-p P]] [--quant-search off]
// Prints load time, prefill and decode tok/s (best of R runs after a warm-up run that also
// compiles the pipelines); --peer cpu measures the wasm CPU backend in the same run and prints
// the ratio.
import { loadModel, shutdown } from '../src/hearth.mjs';

const a = new Map([['--prompt-len', '128'], ['--gen', '64'], ['--dtype', 'f32'], ['--backend', 'webgpu'],
  ['--reps', '3']]);
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i += 2) a.set(argv[i] === '-m' ? '--model' : argv[i], argv[i + 1]);
if (!a.has('--model')) {
  process.stderr.write('usage: bench.mjs -m DIR [--prompt-len N] [--gen N] [--dtype D] [--backend webgpu|cpu] '
    + '[--device-steps K] [--max-prefill N] [--reps R] [--peer cpu]\n');
  process.exit(2);
}
const plen = Number(a.get('--prompt-len'));
const gen = Number(a.get('--gen'));

function currentGpu(model) {
  return model.stats().gpu;
}

async function measure(backend) {
  const t0 = performance.now();
  const model = await loadModel(a.get('--model'), {
    backend, dtype: a.get('--dtype'), maxCtx: plen + gen,
    maxPrefillT: Number(a.get('--max-prefill') ?? Math.min(plen, 512)),
    quantSearch: a.get('--quant-search') !== 'off',
  });
  const loadMs = performance.now() - t0;
  let state = 0x9e3779b97f4a7c15n;
  const prompt = [];
  for (let i = 0; i < plen; i++) {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    prompt.push(Number((state >> 33n) % BigInt(model.info.vocab_size)));
  }
  const temp = Number(a.get('--temp') ?? 0);
  const opts = { maxTokens: gen, temperature: temp, stopIds: [-1] };
  if (temp > 0) Object.assign(opts, { topK: Number(a.get('--top-k') ?? 40), topP: Number(a.get('--top-p') ?? 0.95), seed: 1 });
  if (a.has('--device-steps')) opts.deviceSteps = Number(a.get('--device-steps'));
  await model.complete(prompt, opts);  // warm-up: pipelines compile here
  const gpu0 = model.info.backend.startsWith('webgpu') ? currentGpu(model) : null;
  let best = null;
  for (let r = 0; r < Number(a.get('--reps')); r++) {
    const { stats } = await model.complete(prompt, opts);
    const p = plen / stats.prefill_seconds;
    const d = Math.max(stats.generated_tokens - 1, 1) / stats.decode_seconds;
    if (!best || d > best.decode) best = { prefill: Math.max(p, best?.prefill ?? 0), decode: d, stats };
    best.prefill = Math.max(best.prefill, p);
  }
  const info = model.info;
  if (gpu0) {
    const g = currentGpu(model);
    const runs = Number(a.get('--reps'));
    console.log(`gpu: ${((g.dispatches - gpu0.dispatches) / runs / (plen + gen)).toFixed(1)} dispatches per token, `
      + `${((g.submits - gpu0.submits) / runs).toFixed(1)} submits per run, ${g.pipelines} pipelines`);
  }
  await model.dispose();
  console.log(`backend: ${info.backend}  dtype: ${info.dtype}  weights+cache: ${(info.bytes / 1e6).toFixed(1)} MB  `
    + `load: ${(loadMs / 1e3).toFixed(2)} s`);
  console.log(`prefill: ${plen} tokens, ${best.prefill.toFixed(1)} tok/s (${(plen / best.prefill * 1e3).toFixed(1)} ms)`);
  console.log(`decode: ${gen} tokens, ${best.decode.toFixed(1)} tok/s (${(1e3 / best.decode).toFixed(2)} ms/token)`);
  return best;
}

const main = await measure(a.get('--backend'));
if (a.get('--peer') === 'cpu') {
  const peer = await measure('cpu');
  console.log(`ratio to wasm cpu: prefill ${(main.prefill / peer.prefill).toFixed(2)}x, `
    + `decode ${(main.decode / peer.decode).toFixed(2)}x`);
}
await shutdown();
