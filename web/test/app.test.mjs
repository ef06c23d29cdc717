// The app (web/index.html) in headless Chromium, driven as a person would: the bundled model
// loads from the gallery into a worker with a progress bar, the chat streams, stops and reuses
// the KV cache on the next turn, a LoRA folder added on the Adapters tab changes the reply and
// clearing it gives the base reply back exactly, wrong folders get red errors naming the
// missing file, Load during a reply stops it with a message, the weight cache's storage works
// in the page and in a worker and a reloaded page takes the model from it, a tiny model trained
// in the train tab shows a falling loss and then chats, and the page fits 360 px. No request may
// leave the page's origin. Each test saves a screenshot in build-wasm/test-output/app/ (HEARTH_TEST_OUTPUT).
//
// WebGPU is SwiftShader (a CPU driver): the model is loaded at int8 (whose quantization on the
// device is slow there, so the weight cache's worth shows) with a 128-token context and prefill
// batches of 4 (fewer pipelines to compile), and replies are a few greedy tokens.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, afterEach, before, test } from 'node:test';

import { isolatedContext, launchChromium, skipReason, startServer } from './browser_env.mjs';
import { buildFile, fixtures, repoRoot, webBuild } from './helpers.mjs';

const skip = skipReason;
const outDir = resolve(process.env.HEARTH_TEST_OUTPUT ?? resolve(webBuild, '../test-output/app'));
const loraDir = resolve(fixtures, 'qwen2-tiny/lora-qv');  // q/v adapter whose shapes fit pycoder-6m's layers 0-3
const modelDir = resolve(repoRoot, 'models/pycoder-6m');
const started = Date.now();
let server;
let base;
let browser;
let context;
let offOrigin;
let page;
const logs = [];
const firstLoad = {};   // the bundled model's first load: wall seconds, engine seconds
let firstReply = '';    // the greedy reply to the first chat turn

before(async () => {
  if (skip) return;
  buildFile('hearth_engine.cjs');
  mkdirSync(outDir, { recursive: true });
  ({ server, base } = await startServer());
  browser = await launchChromium();
  ({ context, offOrigin } = await isolatedContext(browser, base, { viewport: { width: 1000, height: 760 } }));
  page = await context.newPage();
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e}`));
  await page.goto(`${base}/web/index.html`);
});

after(async () => {
  await browser?.close();
  server?.close();
  if (!skip) console.log(`app tests in Chromium: ${((Date.now() - started) / 1e3).toFixed(1)} s; screenshots in ${outDir}`);
});

const shot = (name) => page.screenshot({ path: resolve(outDir, `${name}.png`), fullPage: true });
// Every test leaves a screenshot of how the page ended, passed or failed.
let testNumber = 0;
afterEach(async (t) => {
  if (skip || !page) return;
  const name = `${String(++testNumber).padStart(2, '0')}-${t.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').slice(0, 48)}`;
  await shot(name.replace(/-$/, ''));
});
const tab = (name) => page.click(`nav [data-tab=${name}]`);
const errorText = async () => ((await page.isVisible('#error')) ? page.textContent('#error-text') : '');
const replies = () => page.$$eval('.msg.assistant', (els) => els.map((e) => ({
  text: e.querySelector('.text').textContent, tag: e.querySelector('.tag')?.textContent ?? '' })));

async function waitIdle(timeout = 240000) {
  await page.waitForFunction(() => !window.hearthApp.reply, null, { timeout });
  assert.equal(await errorText(), '', logs.join('\n'));
}

async function setSettings(values) {
  if (!(await page.isVisible('#maxTokens'))) await page.click('#settings summary');
  for (const [id, v] of Object.entries(values)) await page.fill(`#${id}`, String(v));
}

async function send(text) {
  await page.fill('#prompt', text);
  await page.click('#send');
  await page.waitForFunction(() => window.hearthApp.reply, null, { timeout: 10000 }).catch(() => {});
}

async function loadBundled() {
  await tab('models');
  await page.click('#gallery [data-model="pycoder-6m"] button');
  await page.waitForFunction(() => window.hearthApp.model || !document.getElementById('error').hidden, null,
    { timeout: 240000 });
  assert.equal(await errorText(), '', logs.join('\n'));
}

