#!/usr/bin/env node
// Training in Node through the wasm engine: the native CLI's train and finetune flags plus
// --backend.
//   train.mjs train -m MODEL_DIR --data FILE --steps N --batch B --seq T --lr LR [--min-lr X]
//     [--warmup W] [--beta1 .9] [--beta2 .95] [--eps 1e-8] [--weight-decay .1] [--grad-clip 1]
//     [--accum K] [--threads N] [--seed S] [--init] [--recompute] [--save-dtype f32|bf16]
//     --out OUT_DIR [--log LOG.jsonl] [--save-grads-step0 FILE] [--backend webgpu|cpu]
//     [--no-subgroups]
//   train.mjs finetune -m BASE_DIR --data FILE [--dtype f32|int8|int4] --rank R --alpha A
//     --targets q_proj,k_proj,... [--rslora] [--adapter-init DIR] (train's optimizer and data
//     options) --out ADAPTER_DIR [--log LOG.jsonl] [--no-quant-search] [--backend webgpu|cpu]
// --seq, --batch and --steps default to what a [S, B, seq + 1] token file holds. A line per step
// on stdout; LOG.jsonl gets {"step", "loss", "grad_norm" (before clipping), "lr", "tokens",
// "tokens_per_s", "ms"} per step. WebGPU comes from the npm package `webgpu` (Dawn); without a
// GPU adapter the wasm CPU backend runs instead, with a message on stderr. Errors: one line
// starting with "hearth:" on stderr, exit status 2.
import { mkdirSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

import { loadModel, shutdown, trainModel } from '../src/hearth.mjs';

const RUN_VALUES = ['--model', '--data', '--steps', '--batch', '--seq', '--lr', '--min-lr', '--warmup', '--beta1',
  '--beta2', '--eps', '--weight-decay', '--grad-clip', '--accum', '--threads', '--out', '--log', '--seed', '--backend'];
const COMMANDS = {
  train: { values: [...RUN_VALUES, '--save-dtype', '--save-grads-step0'], flags: ['--init', '--recompute'] },
  finetune: {
    values: [...RUN_VALUES, '--dtype', '--rank', '--alpha', '--targets', '--adapter-init'],
    flags: ['--rslora', '--no-quant-search', '--recompute'],
  },
};
const ALIAS = { '-m': '--model', '-o': '--out', '-h': '--help' };
const usage = `usage: train.mjs train -m DIR --data FILE --steps N --batch B --seq T --lr LR [--min-lr X] [--warmup W]
         [--beta1 B1] [--beta2 B2] [--eps E] [--weight-decay WD] [--grad-clip C] [--accum K] [--threads N]
         [--seed S] [--init] [--recompute] [--save-dtype f32|bf16] --out DIR [--log LOG.jsonl]
         [--save-grads-step0 FILE] [--backend webgpu|cpu] [--no-subgroups]
       train.mjs finetune -m DIR --data FILE [--dtype f32|int8|int4] --rank R --alpha A --targets q_proj,...
         [--rslora] [--adapter-init DIR] [train's optimizer and data options] --out DIR [--log LOG.jsonl]
         [--no-quant-search] [--backend webgpu|cpu] [--no-subgroups]\n`;

function fail(msg) {
  process.stderr.write(`hearth: ${String(msg).replace(/^hearth: /, '')}\n`);
  process.exit(2);
}

function parse(cmd, argv) {
  const spec = COMMANDS[cmd];
  const values = new Set(spec.values);
  const flags = new Set([...spec.flags, '--no-subgroups', '--help']);
  const a = new Map();
  for (let i = 0; i < argv.length; i++) {
    const name = ALIAS[argv[i]] ?? argv[i];
    if (flags.has(name)) {
      a.set(name, true);
    } else if (values.has(name)) {
      if (i + 1 >= argv.length) fail(`${name} needs a value`);
      a.set(name, argv[++i]);
    } else {
      fail(`${cmd}: unknown option "${argv[i]}"`);
    }
  }
  return a;
}

function number(a, name, lo, hi, integer = false) {
  if (!a.has(name)) return undefined;
  const v = Number(a.get(name));
  if (!Number.isFinite(v) || v < lo || v > hi || (integer && !Number.isInteger(v))) {
    fail(`${name}: expected ${integer ? 'an integer' : 'a number'} in [${lo}, ${hi}], got "${a.get(name)}"`);
  }
  return v;
}

function choice(a, name, allowed, dflt) {
  const v = a.get(name) ?? dflt;
  if (!allowed.includes(v)) fail(`${name}: "${v}" is not one of ${allowed.join(', ')}`);
  return v;
}

const [cmd, ...rest] = process.argv.slice(2);
if (cmd === '--help' || cmd === '-h') {
  process.stdout.write(usage);
  process.exit(0);
}
if (!COMMANDS[cmd]) fail(`the first argument must be train or finetune\n${usage}`);
const a = parse(cmd, rest);
if (a.has('--help')) {
  process.stdout.write(usage);
  process.exit(0);
}
for (const name of ['--model', '--data', '--out']) if (!a.has(name)) fail(`missing required option ${name}`);
const backend = choice(a, '--backend', ['webgpu', 'cpu'], 'webgpu');
const opts = {
  data: a.get('--data'),
  steps: number(a, '--steps', 1, 2 ** 40, true),
  batch: number(a, '--batch', 1, 1 << 20, true),
  seq: number(a, '--seq', 1, 1 << 20, true),
  accum: number(a, '--accum', 1, 1 << 20, true),
  lr: number(a, '--lr', 0, 1e6),
  minLr: number(a, '--min-lr', 0, 1e6),
  warmup: number(a, '--warmup', 0, 2 ** 40, true),
  beta1: number(a, '--beta1', 0, 1),
  beta2: number(a, '--beta2', 0, 1),
  eps: number(a, '--eps', 0, 1),
  weightDecay: number(a, '--weight-decay', 0, 1e6),
  gradClip: number(a, '--grad-clip', 0, 1e12),
  seed: number(a, '--seed', 0, Number.MAX_SAFE_INTEGER, true),
  threads: number(a, '--threads', 0, 1024, true),
  recompute: a.has('--recompute'),
  backend,
  subgroups: !a.has('--no-subgroups'),
};
const out = resolve(a.get('--out'));
const log = a.has('--log') ? resolve(a.get('--log')) : null;

let run;
let what;
try {
  if (cmd === 'train') {
    const saveDtype = choice(a, '--save-dtype', ['f32', 'bf16'], 'f32');
    if (a.has('--save-grads-step0')) opts.saveGradsStep0 = a.get('--save-grads-step0');
    run = trainModel(a.get('--model'), { ...opts, init: a.has('--init') });
    run.saveOpts = { dtype: saveDtype };
    what = 'parameters';
  } else {
    const dtype = choice(a, '--dtype', ['f32', 'f16', 'int8', 'int4'], 'f32');
    const model = await loadModel(a.get('--model'), {
      dtype, backend, threads: opts.threads, subgroups: opts.subgroups, quantSearch: !a.has('--no-quant-search'),
      maxCtx: 64, maxPrefillT: 16,  // the inference state stays small: training has buffers of its own
    });
    run = model.finetune({
      ...opts, rank: number(a, '--rank', 1, 1 << 16, true), alpha: number(a, '--alpha', 0, 1e9),
      targets: a.get('--targets'), rslora: a.has('--rslora'), adapterInit: a.get('--adapter-init'),
    });
    what = `LoRA parameters (${dtype} base)`;
  }
  const info = await run.stats();
  process.stdout.write(`${cmd === 'train' ? 'training' : 'fine-tuning'} ${info.parameters} ${what} of `
    + `${a.get('--model')} on ${info.data} (${info.backend})\n`);
  if (log) {
    mkdirSync(dirname(log), { recursive: true });
    writeFileSync(log, '');
  }
  for await (const r of run) {
    process.stdout.write(`step ${r.step + 1}/${info.steps}  loss ${r.loss.toFixed(4)}  grad_norm ${r.grad_norm.toFixed(4)}  `
      + `lr ${r.lr.toExponential(3)}  ${r.tokens_per_s.toFixed(0)} tok/s\n`);
    if (log) appendFileSync(log, `${JSON.stringify(r)}\n`);
  }
  const files = await run.save(run.saveOpts);
  mkdirSync(out, { recursive: true });
  for (const [name, bytes] of Object.entries(files)) writeFileSync(resolve(out, name), bytes);
  process.stdout.write(`wrote ${a.get('--out')}\n`);
} catch (e) {
  fail(e.message);
}
await shutdown();
