// Headless Chromium smoke test: the page web/test/browser/smoke.html, served on localhost,
// loads pycoder-6m through fetch() with the ES module API and generates on WebGPU (SwiftShader
// in CI: --use-webgpu-adapter=swiftshader), which must give the reference greedy ids.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, resolve } from 'node:path';
import { after, before, test } from 'node:test';

import { buildFile, repoRoot, webBuild } from './helpers.mjs';

const chromiumPath = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch { /* not installed */ }
const skip = !chromium ? 'npm playwright-core is not installed'
  : !existsSync(chromiumPath) ? `${chromiumPath} is missing (apt-get install chromium)` : false;

const model = resolve(repoRoot, 'models/pycoder-6m');
const ref = JSON.parse(readFileSync(resolve(model, 'reference.json'), 'utf8')).greedy[0];
const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.cjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json' };
// URL prefix -> folder (longest prefix first).
const roots = { '/web/dist/': webBuild, '/web/': resolve(repoRoot, 'web'), '/build/': webBuild, '/model/': model,
  '/models/': resolve(repoRoot, 'models') };

let server;
let browser;
let base;

before(async () => {
  if (skip) return;
  buildFile('hearth_engine.cjs');
  server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const prefix = Object.keys(roots).find((p) => url.pathname.startsWith(p));
    if (prefix === '/web/dist/' && !url.pathname.startsWith('/web/dist/hearth_engine.')) {
      res.writeHead(404).end();
      return;
    }
    const file = prefix && resolve(roots[prefix], `.${url.pathname.slice(prefix.length - 1)}`);
    if (!file || !file.startsWith(roots[prefix]) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox', '--headless',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
});

after(async () => {
  await browser?.close();
  server?.close();
});

async function runPage(query) {
  const page = await browser.newPage();
  const logs = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => logs.push(String(e)));
  await page.goto(`${base}/web/test/browser/smoke.html?${query}`);
  await page.waitForFunction(() => window.__result, null, { timeout: 300000 });
  const r = await page.evaluate(() => window.__result);
  await page.close();
  assert.ok(r.ok, `${r.error}\n${logs.join('\n')}`);
  return r;
}

test('pycoder-6m generates its reference greedy ids on WebGPU in headless Chromium', { skip, timeout: 600000 }, async () => {
  const n = 8;
  const r = await runPage(`ids=${ref.prompt_ids.join(',')}&n=${n}&prompt=${encodeURIComponent(ref.prompt)}`);
  console.log(`chromium: ${r.backend}`);
  assert.match(r.backend, /^webgpu/, `WebGPU was not used: ${r.notes.join('; ')}`);
  assert.deepEqual(r.ids, ref.greedy.slice(0, n));
  assert.deepEqual(r.textIds, ref.greedy.slice(0, 4));
});
