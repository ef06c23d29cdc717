#!/usr/bin/env node
// hearth in Node through the wasm engine: the native CLI's generate flags plus --backend.
//   hearth.mjs -m DIR (--prompt TEXT | --ids 1,2,3) [-n N] [--temp T] [--top-k K] [--top-p P]
//              [--min-p P] [--repeat-penalty R] [--seed S] [--stop STR] [--dtype D]
//              [--max-ctx N] [--max-prefill N] [--backend webgpu|cpu] [--no-subgroups]
//              [--adapter DIR [--adapter-scale S]] [--print-ids] [--stats]
// Streams the generated text to stdout; with --print-ids the last line is "ids: <ids>".
// WebGPU comes from the npm package `webgpu` (Dawn); without a GPU adapter the wasm CPU
// backend runs instead, with a message on stderr.
import { loadModel, shutdown } from '../src/hearth.mjs';

const VALUE = new Set(['--model', '--prompt', '--ids', '--max-tokens', '--temp', '--top-k', '--top-p', '--min-p',
  '--repeat-penalty', '--presence-penalty', '--frequency-penalty', '--seed', '--stop', '--dtype', '--max-ctx',
  '--max-prefill', '--backend', '--threads', '--adapter', '--adapter-scale']);
const FLAGS = new Set(['--print-ids', '--no-subgroups', '--stats', '--help']);
const ALIAS = { '-m': '--model', '-n': '--max-tokens', '-p': '--prompt', '-h': '--help' };

function fail(msg) {
  process.stderr.write(`hearth: ${msg}\n`);
  process.exit(2);
}

function parse(argv) {
  const a = new Map();
  for (let i = 0; i < argv.length; i++) {
    const name = ALIAS[argv[i]] ?? argv[i];
    if (FLAGS.has(name)) {
      a.set(name, true);
    } else if (VALUE.has(name)) {
      if (i + 1 >= argv.length) fail(`${name} needs a value`);
      a.set(name, argv[++i]);
    } else {
      fail(`unknown option "${argv[i]}"`);
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

const usage = `usage: hearth.mjs -m DIR (--prompt TEXT | --ids 1,2,3) [-n N] [--temp T] [--top-k K] [--top-p P]
       [--min-p P] [--repeat-penalty R] [--presence-penalty P] [--frequency-penalty F] [--seed S]
       [--stop STR] [--dtype f32|f16|int8|int4] [--max-ctx N] [--max-prefill N]
       [--backend webgpu|cpu] [--no-subgroups] [--adapter DIR [--adapter-scale S]] [--print-ids] [--stats]\n`;

const a = parse(process.argv.slice(2));
if (a.has('--help')) {
  process.stdout.write(usage);
  process.exit(0);
}
if (!a.has('--model')) fail(`-m DIR is required\n${usage}`);
if (a.has('--prompt') === a.has('--ids')) fail('give exactly one of --prompt TEXT or --ids 1,2,3');
let prompt = a.get('--prompt');
if (a.has('--ids')) {
  prompt = a.get('--ids').split(/[\s,]+/).filter((s) => s).map((s) => {
    if (!/^\d+$/.test(s)) fail(`--ids: "${s}" is not a token id`);
    return Number(s);
  });
  if (!prompt.length) fail('--ids: no ids given');
}
const dtype = a.get('--dtype') ?? 'f32';
if (!['f32', 'f16', 'int8', 'int4'].includes(dtype)) fail(`--dtype: "${dtype}" is not one of f32, f16, int8, int4`);
const backend = a.get('--backend') ?? 'webgpu';
if (!['webgpu', 'cpu'].includes(backend)) fail(`--backend: "${backend}" is not one of webgpu, cpu`);
// A LoRA adapter (PEFT or MLX-LM folder) over the base, its scale multiplied by --adapter-scale.
const adapterScale = number(a, '--adapter-scale', -1e6, 1e6);
if (adapterScale !== undefined && !a.has('--adapter')) fail('--adapter-scale needs --adapter DIR');

const opts = {
  maxTokens: number(a, '--max-tokens', 0, 1 << 24, true) ?? 128,
  temperature: number(a, '--temp', 0, 1e6),
  topK: number(a, '--top-k', 0, 2 ** 30, true),
  topP: number(a, '--top-p', 0, 1),
  minP: number(a, '--min-p', 0, 1),
  repetitionPenalty: number(a, '--repeat-penalty', 1e-6, 1e6),
  presencePenalty: number(a, '--presence-penalty', -1e6, 1e6),
  frequencyPenalty: number(a, '--frequency-penalty', -1e6, 1e6),
  seed: number(a, '--seed', 0, Number.MAX_SAFE_INTEGER, true),
  stop: a.has('--stop') ? [a.get('--stop')] : [],
  adapter: a.has('--adapter') ? 'adapter' : undefined,
  adapterScale,
};

let model;
try {
  model = await loadModel(a.get('--model'), {
    dtype, backend, maxCtx: number(a, '--max-ctx', 1, 1 << 24, true), maxPrefillT: number(a, '--max-prefill', 1, 1 << 16, true),
    subgroups: !a.has('--no-subgroups'),
  });
  if (a.has('--adapter')) await model.loadAdapter('adapter', a.get('--adapter'));
} catch (e) {
  fail(e.message.replace(/^hearth: /, ''));
}
const info = model.info;
process.stderr.write(`hearth: ${info.backend}, ${info.dtype}, ${info.model_type} (${info.n_layers} layers), `
  + `tier ${info.tier}\n`);
if (typeof prompt === 'string' && !info.has_tokenizer) {
  fail(`${a.get('--model')}: no tokenizer.json, so --prompt cannot be used (give --ids)`);
}
try {
  const stream = model.generate(prompt, opts);
  for await (const t of stream) if (t.text) process.stdout.write(t.text);
  const r = await stream.result;
  if (info.has_tokenizer) process.stdout.write('\n');
  if (a.has('--print-ids')) process.stdout.write(`ids: ${r.ids.join(' ')}\n`);
  if (a.has('--stats')) {
    const s = r.stats;
    process.stderr.write(`prefill: ${s.prompt_tokens} tokens in ${(s.prefill_seconds * 1e3).toFixed(1)} ms, decode: `
      + `${s.generated_tokens} tokens in ${(s.decode_seconds * 1e3).toFixed(1)} ms `
      + `(${(Math.max(s.generated_tokens - 1, 1) / s.decode_seconds).toFixed(1)} tok/s)\n`);
  }
} catch (e) {
  fail(e.message.replace(/^hearth: /, ''));
}
await model.dispose();
await shutdown();
