#!/usr/bin/env node
// hearth in Node through the wasm engine: the native CLI's generate flags plus --backend.
//   hearth.mjs [generate] -m DIR (--prompt TEXT | --ids 1,2,3) [-n N] [--temp T] [--top-k K]
//              [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--stop STR]...
//              [--dtype D] [--max-ctx N] [--max-prefill N] [--backend webgpu|cpu]
//              [--no-subgroups] [--adapter DIR [--adapter-scale S]] [--print-ids] [--stats]
// Streams the generated text to stdout; with --print-ids the last line is "ids: <ids>". Errors
// are one line "hearth: ..." on stderr and exit status 2, with the native CLI's messages.
// WebGPU comes from the npm package `webgpu` (Dawn); without a GPU adapter the wasm CPU
// backend runs instead, with a message on stderr. parseCommandLine() is exported for tests.
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

import { loadModel, shutdown } from '../src/hearth.mjs';

const VALUE = new Set(['--model', '--prompt', '--ids', '--max-tokens', '--temp', '--top-k', '--top-p', '--min-p',
  '--repeat-penalty', '--presence-penalty', '--frequency-penalty', '--seed', '--stop', '--dtype', '--max-ctx',
  '--max-prefill', '--backend', '--threads', '--adapter', '--adapter-scale']);
const FLAGS = new Set(['--print-ids', '--no-subgroups', '--stats', '--help']);
const ALIAS = { '-m': '--model', '-n': '--max-tokens', '-p': '--prompt', '-h': '--help' };
// The native CLI's other commands, which this one does not have.
const NATIVE_ONLY = new Set(['chat', 'perplexity', 'bench', 'tokenize', 'random-checkpoint', 'convert', 'train',
  'finetune', 'bench-train']);

export const usage = `usage: hearth.mjs [generate] -m DIR (--prompt TEXT | --ids 1,2,3) [options]
Generates a continuation through the wasm engine and streams it to stdout.
  -m, --model DIR          a Hugging Face model folder (links, as in the hub cache, are followed)
                           or a .gguf file
  -p, --prompt TEXT        the prompt text (needs tokenizer.json)
  --ids 1,2,3              the prompt as token ids
  -n, --max-tokens N       tokens to generate (default 128)
  --temp T, --top-k K, --top-p P, --min-p P, --repeat-penalty R, --presence-penalty P,
  --frequency-penalty F, --seed S   sampling (default: the model's generation_config.json)
  --stop STR               stop before this text (repeatable: each applies)
  --dtype f32|f16|int8|int4  weights in memory (default f32)
  --max-ctx N              KV cache length (default min(max_position_embeddings, 4096))
  --max-prefill N          largest batch of prompt tokens in one pass (default 512)
  --threads N              accepted for the native CLI's sake (the wasm engine runs one thread)
  --backend webgpu|cpu     default webgpu, falling back to the wasm CPU backend without a GPU
  --no-subgroups           WebGPU without the subgroups feature
  --adapter DIR            a LoRA adapter (PEFT or MLX-LM folder, or a .gguf adapter)
  --adapter-scale S        multiplies the adapter's own scale (default 1)
  --print-ids              end with a line "ids: <generated ids>"
  --stats                  print prefill and decode timing to stderr
`;

class UsageError extends Error {}

// The native CLI's number parsing and messages (cli/args.cpp).
function integer(a, name, lo, hi) {
  if (!a.has(name)) return undefined;
  const s = a.get(name);
  const v = Number(s);
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(v)) throw new UsageError(`${name}: expected an integer, got "${s}"`);
  if (v < lo || v > hi) throw new UsageError(`${name}: ${s} is out of range [${lo}, ${hi}]`);
  return v;
}

function number(a, name, lo, hi) {
  if (!a.has(name)) return undefined;
  const s = a.get(name);
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) throw new UsageError(`${name}: expected a number, got "${s}"`);
  if (v < lo || v > hi) throw new UsageError(`${name}: ${s} is out of range`);
  return v;
}

// "1,2,3" or "1 2 3" (cli/args.cpp parse_id_list).
function idList(text, name) {
  const ids = text.split(/[\s,]+/).filter((s) => s).map((s) => {
    if (!/^\d+$/.test(s)) throw new UsageError(`${name}: expected token ids separated by commas or spaces, got "${text}"`);
    if (s.length > 9) throw new UsageError(`${name}: token id ${s} is too large`);
    return Number(s);
  });
  if (!ids.length) throw new UsageError(`${name}: no token ids given`);
  return ids;
}

/**
 * The command line (without `node hearth.mjs`) as what to do: { help } or { model, load
 * (loadModel options), adapter, prompt (text or ids), generate (generate options), printIds,
 * stats }. Throws an Error whose message names the flag (the native CLI's messages).
 */
