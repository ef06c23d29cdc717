// The chat API (src/chat.mjs) through the wasm engine on its CPU backend: model.chat streams
// OpenAI-shaped chunks whose second turn reuses the first's KV cache yet says exactly what a
// fresh model says; templates, stop strings, aborts, the context's room; the engine's prefix
// reuse keeps to one adapter and scale (the fixtures' reference greedy ids with and without).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import { loadModel, shutdown } from '../src/hearth.mjs';
import { buildFile, fixtures, repoRoot } from './helpers.mjs';

const wasmUrl = buildFile('hearth_engine.cjs');
const load = (dir, opts) => loadModel(dir, { wasmUrl, backend: 'cpu', worker: false, ...opts });
after(shutdown);
const started = Date.now();
after(() => console.log(`chat tests: ${((Date.now() - started) / 1e3).toFixed(1)} s`));

describe('qwen2-tiny (f32, no tokenizer) against the reference greedy ids', () => {
  const dir = resolve(fixtures, 'qwen2-tiny');
  const ref = JSON.parse(readFileSync(resolve(dir, 'reference.json'), 'utf8'));
  const base = ref.cases.find((c) => c.adapter === null && c.prompt.length === 7);
  const lora = ref.cases.find((c) => c.adapter === 'lora-all' && c.prompt.length === 7);
  const never = [-1];
  let model;
  before(async () => { model = await load(dir, { maxCtx: 128 }); });
  after(() => model?.dispose());

  test("the engine's prefix reuse under adapters: a different adapter or scale does not reuse the cache", async () => {
    await model.loadAdapter('lora-all', resolve(dir, 'lora-all'));
    await model.complete(lora.prompt, { maxTokens: 4, temperature: 0, stopIds: never });
    const r = await model.complete(lora.prompt, { maxTokens: 32, temperature: 0, stopIds: never, adapter: 'lora-all' });
    assert.equal(r.stats.reused_tokens, 0);
    assert.deepEqual(r.ids, lora.greedy);
    const again = await model.complete(lora.prompt, { maxTokens: 32, temperature: 0, stopIds: never, adapter: 'lora-all' });
    assert.equal(again.stats.reused_tokens, lora.prompt.length - 1);
    assert.deepEqual(again.ids, lora.greedy);
    const scaled = await model.complete(lora.prompt, { maxTokens: 2, temperature: 0, stopIds: never, adapter: 'lora-all',
      adapterScale: 0.5 });
    assert.equal(scaled.stats.reused_tokens, 0);
    const base2 = await model.complete(base.prompt, { maxTokens: 32, temperature: 0, stopIds: never });
    assert.deepEqual(base2.ids, base.greedy);
    await model.unloadAdapter('lora-all');
  });

  test('chat on a folder without tokenizer.json says so', async () => {
    const s = model.chat([{ role: 'user', content: 'hi' }]);
    await assert.rejects(s.result, /chat needs the model's tokenizer\.json/);
  });
});

describe('model.chat on pycoder-6m (f32, the plain format: it has no chat template)', () => {
  const dir = resolve(repoRoot, 'models/pycoder-6m');
  let model;
  before(async () => { model = await load(dir, { maxCtx: 512 }); });
  after(() => model?.dispose());
  const system = { role: 'system', content: '# Python helpers' };

  async function collect(stream) {
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    return { chunks, result: await stream.result };
  }

  test('renders the plain transcript format', async () => {
    const r = await model.renderChat([system, { role: 'user', content: 'Q1' }, { role: 'assistant', content: 'A1' },
      { role: 'user', content: 'Q2' }]);
    assert.equal(r.template, 'plain');
    assert.equal(r.prompt, '# Python helpers\n\nUser: Q1\nAssistant: A1\n\nUser: Q2\nAssistant:');
    assert.deepEqual(r.stop, ['\nUser:']);
    await assert.rejects(model.renderChat([{ role: 'user', content: 'x' }], { template: 'vicuna' }),
      /chat template 'vicuna': not a built-in format \(plain, chatml\)/);
    const chatml = await model.renderChat([{ role: 'user', content: 'x' }], { template: 'chatml' });
    assert.equal(chatml.prompt, '<|im_start|>user\nx<|im_end|>\n<|im_start|>assistant\n');
  });

  test('streams chat.completion.chunk deltas that add up to the final message; usage counts tokens', async () => {
    const messages = [system, { role: 'user', content: 'def add(a, b):' }];
    const { chunks, result } = await collect(model.chat(messages, { maxTokens: 24, temperature: 0 }));
    assert.deepEqual(chunks[0].choices[0].delta, { role: 'assistant', content: '' });
    assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk' && c.id === result.id));
    const text = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
    assert.equal(text, result.choices[0].message.content);
    assert.equal(chunks.at(-1).choices[0].finish_reason, result.choices[0].finish_reason);
    assert.ok(['stop', 'length'].includes(result.choices[0].finish_reason));
    assert.equal(result.object, 'chat.completion');
    // The same as generating from the rendered prompt with the format's stop string.
    const { prompt } = await model.renderChat(messages);
    const direct = await model.complete(prompt, { maxTokens: 24, temperature: 0, stop: ['\nUser:'] });
    assert.equal(result.choices[0].message.content, direct.text);
    assert.equal(result.usage.prompt_tokens, (await model.encode(prompt)).length);
    assert.equal(result.usage.completion_tokens, direct.ids.length);
    assert.equal(result.usage.total_tokens, result.usage.prompt_tokens + result.usage.completion_tokens);
    assert.ok(text.length > 0);
  });

  test('a second turn reuses the cache and says exactly what a fresh model says', async () => {
    const opts = { maxTokens: 16, temperature: 0.8, topK: 40, seed: 11 };
    const turn1 = [system, { role: 'user', content: 'def square(x):' }];
    const r1 = (await collect(model.chat(turn1, opts))).result;
    const turn2 = [...turn1, r1.choices[0].message, { role: 'user', content: 'def cube(x):' }];
    const r2 = (await collect(model.chat(turn2, opts))).result;
    const cached = r2.usage.prompt_tokens_details.cached_tokens;
    assert.ok(cached > r1.usage.prompt_tokens / 2, `only ${cached} of ${r2.usage.prompt_tokens} prompt tokens were cached`);
    assert.equal(r2.timings.prefill_tokens, r2.usage.prompt_tokens - cached);
    const fresh = await load(dir, { maxCtx: 512 });
    try {
      const f2 = (await collect(fresh.chat(turn2, opts))).result;
      assert.equal(f2.usage.prompt_tokens_details.cached_tokens, 0);
      assert.equal(f2.choices[0].message.content, r2.choices[0].message.content);
      assert.equal(f2.usage.completion_tokens, r2.usage.completion_tokens);
    } finally {
      await fresh.dispose();
    }
  });

  test('stop strings end the reply before them', async () => {
    const messages = [{ role: 'user', content: 'def add(a, b):' }];
    const full = (await collect(model.chat(messages, { maxTokens: 24, temperature: 0 }))).result.choices[0].message.content;
    const cut = full.indexOf('\n', 1);
    assert.ok(cut > 0, `the greedy reply has no line break to stop at: ${JSON.stringify(full)}`);
    const r = (await collect(model.chat(messages, { maxTokens: 24, temperature: 0, stop: ['\n'] }))).result;
    assert.equal(r.choices[0].finish_reason, 'stop');
    assert.equal(r.choices[0].message.content, full.slice(0, full.indexOf('\n')));
  });

  test('an AbortSignal stops the reply (finish_reason abort); leaving the loop early stops it too', async () => {
    const messages = [{ role: 'user', content: 'class Stack:' }];
    const ctl = new AbortController();
    const stream = model.chat(messages, { maxTokens: 64, temperature: 0, stopIds: [-1], signal: ctl.signal });
    let n = 0;
    for await (const c of stream) if (c.choices[0].delta.content && ++n === 3) ctl.abort();
    const r = await stream.result;
    assert.equal(r.choices[0].finish_reason, 'abort');
    assert.ok(r.usage.completion_tokens < 64 && r.usage.completion_tokens >= 3);
    const s2 = model.chat(messages, { maxTokens: 64, temperature: 0, stopIds: [-1] });
    for await (const c of s2) if (c.choices[0].delta.content) break;
    assert.ok((await s2.result).usage.completion_tokens < 64);
  });

  test('bad messages are refused naming the message', async () => {
    await assert.rejects(model.chat([]).result, /messages must be a non-empty array/);
    await assert.rejects(model.chat([{ role: 'robot', content: 'x' }]).result, /messages\[0\]\.role must be one of/);
    await assert.rejects(model.chat([{ role: 'user', content: 'x' }, { role: 'user' }]).result,
      /messages\[1\]\.content must be a string/);
  });
});

describe('model.chat fits the reply into the context', () => {
  test('maxTokens is cut to the room left (finish_reason length); a conversation too long for the context is refused', async () => {
    const model = await load(resolve(repoRoot, 'models/pycoder-6m'), { maxCtx: 32 });
    try {
      const messages = [{ role: 'user', content: 'def add(a, b):' }];
      const { prompt } = await model.renderChat(messages);
      const n = (await model.encode(prompt)).length;
      const r = await model.chat(messages, { maxTokens: 100, temperature: 0, stopIds: [-1], stop: [] }).result;
      assert.equal(r.usage.completion_tokens, 32 - n + 1);
      assert.equal(r.choices[0].finish_reason, 'length');
      const long = [{ role: 'user', content: 'x = 1\n'.repeat(40) }];
      await assert.rejects(model.chat(long).result, /the conversation is \d+ tokens and the context holds 32: start a new conversation/);
    } finally {
      await model.dispose();
    }
  });
});

describe('model.chat with the template in tokenizer_config.json', () => {
  // pycoder-6m's files with the Qwen3 tokenizer_config.json (its template; the special tokens
  // are plain text to this tokenizer, which does not matter to the rendering).
  const dir = mkdtempSync(join(tmpdir(), 'hearth-chat-template-'));
  const src = resolve(repoRoot, 'models/pycoder-6m');
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']) {
    symlinkSync(resolve(src, f), join(dir, f));
  }
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('renders the checkpoint\'s own template; a broken one is an error, not a fallback', async () => {
    writeFileSync(join(dir, 'tokenizer_config.json'), readFileSync(resolve(fixtures, 'tokenizers/qwen3.tokenizer_config.json')));
    let model = await load(dir, { maxCtx: 256 });
    try {
      const r = await model.renderChat([{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hi' }]);
      assert.equal(r.template, 'tokenizer_config.json');
      assert.deepEqual(r.stop, []);
      assert.equal(r.prompt, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
      const off = await model.renderChat([{ role: 'user', content: 'Hi' }], { enableThinking: false });
      assert.equal(off.prompt, '<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n');
      const c = await model.chat([{ role: 'user', content: 'Hi' }], { maxTokens: 3, temperature: 0 }).result;
      assert.equal(c.template, 'tokenizer_config.json');
    } finally {
      await model.dispose();
    }
    writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ chat_template: '{% for m in messages %}{{ m.content }' }));
    model = await load(dir, { maxCtx: 256 });
    try {
      await assert.rejects(model.renderChat([{ role: 'user', content: 'Hi' }]), /tokenizer_config\.json: chat template: /);
    } finally {
      await model.dispose();
    }
  });
});
