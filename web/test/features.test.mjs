// Prefix reuse and structured output through the JS API, on the wasm CPU backend and on WebGPU
// (Dawn on SwiftShader in CI): a request sharing a prefix with the previous one prefills only the
// rest and gives the reference tokens; responseFormat output parses and validates (ajv), and on
// the GPU (mask applied on the device) it is the CPU's output token for token.
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

const load = (backend) => loadModel(dir, { wasmUrl, gpu: globalThis.navigator?.gpu, backend, dtype: 'f32', maxCtx: 64,
  maxPrefillT: backend === 'webgpu' ? 4 : 64 });

const schema = {
  type: 'object',
  properties: {
    kind: { enum: ['def', 'class'] },
    n: { type: 'integer', minimum: 0, maximum: 20 },
    tag: { type: 'string', maxLength: 4 },
  },
  required: ['kind', 'n'],
};
const validate = new Ajv().compile(schema);
const grammar = 'root ::= "def " [a-z_]{1,8} "(" [a-z]{0,4} "):"';

// A continuation of reference prompt 0 reuses the cached prefix and gives the reference tokens.
async function checkPrefixReuse(model) {
  const g = ref.greedy[0];
  const a = await model.complete(g.prompt_ids, { maxTokens: 8, temperature: 0, stopIds: never });
  assert.deepEqual(a.ids, g.greedy.slice(0, 8));
  assert.equal(a.stats.reused_tokens, 0);
  const p = [...g.prompt_ids, ...g.greedy.slice(0, 16)];
  const b = await model.complete(p, { maxTokens: 8, temperature: 0, stopIds: never });
  assert.equal(b.stats.reused_tokens, g.prompt_ids.length + 7);
  assert.deepEqual(b.ids, g.greedy.slice(16, 24));
  const c = await model.complete(p, { maxTokens: 8, temperature: 0, stopIds: never, reusePrefix: false });
  assert.equal(c.stats.reused_tokens, 0);
  assert.deepEqual(c.ids, b.ids);
}

function checkJson(text) {
  const v = JSON.parse(text);
  assert.ok(validate(v), `${text}: ${JSON.stringify(validate.errors)}`);
}

describe('wasm CPU backend', () => {
  let cpu;
  test('prefix reuse', async () => {
    cpu = await load('cpu');
    await checkPrefixReuse(cpu);
  });
  test('responseFormat json_schema (greedy and sampled) and grammar', async () => {
    for (const opts of [{ temperature: 0 }, { temperature: 1, seed: 3 }]) {
      checkJson((await cpu.complete('x = ', { maxTokens: 60, responseFormat: { type: 'json_schema', schema }, ...opts })).text);
    }
    const r = await cpu.complete('import os\n', { maxTokens: 30, temperature: 0, responseFormat: { type: 'grammar', grammar } });
    assert.match(r.text, /^def [a-z_]{1,8}\([a-z]{0,4}\):$/);
  });
  test('bad responseFormat: a named error', async () => {
    await assert.rejects(cpu.complete('x', { responseFormat: { type: 'json_schema', schema: { type: 'string', pattern: 'a' } } }),
      /responseFormat: json schema: "pattern"/);
    await assert.rejects(cpu.complete('x', { responseFormat: { type: 'yaml' } }), /responseFormat.type: "yaml"/);
  });

  // SwiftShader is slow (one submission per token here, ~1 s per pipeline compiled): short
  // outputs, the CPU model of the tests above as the reference.
  describe('WebGPU', { skip: bridge ? false : reason }, () => {
    test('structured output with the mask on the device: the CPU\'s tokens, valid JSON; prefix reuse', async () => {
      const gpu = await load('webgpu');
      assert.match(gpu.info.backend, /^webgpu/);
      const small = { type: 'object', properties: { kind: { enum: ['def', 'class'] }, n: { type: 'integer', minimum: 0, maximum: 9 } },
        required: ['kind', 'n'] };
      const prompt = await gpu.encode('x = ');
      for (const responseFormat of [{ type: 'json_schema', schema: small }, { type: 'grammar', grammar }]) {
        const opts = { maxTokens: 24, temperature: 0, responseFormat };
        const [a, b] = [await gpu.complete(prompt, opts), await cpu.complete(prompt, opts)];
        assert.deepEqual(a.ids, b.ids);
        if (responseFormat.type === 'json_schema') assert.ok(validate(JSON.parse(a.text)), a.text);
        else assert.equal(a.stats.reused_tokens, prompt.length - 1);  // the same prompt again
      }
      // Sampled on the device: the device sampler picks among the unmasked tokens.
      const s = await gpu.complete(prompt, { maxTokens: 24, temperature: 1, seed: 5, responseFormat: { type: 'json_schema', schema: small } });
      const v = JSON.parse(s.text);
      assert.ok(['def', 'class'].includes(v.kind) && Number.isInteger(v.n) && v.n >= 0 && v.n <= 9, s.text);
      await gpu.dispose();
      await cpu.dispose();
    });
  });
});
