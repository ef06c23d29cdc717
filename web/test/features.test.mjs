// Prefix reuse and structured output through the JS API, on the wasm CPU backend and on WebGPU
// (Dawn on SwiftShader in CI): a request sharing a prefix with the previous one prefills only the
// rest and gives the reference tokens; responseFormat output parses and validates (ajv) and is
// the same on the GPU (mask applied on the device) as on the CPU.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { after, describe, test } from 'node:test';

import Ajv from 'ajv';

import { loadModel, shutdown } from '../src/hearth.mjs';
import { buildFile, repoRoot, sharedBridge } from './helpers.mjs';

const wasmUrl = buildFile('hearth_engine.cjs');
const { bridge, reason } = await sharedBridge();
const dir = resolve(repoRoot, 'models/pycoder-6m');
const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));
const never = [-1];

after(shutdown);

const load = (backend) => loadModel(dir, { wasmUrl, gpu: globalThis.navigator?.gpu, backend, dtype: 'f32', maxCtx: 256,
  maxPrefillT: backend === 'webgpu' ? 4 : 64 });

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 10 },
    kind: { enum: ['def', 'class'] },
    n: { type: 'integer', minimum: 0, maximum: 20 },
    tags: { type: 'array', items: { type: 'string', maxLength: 4 }, maxItems: 2 },
  },
  required: ['name', 'kind', 'n'],
};
const validate = new Ajv().compile(schema);

for (const backend of ['cpu', 'webgpu']) {
  describe(`${backend}: prefix reuse and structured output`, { skip: backend === 'webgpu' && !bridge ? reason : false }, () => {
    let model;
    const g = ref.greedy[0];
    test('a continuation reuses the cached prefix and gives the reference tokens', async () => {
      model ??= await load(backend);
      const a = await model.complete(g.prompt_ids, { maxTokens: 12, temperature: 0, stopIds: never });
      assert.deepEqual(a.ids, g.greedy.slice(0, 12));
      assert.equal(a.stats.reused_tokens, 0);
      const p = [...g.prompt_ids, ...g.greedy.slice(0, 20)];
      const b = await model.complete(p, { maxTokens: 12, temperature: 0, stopIds: never });
      assert.equal(b.stats.reused_tokens, g.prompt_ids.length + 11);
      assert.deepEqual(b.ids, g.greedy.slice(20, 32));
      const c = await model.complete(p, { maxTokens: 12, temperature: 0, stopIds: never, reusePrefix: false });
      assert.equal(c.stats.reused_tokens, 0);
      assert.deepEqual(c.ids, b.ids);
    });
    test('responseFormat json_schema: the output validates', async () => {
      for (const opts of [{ temperature: 0 }, { temperature: 1, seed: 3 }]) {
        const r = await model.complete('# config\nx = ', { maxTokens: 120, responseFormat: { type: 'json_schema', schema }, ...opts });
        const v = JSON.parse(r.text);
        assert.ok(validate(v), `${r.text}: ${JSON.stringify(validate.errors)}`);
      }
    });
    test('bad responseFormat: a named error', async () => {
      await assert.rejects(model.complete('x', { responseFormat: { type: 'json_schema', schema: { type: 'string', pattern: 'a' } } }),
        /responseFormat: json schema: "pattern"/);
      await assert.rejects(model.complete('x', { responseFormat: { type: 'yaml' } }), /responseFormat.type: "yaml"/);
      if (backend === 'webgpu') await model.dispose();
    });
  });
}

describe('structured output: WebGPU (mask on the device) gives the wasm CPU backend\'s tokens', { skip: bridge ? false : reason }, () => {
  test('greedy under a schema and under a grammar', async () => {
    const gpu = await load('webgpu');
    const cpu = await load('cpu');
    const grammar = 'root ::= "def " [a-z_]{1,12} "(" [a-z]{0,6} "):"';
    for (const responseFormat of [{ type: 'json_schema', schema }, { type: 'grammar', grammar }]) {
      const opts = { maxTokens: 60, temperature: 0, responseFormat };
      const [a, b] = [await gpu.complete('import os\n', opts), await cpu.complete('import os\n', opts)];
      assert.deepEqual(a.ids, b.ids);
      if (responseFormat.type === 'grammar') assert.match(a.text, /^def [a-z_]{1,12}\([a-z]{0,6}\):$/);
    }
    await gpu.dispose();
    await cpu.dispose();
  });
});
