// web/bin/hearth.mjs: the native CLI's generate flags on the wasm engine; --print-ids ends with
// "ids: ..."; without a GPU adapter it says so and runs on the wasm CPU backend.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';

import { buildFile, fixtures, repoRoot } from './helpers.mjs';

const run = promisify(execFile);
const cli = resolve(repoRoot, 'web/bin/hearth.mjs');
const model = resolve(repoRoot, 'models/pycoder-6m');
const ref = JSON.parse(readFileSync(resolve(model, 'reference.json'), 'utf8')).greedy[2];
const env = { ...process.env, HEARTH_WASM: buildFile('hearth_engine.cjs') };
// Whether Dawn finds an adapter, asked in a child process: with a Dawn instance in this process
// (SwiftShader's threads), spawning children aborts.
const probe = await run('node', ['--input-type=module', '-e', `
  import { nodeGpu } from ${JSON.stringify(resolve(repoRoot, 'web/src/node_gpu.mjs'))};
  const gpu = await nodeGpu();
  const a = gpu && await gpu.requestAdapter();
  console.log(a ? 'adapter' : 'none');
  process.exit(0);`], { env }).catch(() => ({ stdout: 'none' }));
const hasAdapter = probe.stdout.trim() === 'adapter';

const lastLine = (s) => s.trimEnd().split('\n').pop();

test('--ids with --print-ids on the wasm CPU backend gives the reference greedy ids', async () => {
  const { stdout, stderr } = await run('node', [cli, '-m', model, '--ids', ref.prompt_ids.join(','), '-n', '16',
    '--backend', 'cpu', '--print-ids'], { env });
  assert.equal(lastLine(stdout), `ids: ${ref.greedy.slice(0, 16).join(' ')}`);
  assert.match(stderr, /cpu/);
});

test('--prompt on WebGPU streams the text and the ids', { skip: hasAdapter ? false : 'no WebGPU adapter' }, async () => {
  const { stdout, stderr } = await run('node', [cli, '-m', model, '--prompt', ref.prompt, '-n', '12', '--print-ids',
    '--max-ctx', '64'], { env });
  assert.match(stderr, /webgpu .*tier (subgroups|none)/);
  const lines = stdout.trimEnd().split('\n');
  assert.equal(lines.pop(), `ids: ${ref.greedy.slice(0, 12).join(' ')}`);
  assert.ok(ref.text.startsWith(lines.join('\n').slice(0, 10)), `unexpected text ${JSON.stringify(lines.join('\n'))}`);
});

test('without a GPU adapter it falls back to the CPU with a message', async () => {
  const noGpu = { ...env, VK_ICD_FILENAMES: '/nonexistent.json', LD_LIBRARY_PATH: '', VK_DRIVER_FILES: '' };
  const { stdout, stderr } = await run('node', [cli, '-m', model, '--ids', '1,2,3', '-n', '3', '--print-ids'], { env: noGpu });
  assert.match(stderr, /falling back to the wasm CPU backend/);
  assert.match(lastLine(stdout), /^ids: \d+ \d+ \d+$/);
});

// --adapter / --adapter-scale as in the native CLI, on qwen2-tiny's LoRA fixture (its reference
// ids were generated with the adapter merged into the weights).
const tiny = resolve(fixtures, 'qwen2-tiny');
const tinyRef = JSON.parse(readFileSync(resolve(tiny, 'reference.json'), 'utf8')).cases;
const loraCase = tinyRef.find((c) => c.adapter === 'lora-all' && c.prompt.length === 7);
const baseCase = tinyRef.find((c) => c.adapter === null && c.prompt.join() === loraCase.prompt.join());
const tinyArgs = [cli, '-m', tiny, '--backend', 'cpu', '--ids', loraCase.prompt.join(','), '-n', '16', '--print-ids'];

