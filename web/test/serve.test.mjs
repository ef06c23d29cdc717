// `hearth serve` (the native CLI, built in build/) through the official `openai` npm client:
// models, chat completions plain and streamed, structured output, an error for a malformed
// request, and a stream the client aborts (the server cancels it and serves the next request).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, test } from 'node:test';

import OpenAI from 'openai';

import { repoRoot } from './helpers.mjs';

const hearth = resolve(process.env.HEARTH_NATIVE_BUILD ?? resolve(repoRoot, 'build'), 'hearth');
const model = resolve(repoRoot, 'models/pycoder-6m');
const skip = existsSync(hearth) ? false : `${hearth} is not built (the native build)`;

describe('hearth serve with the openai client', { skip }, () => {
  let server, client, tmp, log = '';
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hearth-serve-'));
    const m = join(tmp, 'm');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(m);
    for (const f of ['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json']) symlinkSync(join(model, f), join(m, f));
    const cfg = JSON.parse(readFileSync(join(model, 'tokenizer_config.json'), 'utf8'));
    cfg.chat_template = "{% for m in messages %}<{{ m['role'] }}>\n{{ m['content'] }}\n{% endfor %}"
      + '{% if add_generation_prompt %}<assistant>\n{% endif %}';
    writeFileSync(join(m, 'tokenizer_config.json'), JSON.stringify(cfg));
    server = spawn(hearth, ['serve', '-m', m, '--port', '0', '--max-ctx', '4096', '--threads', '1']);
    server.stderr.on('data', (d) => { log += d; });
    const url = await new Promise((res, rej) => {
      let out = '';
      server.stdout.on('data', (d) => {
        out += d;
        const hit = /listening on (\S+)/.exec(out);
        if (hit) res(hit[1]);
      });
      server.on('exit', (code) => rej(new Error(`hearth serve exited (${code}): ${log}`)));
    });
    if (/serve is not available/.test(log)) return;
    client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(() => {
    server?.kill('SIGTERM');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const messages = [{ role: 'system', content: '# python' }, { role: 'user', content: 'def add(a, b):' }];

  test('models, and a chat completion equal to its stream', async () => {
    const list = await client.models.list();
    assert.deepEqual(list.data.map((x) => x.id), ['m']);
    const r = await client.chat.completions.create({ model: 'm', messages, max_tokens: 20, temperature: 0 });
    assert.equal(r.choices[0].message.role, 'assistant');
    assert.ok(r.choices[0].message.content.length > 0);
    assert.equal(r.usage.completion_tokens, 20);
    const stream = await client.chat.completions.create({ model: 'm', messages, max_tokens: 20, temperature: 0, stream: true });
    let text = '', finish = null;
    for await (const chunk of stream) {
      text += chunk.choices[0].delta.content ?? '';
      finish = chunk.choices[0].finish_reason ?? finish;
    }
    assert.equal(text, r.choices[0].message.content);
    assert.equal(finish, 'length');
  });

  test('response_format json_schema', async () => {
    const schema = { type: 'object', properties: { ok: { type: 'boolean' }, n: { type: 'integer', minimum: 0, maximum: 5 } },
      required: ['ok', 'n'] };
    const r = await client.chat.completions.create({ messages: [{ role: 'user', content: 'settings =' }], max_tokens: 60,
      response_format: { type: 'json_schema', json_schema: { name: 's', schema } } });
    const v = JSON.parse(r.choices[0].message.content);
    assert.equal(typeof v.ok, 'boolean');
    assert.ok(Number.isInteger(v.n) && v.n >= 0 && v.n <= 5);
  });

  test('a malformed request is a 400 naming the field', async () => {
    await assert.rejects(client.chat.completions.create({ messages: [{ role: 'wizard', content: 'x' }] }),
      (e) => e.status === 400 && /messages\[0\]\.role/.test(e.message));
  });

  test('aborting a stream cancels its generation; the next request is served', async () => {
    const stream = await client.completions.create({ prompt: 'import os\n', max_tokens: 3000, temperature: 0.8, seed: 2,
      stream: true, ignore_eos: true });
    let n = 0;
    for await (const chunk of stream) {
      if (chunk.choices[0].text && ++n === 3) break;  // ends the stream: the client aborts the request
    }
    for (let i = 0; i < 50 && !/cancelled by the client/.test(log); ++i) await new Promise((r) => setTimeout(r, 100));
    const m = /cancelled by the client after (\d+) tokens/.exec(log);
    assert.ok(m && Number(m[1]) < 3000, log);
    const r = await client.completions.create({ prompt: 'x', max_tokens: 2 });
    assert.equal(r.choices[0].finish_reason, 'length');
  });
});