test('the weight cache stores, lists, checks and deletes entries in every browser backend, and in a worker', { skip }, async () => {
  const r = await page.evaluate(async () => {
    const { openWeightCache } = await import('/web/src/cache.mjs');
    const out = {};
    const bytes = new Uint8Array(1_500_000).map((_, i) => (i * 2654435761) >>> 24);
    for (const backend of ['opfs', 'cache', 'idb']) {
      const c = await openWeightCache({ backend, name: `hearth-test-${backend}` });
      await c.put('k1', bytes, { label: `test entry (${backend})` });
      const hit = await c.get('k1');
      const same = hit.bytes.length === bytes.length && hit.bytes.every((b, i) => b === bytes[i]);
      const listed = (await c.list()).map((e) => [e.key, e.bytes]);
      await c.store.write('k1.bin', bytes.subarray(0, 1000));  // a damaged entry
      const damaged = await c.get('k1');
      out[backend] = { same, listed, damaged, problem: c.problems[0], after: (await c.list()).length };
    }
    // OPFS through sync access handles, in a worker.
    const w = new Worker('/web/test/browser/cache_worker.mjs', { type: 'module' });
    out.worker = await new Promise((res) => { w.onmessage = (e) => res(e.data); w.onerror = (e) => res({ error: e.message }); });
    w.terminate();
    // An entry for the page's own list (the default cache).
    await (await openWeightCache()).put('page-entry', bytes.subarray(0, 250_000), { label: 'listed model' });
    return out;
  });
  for (const b of ['opfs', 'cache', 'idb']) {
    assert.deepEqual(r[b], { same: true, listed: [['k1', 1_500_000]], damaged: null,
      problem: `test entry (${b}): 1000 bytes stored, 1500000 expected; entry removed`, after: 0 }, b);
  }
  assert.deepEqual(r.worker, { backend: 'opfs', same: true, listed: 1, deleted: true, sync: true }, JSON.stringify(r.worker));
  await page.reload();
  await tab('models');
  await page.waitForSelector('#cache-list li');
  assert.match(await page.textContent('#cache-list li'), /listed model\s*250 kB/);
  await page.click('#cache-list li button');
  await page.waitForFunction(() => !document.querySelector('#cache-list li'));
  assert.match(await page.textContent('#cache-note'), /origin private file system: 0 models/);
});