export function parseCommandLine(argv) {
  let args = argv;
  if (args[0] === 'generate') args = args.slice(1);
  else if (NATIVE_ONLY.has(args[0])) throw new UsageError(`command "${args[0]}" is in the native CLI only (here: generate)`);
  const a = new Map();
  const stops = [];
  for (let i = 0; i < args.length; i++) {
    const name = ALIAS[args[i]] ?? args[i];
    if (FLAGS.has(name)) {
      a.set(name, true);
    } else if (VALUE.has(name)) {
      if (i + 1 >= args.length) throw new UsageError(`${name}: expected a value after it`);
      a.set(name, args[++i]);
      if (name === '--stop') stops.push(a.get(name));
    } else {
      throw new UsageError(`unknown option "${args[i]}" (--help lists the options)`);
    }
  }
  if (a.has('--help')) return { help: true };
  if (!a.has('--model')) throw new UsageError(`missing required option --model (-m DIR)`);
  if (a.has('--prompt') === a.has('--ids')) throw new UsageError('give exactly one of --prompt TEXT or --ids 1,2,3');
  const dtype = a.get('--dtype') ?? 'f32';
  if (!['f32', 'f16', 'int8', 'int4'].includes(dtype)) throw new UsageError(`--dtype: "${dtype}" is not one of f32, f16, int8, int4`);
  const backend = a.get('--backend') ?? 'webgpu';
  if (!['webgpu', 'cpu'].includes(backend)) throw new UsageError(`--backend: "${backend}" is not one of webgpu, cpu`);
  const adapterScale = number(a, '--adapter-scale', -1e6, 1e6);
  if (adapterScale !== undefined && !a.has('--adapter')) throw new UsageError('--adapter-scale needs --adapter DIR');
  integer(a, '--threads', 0, 1024);
  return {
    model: a.get('--model'),
    load: {
      dtype, backend, subgroups: !a.has('--no-subgroups'),
      maxCtx: integer(a, '--max-ctx', 1, 1 << 24), maxPrefillT: integer(a, '--max-prefill', 1, 1 << 16),
    },
    adapter: a.get('--adapter'),
    prompt: a.has('--ids') ? idList(a.get('--ids'), '--ids') : a.get('--prompt'),
    generate: {
      maxTokens: integer(a, '--max-tokens', 0, 1 << 24) ?? 128,
      temperature: number(a, '--temp', 0, 1e6),
      topK: integer(a, '--top-k', 0, 2 ** 30),
      topP: number(a, '--top-p', 0, 1),
      minP: number(a, '--min-p', 0, 1),
      repetitionPenalty: number(a, '--repeat-penalty', 1e-6, 1e6),
      presencePenalty: number(a, '--presence-penalty', -1e6, 1e6),
      frequencyPenalty: number(a, '--frequency-penalty', -1e6, 1e6),
      seed: integer(a, '--seed', 0, Number.MAX_SAFE_INTEGER),
      stop: stops,
      adapter: a.has('--adapter') ? 'adapter' : undefined,
      adapterScale,
    },
    printIds: a.has('--print-ids'),
    stats: a.has('--stats'),
  };
}

function fail(msg) {
  process.stderr.write(`hearth: ${msg.replace(/^hearth: /, '')}\n`);
  process.exit(2);
}

async function main(argv) {
  let cmd;
  try {
    cmd = parseCommandLine(argv);
  } catch (e) {
    fail(e instanceof UsageError && /^missing required option --model/.test(e.message) ? `${e.message}\n${usage}` : e.message);
  }
  if (cmd.help) {
    process.stdout.write(usage);
    return;
  }
  let model;
  try {
    model = await loadModel(cmd.model, cmd.load);
    if (cmd.adapter !== undefined) await model.loadAdapter('adapter', cmd.adapter);
  } catch (e) {
    fail(e.message);
  }
  const info = model.info;
  process.stderr.write(`hearth: ${info.backend}, ${info.dtype}, ${info.model_type} (${info.n_layers} layers), `
    + `tier ${info.tier}\n`);
  if (typeof cmd.prompt === 'string' && !info.has_tokenizer) {
    fail(`${cmd.model}: no tokenizer.json, so --prompt cannot be used (give --ids)`);
  }
  try {
    const stream = model.generate(cmd.prompt, cmd.generate);
    for await (const t of stream) if (t.text) process.stdout.write(t.text);
    const r = await stream.result;
    if (info.has_tokenizer) process.stdout.write('\n');
    if (cmd.printIds) process.stdout.write(`ids: ${r.ids.join(' ')}\n`);
    if (cmd.stats) {
      const s = r.stats;
      process.stderr.write(`prefill: ${s.prompt_tokens} tokens in ${(s.prefill_seconds * 1e3).toFixed(1)} ms, decode: `
        + `${s.generated_tokens} tokens in ${(s.decode_seconds * 1e3).toFixed(1)} ms `
        + `(${(Math.max(s.generated_tokens - 1, 1) / s.decode_seconds).toFixed(1)} tok/s)\n`);
    }
  } catch (e) {
    fail(e.message);
  }
  await model.dispose();
  await shutdown();
}

// Run as a program (also through a linked bin), not when imported.
const self = fileURLToPath(import.meta.url);
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(self)) await main(process.argv.slice(2));