test('--adapter gives the merged-weights reference ids; --adapter-scale 0 gives the base model\'s', async () => {
  const lora = await run('node', [...tinyArgs, '--adapter', resolve(tiny, 'lora-all')], { env });
  assert.equal(lastLine(lora.stdout), `ids: ${loraCase.greedy.slice(0, 16).join(' ')}`);
  const zero = await run('node', [...tinyArgs, '--adapter', resolve(tiny, 'lora-all'), '--adapter-scale', '0'], { env });
  assert.equal(lastLine(zero.stdout), `ids: ${baseCase.greedy.slice(0, 16).join(' ')}`);
});

test('adapter flags without an adapter folder are reported', async () => {
  await assert.rejects(run('node', [...tinyArgs, '--adapter-scale', '2'], { env }), /--adapter-scale needs --adapter DIR/);
  await assert.rejects(run('node', [...tinyArgs, '--adapter', '/nonexistent-adapter'], { env }),
    /\/nonexistent-adapter: no such adapter folder/);
  await assert.rejects(run('node', [...tinyArgs, '--adapter', resolve(tiny, 'lora-all'), '--adapter-scale', 'x'], { env }),
    /--adapter-scale: expected a number/);
});

test('bad flags are reported with the native CLI\'s messages, exit status 2', async () => {
  const fails = async (args, message) => {
    await assert.rejects(run('node', [cli, ...args], { env }), (e) => {
      assert.equal(e.code, 2);
      assert.match(e.stderr, message);
      return true;
    });
  };
  await fails(['-m', model, '--ids', '1,x'], /--ids: expected token ids separated by commas or spaces, got "1,x"/);
  await fails(['-m', model, '--ids', '99999999999'], /^hearth: --ids: token id 99999999999 is too large$/m);
  await fails(['--ids', '1'], /missing required option --model/);
  await fails(['-m', model, '--ids', '1', '--dtype', 'q3'], /--dtype: "q3" is not one of f32, f16, int8, int4/);
  await fails(['-m', model, '--ids', '1', '--max-ctx', '99999999999'], /--max-ctx: 99999999999 is out of range \[1, 16777216\]/);
  await fails(['chat', '-m', model], /command "chat" is in the native CLI only/);
});

test('the native form `hearth.mjs generate ...` is accepted; --help describes it', async () => {
  const { stdout } = await run('node', [cli, 'generate', '-m', model, '--ids', ref.prompt_ids.join(','), '-n', '8',
    '--backend', 'cpu', '--print-ids'], { env });
  assert.equal(lastLine(stdout), `ids: ${ref.greedy.slice(0, 8).join(' ')}`);
  const help = await run('node', [cli, 'generate', '--help'], { env });
  assert.match(help.stdout, /^usage: hearth\.mjs \[generate\]/);
  for (const flag of ['--ids', '--stop', '--backend', '--adapter', '--stats']) assert.ok(help.stdout.includes(flag), flag);
});

test('every --stop applies: the text ends before whichever comes first', async () => {
  const { stdout } = await run('node', [cli, '-m', model, '--prompt', ref.prompt, '-n', '24', '--backend', 'cpu',
    '--stop', 'if', '--stop', 'return'], { env });
  assert.equal(stdout, `${ref.text.slice(0, ref.text.indexOf('if'))}\n`);
});

test('a prompt longer than max_position_embeddings warns', async () => {
  // qwen2-tiny's weights under a config that says max_position_embeddings 32.
  const short = mkdtempSync(join(tmpdir(), 'hearth-cli-'));
  const config = JSON.parse(readFileSync(resolve(tiny, 'config.json'), 'utf8'));
  writeFileSync(join(short, 'config.json'), JSON.stringify({ ...config, max_position_embeddings: 32 }));
  symlinkSync(resolve(tiny, 'model.safetensors'), join(short, 'model.safetensors'));
  const { stderr } = await run('node', [cli, '-m', short, '--ids', new Array(40).fill(17).join(','), '-n', '2',
    '--max-ctx', '64', '--backend', 'cpu'], { env });
  rmSync(short, { recursive: true, force: true });
  assert.match(stderr, /hearth: warning: the request needs 41 positions, more than the model's max_position_embeddings \(32\)/);
});