test('the JS API in a worker: reference greedy ids, engine errors as Errors, aborts that reach the worker', { skip }, async () => {
  const ref = JSON.parse(readFileSync(resolve(modelDir, 'reference.json'), 'utf8')).greedy[0];
  const r = await page.evaluate(async (ref) => {
    const { loadModel } = await import('/web/src/hearth.mjs');
    const out = {};
    const phases = new Set();
    const m = await loadModel('/models/pycoder-6m/', { backend: 'cpu', maxCtx: 128, onProgress: (e) => phases.add(e.phase) });
    out.worker = m.worker === true;
    out.phases = [...phases];
    out.ids = (await m.complete(ref.prompt_ids, { maxTokens: 8, temperature: 0, stopIds: [-1] })).ids;
    out.encoded = await m.encode(ref.prompt);
    const err = await m.complete([1, 2], { temperature: -1 }).catch((e) => e);
    out.error = [err instanceof Error, err.message];
    out.afterError = (await m.complete(ref.prompt_ids, { maxTokens: 2, temperature: 0, stopIds: [-1] })).ids;
    const ctl = new AbortController();
    const s = m.generate(ref.prompt_ids, { maxTokens: 120, temperature: 0, stopIds: [-1], signal: ctl.signal });
    let n = 0;
    for await (const t of s) if (t.id >= 0 && ++n === 2) ctl.abort();
    const res = await s.result;
    out.aborted = [res.aborted, res.ids.length];
    // Fine-tuning through the worker: step records, the adapter resident at once, its files.
    const run = m.finetune({ text: 'def add(a, b):\n    return a + b\n'.repeat(40), steps: 4, batch: 2, seq: 32, rank: 4,
      targets: 'q_proj,v_proj', adapterName: 'ft' });
    const records = [];
    for await (const rec of run) records.push(rec);
    out.finetune = { steps: records.map((x) => x.step), summary: await run.result,
      files: Object.keys(await run.save()).sort(), adapted: (await m.complete(ref.prompt_ids,
        { maxTokens: 8, temperature: 0, stopIds: [-1], adapter: 'ft' })).ids.length };
    await m.dispose();
    out.disposed = await m.encode('x').catch((e) => e.message);
    const missing = await loadModel('/models/no-such-model/', { backend: 'cpu' }).catch((e) => e.message);
    out.missing = missing;
    const ctl2 = new AbortController();
    const p = loadModel('/models/pycoder-6m/', { backend: 'cpu', signal: ctl2.signal });
    ctl2.abort();
    out.loadAbort = await p.then(() => 'loaded', (e) => `${e.name}: ${e.message}`);
    // The weight cache through loadModel (IndexedDB here; the app's loads use OPFS): a miss
    // stores the pack, the next load takes it, a damaged entry is dropped and the files read.
    const cache = { backend: 'idb', name: 'hearth-api-test' };
    const greedy = async (opts) => {
      const mm = await loadModel('/models/pycoder-6m/', { backend: 'cpu', maxCtx: 64, cache, ...opts });
      const ids = (await mm.complete(ref.prompt_ids, { maxTokens: 8, temperature: 0, stopIds: [-1] })).ids;
      await mm.dispose();
      return { ids, cache: mm.info.cache, notes: mm.notes };
    };
    out.cached = [await greedy(), await greedy()];
    const { openWeightCache } = await import('/web/src/cache.mjs');
    const c = await openWeightCache(cache);
    const [entry] = await c.list();
    const bin = (await c.store.read(`${entry.key}.bin`)).slice();
    bin[bin.length >> 1] ^= 1;
    await c.store.write(`${entry.key}.bin`, bin);
    out.cached.push(await greedy());
    out.entries = (await c.list()).map((e) => [e.key === entry.key, e.meta.label]);
    return out;
  }, ref);
  assert.ok(r.worker);
  assert.deepEqual(r.phases, ['download', 'read', 'ready']);
  assert.deepEqual(r.ids, ref.greedy.slice(0, 8));
  assert.deepEqual(r.encoded, ref.prompt_ids);
  assert.equal(r.error[0], true);
  assert.match(r.error[1], /^hearth: temperature: -1(\.0+)? is outside \[0/);
  assert.deepEqual(r.afterError, ref.greedy.slice(0, 2));
  assert.equal(r.aborted[0], true);
  assert.ok(r.aborted[1] >= 2 && r.aborted[1] < 120, `${r.aborted[1]} tokens after the abort`);
  assert.equal(r.disposed, 'hearth: the model was disposed');
  assert.match(r.missing, /^hearth: http:\/\/127\.0\.0\.1:\d+\/models\/no-such-model\/config\.json: HTTP 404$/);
  assert.equal(r.loadAbort, 'AbortError: hearth: loading was cancelled');
  assert.deepEqual(r.finetune.steps, [0, 1, 2, 3]);
  assert.equal(r.finetune.summary.stepsDone, 4);
  assert.deepEqual(r.finetune.files, ['adapter_config.json', 'adapter_model.safetensors']);
  assert.equal(r.finetune.adapted, 8);
  const [miss, hit, damaged] = r.cached;
  assert.deepEqual([miss.cache.hit, hit.cache.hit, damaged.cache.hit], [false, true, false]);
  for (const x of r.cached) assert.deepEqual(x.ids, ref.greedy.slice(0, 8));
  assert.ok(miss.cache.bytes > 1e6 && hit.cache.bytes === miss.cache.bytes && hit.cache.key === miss.cache.key);
  assert.match(damaged.notes.join('\n'), /weight cache: pycoder-6m f32: SHA-256 mismatch; entry removed/);
  assert.deepEqual(r.entries, [[true, 'pycoder-6m f32']], 'the damaged entry is written again');
});

async function loadOptions() {
  await tab('models');
  await page.selectOption('#dtype', 'int8');
  await page.selectOption('#backend', 'webgpu');
  await page.fill('#maxCtx', '128');
  await page.fill('#maxPrefillT', '4');
}

test('the bundled model loads from the gallery in a worker, with a progress bar, while the page stays responsive', { skip }, async () => {
  await loadOptions();
  await page.evaluate(() => {
    window.__phases = [];
    new MutationObserver(() => {
      const p = document.getElementById('progress').dataset.phase;
      if (!document.getElementById('progress').hidden && window.__phases.at(-1) !== p) window.__phases.push(p);
    }).observe(document.getElementById('progress'), { attributes: true, subtree: true, childList: true });
    window.__gap = 0;
    let last = performance.now();
    window.__ticker = setInterval(() => {
      const now = performance.now();
      window.__gap = Math.max(window.__gap, now - last);
      last = now;
    }, 20);
  });
  const t0 = Date.now();
  await loadBundled();
  const loadSeconds = (Date.now() - t0) / 1e3;
  const s = await page.evaluate(() => {
    clearInterval(window.__ticker);
    const m = window.hearthApp.model;
    return { phases: window.__phases, gap: window.__gap, worker: m.worker === true, backend: m.info.backend,
      engine: m.info.load_seconds, cache: m.info.cache };
  });
  Object.assign(firstLoad, { wall: loadSeconds, engine: s.engine });
  console.log(`first load: ${loadSeconds.toFixed(1)} s (engine ${s.engine.toFixed(2)} s) on ${s.backend}; `
    + `phases ${s.phases.join(' > ')}; longest main-thread stall ${s.gap.toFixed(0)} ms`);
  assert.equal(s.cache.hit, false);
  assert.equal(s.cache.backend, 'opfs');
  assert.ok(s.worker, 'the engine runs in a worker');
  assert.match(s.backend, /^webgpu/);
  for (const p of ['download', 'read', 'compile']) assert.ok(s.phases.includes(p), `no ${p} phase in ${s.phases}`);
  assert.ok(s.gap < 1500, `the main thread stalled for ${s.gap.toFixed(0)} ms during the load`);
  assert.match(await page.textContent('#model-card'), /Parameters\s*6\.8 M/);
  assert.match(await page.textContent('#model-pill'), /pycoder-6m · int8 · webgpu/);
  await tab('models');
  await page.waitForSelector('#cache-list li');
  assert.match(await page.textContent('#cache-list'), /pycoder-6m int8\s*\d+\.\d MB/);
});

test('chat streams a reply, stop ends one, and the next turn reuses the KV cache', { skip }, async () => {
  await tab('chat');
  await setSettings({ temperature: 0, repetitionPenalty: 1, maxTokens: 5 });
  await page.evaluate(() => {
    window.__updates = 0;
    new MutationObserver(() => { window.__updates++; })
      .observe(document.getElementById('messages'), { characterData: true, childList: true, subtree: true });
  });
  await send('def add(a, b):');
  await waitIdle();
  const updates = await page.evaluate(() => window.__updates);
  const [first] = await replies();
  firstReply = first.text;
  assert.ok(first.text.length > 0, 'an empty reply');
  assert.ok(updates >= 4, `the reply arrived in ${updates} DOM updates, not streamed`);
  const stats1 = await page.$eval('#chat-stats', (e) => ({ ...e.dataset, text: e.textContent }));
  assert.equal(stats1.cached, '0');
  await send('def sub(a, b):');
  await waitIdle();
  const stats2 = await page.$eval('#chat-stats', (e) => ({ ...e.dataset, text: e.textContent }));
  console.log(`turn 1: ${stats1.text}\nturn 2: ${stats2.text}`);
  assert.ok(Number(stats2.cached) > Number(stats2.prefill),
    `turn 2 prefilled ${stats2.prefill} tokens with only ${stats2.cached} from the cache`);
  assert.match(stats2.text, /tok\/s · prefill \d+ \(\d+ cached\) · context \d+ \/ 128/);
  await setSettings({ maxTokens: 100 });
  await send('class Stack:');
  await page.waitForFunction(() => document.querySelector('.msg.streaming .text')?.textContent.length > 0, null,
    { timeout: 120000 });
  await page.click('#stop');
  await waitIdle(60000);
  const stopped = (await replies()).at(-1);
  assert.match(stopped.tag, /stopped/);
});

test('an adapter added on the Adapters tab changes the reply; clearing it gives the base reply back exactly', { skip }, async () => {
  await page.click('#new-chat');
  await setSettings({ temperature: 0, repetitionPenalty: 1, maxTokens: 6 });
  await send('import os');
  await waitIdle();
  const baseReply = (await replies())[0].text;
  await tab('adapters');
  await page.setInputFiles('#adapter-folder', loraDir);
  await page.waitForSelector('#adapter-list input[value="lora-qv"]');
  assert.equal(await errorText(), '');
  assert.ok(await page.isChecked('#adapter-list input[value="lora-qv"]'));
  assert.match(await page.textContent('#adapter-list'), /lora-qv\s*rank 4 · alpha 8 · q_proj, v_proj/);
  await shot('adapters');
  await tab('chat');
  await page.click('#regenerate');
  await waitIdle();
  const adapted = (await replies())[0];
  assert.notEqual(adapted.text, baseReply, 'the adapter did not change the reply');
  assert.match(adapted.tag, /adapter lora-qv ×1/);
  await tab('adapters');
  await page.check('#adapter-list input[value=""]');
  await tab('chat');
  await page.click('#regenerate');
  await waitIdle();
  const cleared = (await replies())[0];
  assert.equal(cleared.text, baseReply);
  assert.equal(cleared.tag, 'max tokens (6)');
  console.log(`base: ${JSON.stringify(baseReply)}; with lora-qv: ${JSON.stringify(adapted.text)}`);
});

test('wrong folders get a red error naming the folder and the missing file', { skip }, async () => {
  await tab('models');
  await page.setInputFiles('#model-folder', loraDir);
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await errorText(), /^lora-qv: config\.json is missing \(a model folder holds config\.json, model\.safetensors/);
  assert.match(await errorText(), /this is a LoRA adapter: add it on the Adapters tab/);
  assert.equal(await page.$eval('#error', (e) => getComputedStyle(e).color), 'rgb(176, 0, 32)');
  assert.ok(await page.evaluate(() => !!window.hearthApp.model), 'the loaded model is kept');
  await shot('wrong-model-folder');
  await page.click('#error-close');
  await tab('adapters');
  await page.setInputFiles('#adapter-folder', modelDir);
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await errorText(), /^pycoder-6m: adapter_config\.json is missing .*this is a model: load it on the Models tab/);
  await shot('wrong-adapter-folder');
  await page.click('#error-close');
  // Loose files dropped on the model drop zone: a config without weights.
  await tab('models');
  await page.evaluate((config) => {
    const dt = new DataTransfer();
    dt.items.add(new File([config], 'config.json', { type: 'application/json' }));
    const drop = document.getElementById('model-drop');
    drop.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    drop.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, readFileSync(resolve(modelDir, 'config.json'), 'utf8'));
  await page.waitForSelector('#error:not([hidden])');
  assert.match(await errorText(), /^dropped files: model\.safetensors is missing/);
  await page.click('#error-close');
});

test('Load during a reply stops the reply with a message, then loads', { skip }, async () => {
  await tab('chat');
  await setSettings({ maxTokens: 100 });
  await send('def main():');
  await page.waitForFunction(() => document.querySelector('.msg.streaming .text')?.textContent.length > 0, null,
    { timeout: 120000 });
  await tab('models');
  await page.evaluate(() => { window.__oldModel = window.hearthApp.model; });
  await page.click('#gallery [data-model="pycoder-6m"] button');
  await page.waitForFunction(() => /Stopped the reply to load pycoder-6m/.test(document.getElementById('notice').textContent),
    null, { timeout: 30000 });
  // The reply ends first (the tokens already under way on the GPU finish), then the new load.
  await page.waitForFunction(() => (window.hearthApp.model && window.hearthApp.model !== window.__oldModel)
    || !document.getElementById('error').hidden, null, { timeout: 240000 });
  assert.equal(await errorText(), '', logs.join('\n'));
  await tab('chat');
  assert.match((await replies()).at(-1).tag, /stopped/);
  assert.ok(!(await page.isDisabled('#send')), 'chat is usable after the reload');
});

test('after a page reload the bundled model comes from the weight cache: faster, the same reply', { skip }, async () => {
  await page.reload();
  await loadOptions();
  await page.evaluate(() => {
    window.__phases = [];
    new MutationObserver(() => {
      const p = document.getElementById('progress').dataset.phase;
      if (!document.getElementById('progress').hidden && window.__phases.at(-1) !== p) window.__phases.push(p);
    }).observe(document.getElementById('progress'), { attributes: true, subtree: true, childList: true });
  });
  const t0 = Date.now();
  await loadBundled();
  const wall = (Date.now() - t0) / 1e3;
  const s = await page.evaluate(() => ({ phases: window.__phases, info: window.hearthApp.model.info }));
  console.log(`cached load: ${wall.toFixed(1)} s (engine ${s.info.load_seconds.toFixed(2)} s), first load `
    + `${firstLoad.wall.toFixed(1)} s (engine ${firstLoad.engine.toFixed(2)} s); pack ${(s.info.cache.bytes / 1e6).toFixed(1)} MB; `
    + `phases ${s.phases.join(' > ')}`);
  assert.equal(s.info.cache.hit, true);
  assert.ok(s.phases.includes('cache') && !s.phases.includes('download'), `phases ${s.phases}`);
  assert.ok(wall < firstLoad.wall / 2, `the cached load took ${wall.toFixed(1)} s, the first ${firstLoad.wall.toFixed(1)} s`);
  assert.match(await page.textContent('#model-card'), /from the weight cache/);
  await tab('chat');
  await setSettings({ temperature: 0, repetitionPenalty: 1, maxTokens: 5 });
  await send('def add(a, b):');
  await waitIdle();
  assert.equal((await replies())[0].text, firstReply);
});

test('a folder opened from disk loads (BYO); without tokenizer.json the chat says it cannot run', { skip }, async () => {
  await tab('models');
  await page.selectOption('#backend', 'cpu');
  await page.evaluate(() => { window.__oldModel = window.hearthApp.model; });
  await page.setInputFiles('#model-folder', resolve(fixtures, 'qwen2-tiny'));
  await page.waitForFunction(() => (window.hearthApp.model && window.hearthApp.model !== window.__oldModel)
    || !document.getElementById('error').hidden, null, { timeout: 120000 });
  assert.equal(await errorText(), '', logs.join('\n'));
  assert.match(await page.textContent('#model-card'), /qwen2-tiny.*Backend\s*cpu.*Tokenizer\s*none \(chat is not possible\)/s);
  await tab('chat');
  await page.click('#new-chat');
  assert.match(await page.textContent('#chat-empty'), /qwen2-tiny has no tokenizer\.json: chat needs one/);
  assert.ok(await page.isDisabled('#send'));
  assert.ok(await page.isDisabled('#regenerate'));
});

test('the train tab trains a tiny model from scratch: the loss falls, the model chats and goes to the gallery', { skip }, async () => {
  await tab('models');
  await page.selectOption('#backend', 'cpu');
  await tab('train');
  await page.setInputFiles('#corpus-files', [resolve(repoRoot, 'tools/gen_unicode_tables.py'),
    resolve(repoRoot, 'tools/make_random_adapter.py')]);
  await page.selectOption('#train-mode', 'scratch');
  await page.selectOption('#train-preset', 'tiny');
  for (const [id, v] of Object.entries({ 'train-steps': 40, 'train-lr': 0.01, 'train-seq': 32, 'train-batch': 4 })) {
    await page.fill(`#${id}`, String(v));
  }
  const t0 = Date.now();
  await page.click('#train-start');
  await page.waitForFunction(() => !document.getElementById('train-result').hidden || !document.getElementById('error').hidden,
    null, { timeout: 180000 });
  assert.equal(await errorText(), '', logs.join('\n'));
  const losses = await page.evaluate(() => window.hearthApp.training.records.map((r) => r.loss));
  const mean = (a) => a.reduce((x, y) => x + y, 0) / a.length;
  console.log(`training: 40 steps in ${((Date.now() - t0) / 1e3).toFixed(1)} s; loss ${losses[0].toFixed(3)} -> `
    + `${losses.at(-1).toFixed(3)}`);
  assert.equal(losses.length, 40);
  assert.ok(mean(losses.slice(-5)) < 0.8 * mean(losses.slice(0, 5)), `the loss did not fall: ${losses.map((l) => l.toFixed(2))}`);
  await shot('train');
  await page.click('#train-save');
  await page.waitForSelector('#saved-models [data-saved="trained-tiny-1"]', { state: 'attached' });
  await page.evaluate(() => { window.__oldModel = window.hearthApp.model; });
  await page.click('#train-chat');
  await page.waitForFunction(() => (window.hearthApp.model && window.hearthApp.model !== window.__oldModel)
    || !document.getElementById('error').hidden, null, { timeout: 60000 });
  assert.equal(await errorText(), '', logs.join('\n'));
  assert.match(await page.textContent('#model-pill'), /trained-tiny-1 · (f32|int8) · cpu/);
  await page.click('#new-chat');
  await setSettings({ temperature: 0, repetitionPenalty: 1, maxTokens: 8 });
  await send('def main():');
  await waitIdle();
  const reply = (await replies())[0];
  assert.ok(reply.text.length > 0, 'the trained model said nothing');
  assert.match(await page.textContent('#saved-models'), /trained-tiny-1.*Trained in this page: 40 steps on 2 files, final loss/s);
});

test('the page fits a 360 px wide screen on every tab', { skip }, async () => {
  await page.setViewportSize({ width: 360, height: 740 });
  for (const t of ['chat', 'models', 'adapters', 'train']) {
    await tab(t);
    const w = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(w <= 360, `the ${t} tab is ${w} px wide at 360`);
    await shot(`narrow-${t}`);
  }
  await page.setViewportSize({ width: 1000, height: 760 });
});

test('no request left the page\'s origin', { skip }, () => {
  assert.deepEqual(offOrigin, []);
});
