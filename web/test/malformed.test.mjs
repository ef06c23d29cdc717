// The malformed-input corpus (tests/malformed/make_cases.py) through the JS API, in one
// process on the wasm CPU backend: each case's command line is read as web/bin/hearth.mjs reads
// it (parseCommandLine), then loadModel / loadAdapter / generate run it. A case the manifest
// expects to fail must throw an Error whose message holds the text the native CLI's does
// (naming the file, tensor or option); an accepted one must warn with it. Commands and flags
// the Node CLI does not have (perplexity, --chat, --chat-template) are left to the native run.
// At the end the engine that saw every failure loads a model and gives its reference ids.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, test } from 'node:test';

import { parseCommandLine } from '../bin/hearth.mjs';
import { loadModel } from '../src/hearth.mjs';
import { buildFile, fixtures, repoRoot } from './helpers.mjs';

const wasmUrl = buildFile('hearth_engine.cjs');
const bundled = resolve(repoRoot, 'models/pycoder-6m');
const dir = mkdtempSync(join(tmpdir(), 'hearth-malformed-'));
after(() => rmSync(dir, { recursive: true, force: true }));
execFileSync('python3', [resolve(repoRoot, 'tests/malformed/make_cases.py'), dir, fixtures, bundled]);
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));

const nodeOnly = (args) => args[0] === 'generate' && !args.some((a) => ['--chat', '--chat-template'].includes(a));
const PATH_FLAGS = new Set(['-m', '--model', '--adapter']);

// Runs one case; resolves to the Error it ended in (or null) and what it warned.
async function runCase(args) {
  const seen = [];
  const warn = console.warn;
  console.warn = (...a) => seen.push(a.join(' '));
  let error = null;
  let model = null;
  try {
    const cmd = parseCommandLine(args.map((a, i) => (i > 0 && PATH_FLAGS.has(args[i - 1]) ? resolve(dir, a) : a)));
    model = await loadModel(cmd.model, { ...cmd.load, backend: 'cpu', wasmUrl });
    if (cmd.adapter !== undefined) await model.loadAdapter('adapter', cmd.adapter);
    await model.complete(cmd.prompt, cmd.generate);
  } catch (e) {
    error = e;
  } finally {
    console.warn = warn;
    await model?.dispose();
  }
  return { error, warned: seen.join('\n') };
}

describe('the malformed-input corpus through the JS API', () => {
  const start = Date.now();
  for (const c of manifest) {
    const skip = nodeOnly(c.args) ? false : 'a native CLI command or flag (perplexity, --chat, --chat-template)';
    test(c.case, { skip }, async () => {
      const { error, warned } = await runCase(c.args);
      if (c.status === 2) {
        assert.ok(error instanceof Error, `expected an Error, got ${error}`);
        assert.ok(error.message.includes(c.expect), `"${error.message}" does not hold "${c.expect}"`);
      } else {
        assert.equal(error, null, error?.message);
        assert.ok(warned.includes(c.expect), `warnings "${warned}" do not hold "${c.expect}"`);
      }
    });
  }
  test('afterwards the same engine loads a model and gives its reference ids', async () => {
    const ref = JSON.parse(readFileSync(resolve(bundled, 'reference.json'), 'utf8')).greedy[2];
    const model = await loadModel(bundled, { backend: 'cpu', wasmUrl });
    const r = await model.complete(ref.prompt_ids, { maxTokens: 16, temperature: 0, stopIds: [-1] });
    assert.deepEqual(r.ids, ref.greedy.slice(0, 16));
    await model.dispose();
    console.log(`malformed corpus through the JS API: ${((Date.now() - start) / 1000).toFixed(1)} s`);
  });
});
