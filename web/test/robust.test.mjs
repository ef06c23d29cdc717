// The JS API under bad input and odd layouts, on the wasm CPU backend: every engine error
// reaches JS as an Error carrying the engine's message, and the same loaded model generates the
// reference ids afterwards; a Hugging Face hub cache snapshot (a folder of links into
// ../../blobs) and links to files outside the folder load; a .gguf file loads; a prompt longer
// than max_position_embeddings warns.
import assert from 'node:assert/strict';
import {
  copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, test } from 'node:test';

import { loadModel } from '../src/hearth.mjs';
import { buildFile, fixtures, repoRoot } from './helpers.mjs';

const wasmUrl = buildFile('hearth_engine.cjs');
const bundled = resolve(repoRoot, 'models/pycoder-6m');
const ref = JSON.parse(readFileSync(resolve(bundled, 'reference.json'), 'utf8')).greedy[2];
const n = 16;
const tmp = mkdtempSync(join(tmpdir(), 'hearth-robust-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const load = (dir, opts = {}) => loadModel(dir, { wasmUrl, backend: 'cpu', ...opts });
const greedy = async (model, prompt = ref.prompt_ids, extra = {}) => (
  await model.complete(prompt, { maxTokens: n, temperature: 0, stopIds: [-1], ...extra })).ids;

// Rejects with an Error (not a bare value) whose message is the engine's, "hearth: ..." with `needle`.
async function rejectsWith(promise, needle) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Error, `expected an Error, got ${typeof e}: ${e}`);
    assert.match(e.message, /^hearth: /);
    assert.ok(e.message.includes(needle), `"${e.message}" does not name "${needle}"`);
    return true;
  });
}

// Calls fn with console.warn collected; returns what was warned.
async function warnings(fn) {
  const seen = [];
  const original = console.warn;
  console.warn = (...a) => seen.push(a.join(' '));
  try {
    await fn();
  } finally {
    console.warn = original;
  }
  return seen.join('\n');
}

test('engine errors are Errors with the engine\'s message; the same model generates the reference after each', async () => {
  const model = await load(bundled);
  const want = ref.greedy.slice(0, n);
  const adapterWithoutWeights = join(tmp, 'adapter-without-weights');
  mkdirSync(adapterWithoutWeights);
  copyFileSync(resolve(fixtures, 'qwen2-tiny/lora-qv/adapter_config.json'), join(adapterWithoutWeights, 'adapter_config.json'));
  assert.deepEqual(await greedy(model), want);
  const failures = [
    [() => greedy(model, [1, 2, 99999]), 'token id 99999 is outside the vocabulary'],
    [() => greedy(model, ref.prompt_ids, { maxTokens: 1e9 }), 'maxTokens'],
    [() => greedy(model, ref.prompt_ids, { topK: -1 }), 'topK'],
    [() => greedy(model, ref.prompt_ids, { adapter: 'never-loaded' }), 'never-loaded'],
    [() => greedy(model, new Array(3000).fill(17)), 'max_ctx is 2048'],
    [() => model.loadAdapter('a', join(tmp, 'no-such-adapter')), 'no-such-adapter: no such adapter folder'],
    [() => model.loadAdapter('a', adapterWithoutWeights), `${adapterWithoutWeights}: no adapter_model.safetensors`],
    [() => load(resolve(fixtures, 'qwen2-tiny'), { maxCtx: 16777216 }), 'loading needs about'],
    [() => load(join(tmp, 'no-such-model')), 'no-such-model: no such model folder'],
  ];
  for (const [fail, needle] of failures) {
    await rejectsWith(fail(), needle);
    assert.deepEqual(await greedy(model), want, `after the error naming "${needle}"`);
  }
  await model.dispose();
});

test('a hub cache snapshot (links into ../../blobs) and links out of the folder load', async () => {
  // models--org--name/blobs/<hash> holds the files; snapshots/<rev>/<name> are relative links.
  const repo = join(tmp, 'hub', 'models--hearth--pycoder-6m');
  const snap = join(repo, 'snapshots', '0123abcd');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(snap, { recursive: true });
  for (const [i, name] of readdirSync(bundled).entries()) {
    const blob = `b${i}e7f${i}`;
    copyFileSync(join(bundled, name), join(repo, 'blobs', blob));
    symlinkSync(join('..', '..', 'blobs', blob), join(snap, name));
  }
  const hub = await load(snap);
  assert.deepEqual(await greedy(hub), ref.greedy.slice(0, n));
  assert.deepEqual(await greedy(hub, ref.prompt), ref.greedy.slice(0, n));  // the tokenizer came through too
  await hub.dispose();
  // Absolute links to files elsewhere, and a link to a folder.
  const linked = join(tmp, 'linked');
  mkdirSync(linked);
  for (const name of readdirSync(bundled)) symlinkSync(join(bundled, name), join(linked, name));
  symlinkSync(linked, join(tmp, 'link-to-folder'));
  for (const dir of [linked, join(tmp, 'link-to-folder')]) {
    const m = await load(dir);
    assert.deepEqual(await greedy(m), ref.greedy.slice(0, n), dir);
    await m.dispose();
  }
  // A broken file behind a link: the message names the path the user gave.
  const broken = join(tmp, 'broken');
  mkdirSync(broken);
  for (const name of readdirSync(bundled)) {
    if (name !== 'config.json') symlinkSync(join(bundled, name), join(broken, name));
  }
  await rejectsWith(load(broken), `${broken}/config.json: cannot open file`);
});

test('a .gguf file loads through the JS API, its tokenizer from the metadata', async () => {
  const gguf = resolve(fixtures, 'gguf/pycoder-6m-q8_0.gguf');
  const m = await load(gguf);
  assert.equal(m.info.has_tokenizer, true);
  assert.deepEqual(await m.encode(ref.prompt), ref.prompt_ids);
  assert.deepEqual(await greedy(m), ref.greedy.slice(0, n));  // Q8_0 keeps pycoder-6m's greedy ids
  await m.dispose();
});

test('a prompt longer than max_position_embeddings warns', async () => {
  // qwen2-tiny's weights under a config that says max_position_embeddings 32.
  const short = join(tmp, 'short-context');
  mkdirSync(short);
  const tiny = resolve(fixtures, 'qwen2-tiny');
  const config = JSON.parse(readFileSync(join(tiny, 'config.json'), 'utf8'));
  writeFileSync(join(short, 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 32 }));
  symlinkSync(join(tiny, 'model.safetensors'), join(short, 'model.safetensors'));
  const m = await load(short, { maxCtx: 64 });
  assert.equal(await warnings(() => greedy(m, new Array(30).fill(17), { maxTokens: 2 })), '');
  const seen = await warnings(() => greedy(m, new Array(40).fill(17), { maxTokens: 2 }));
  assert.match(seen, /needs 41 positions, more than the model's max_position_embeddings \(32\)/);
  await m.dispose();
});
