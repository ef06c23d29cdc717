// Load progress (loadModel's onProgress) through the wasm engine on its CPU backend: a model
// fetched by URL reports its files' bytes up to their real sizes, then every matrix the engine
// converts, then ready; a folder mounted from disk reports the matrices.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { resolve } from 'node:path';
import { after, test } from 'node:test';

import { loadModel, shutdown } from '../src/hearth.mjs';
import { buildFile, repoRoot } from './helpers.mjs';

const wasmUrl = buildFile('hearth_engine.cjs');
const dir = resolve(repoRoot, 'models/pycoder-6m');
after(shutdown);

// pycoder-6m: tied embeddings (one matrix) and 7 per layer, 6 layers.
const MATRICES = 1 + 7 * 6;

test('a model fetched by URL reports bytes, then matrices, then ready', async () => {
  const server = createServer((req, res) => {
    const file = resolve(dir, `.${new URL(req.url, 'http://x').pathname.replace(/^\/m/, '')}`);
    try {
      const b = readFileSync(file);
      res.writeHead(200, { 'content-length': b.length }).end(b);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const events = [];
  try {
    const m = await loadModel(`http://127.0.0.1:${server.address().port}/m/`, { wasmUrl, backend: 'cpu', worker: false,
      maxCtx: 64, onProgress: (e) => events.push(e) });
    await m.dispose();
  } finally {
    server.close();
  }
  const phases = events.map((e) => e.phase).filter((p, i, a) => p !== a[i - 1]);
  assert.deepEqual(phases, ['download', 'read', 'ready']);
  const dl = events.filter((e) => e.phase === 'download');
  const sizes = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'model.safetensors']
    .reduce((n, f) => n + statSync(resolve(dir, f)).size, 0);
  assert.ok(dl.every((e, i) => e.unit === 'bytes' && e.done <= e.total && (i === 0 || e.done >= dl[i - 1].done)));
  assert.equal(dl.at(-1).done, sizes);
  assert.equal(dl.at(-1).total, sizes);
  assert.ok(dl.some((e) => e.file === 'model.safetensors' && e.done < e.total), 'model.safetensors arrived in one piece');
  const read = events.filter((e) => e.phase === 'read');
  assert.ok(read.every((e, i) => i === 0 || e.done > read[i - 1].done), 'matrices done must rise');
  assert.equal(read.at(-1).done, MATRICES);
  assert.ok(read.every((e) => e.total === MATRICES && e.unit === 'matrices'));
  assert.deepEqual(events.at(-1), { phase: 'ready', done: 1, total: 1, unit: 'steps', message: 'ready' });
});

test('a folder on disk reports matrices and ready; a throwing onProgress does not break the load', async () => {
  const events = [];
  const m = await loadModel(dir, { wasmUrl, backend: 'cpu', worker: false, maxCtx: 64,
    onProgress: (e) => { events.push(e.phase); if (e.phase === 'read') throw new Error('observer bug'); } });
  const r = await m.complete('def', { maxTokens: 2, temperature: 0 });
  await m.dispose();
  assert.equal(r.ids.length, 2);
  assert.ok(events.filter((p) => p === 'read').length > 6, 'matrices reported');
  assert.equal(events.at(-1), 'ready');
});
