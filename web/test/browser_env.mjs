// Headless Chromium for the app's tests: a loopback server for the repository's web/ and
// models/ folders and the engine build (with the cross-origin-isolation headers the page is
// served with), Chromium on SwiftShader's WebGPU kept off the network, and a log of every
// request a page makes that leaves its origin.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, resolve } from 'node:path';

import { repoRoot, webBuild } from './helpers.mjs';

export const chromiumPath = process.env.HEARTH_CHROMIUM ?? '/usr/bin/chromium';
let chromium = null;
try {
  ({ chromium } = await import('playwright-core'));
} catch { /* not installed */ }
export const skipReason = !chromium ? 'npm playwright-core is not installed'
  : !existsSync(chromiumPath) ? `${chromiumPath} is missing (apt-get install chromium)` : false;

const types = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.cjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css', '.png': 'image/png' };

// URL prefix -> folder (longest first). /web/dist/ is the engine build (only its two files).
function roots() {
  return { '/web/dist/': webBuild, '/web/': resolve(repoRoot, 'web'), '/models/': resolve(repoRoot, 'models') };
}

export async function startServer() {
  const map = roots();
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    const prefix = Object.keys(map).find((p) => url.pathname.startsWith(p));
    let file = prefix && resolve(map[prefix], `.${decodeURIComponent(url.pathname.slice(prefix.length - 1))}`);
    if (prefix === '/web/dist/' && !/^\/web\/dist\/hearth_engine\.(cjs|wasm)$/.test(url.pathname)) file = null;
    if (!file || !file.startsWith(map[prefix]) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    const body = readFileSync(file);
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream',
      'content-length': body.length, 'last-modified': statSync(file).mtime.toUTCString(),
      'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

export function launchChromium() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox', '--headless',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run',
      '--disable-default-apps', '--disable-domain-reliability', '--no-pings'],
  });
}

// A browser context whose requests off `base`'s origin are refused and recorded in `offOrigin`
// (pages and their workers). data: and blob: URLs stay in the page.
export async function isolatedContext(browser, base, opts = {}) {
  const context = await browser.newContext(opts);
  const origin = new URL(base).origin;
  const offOrigin = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    offOrigin.push(url);
    return route.abort();
  });
  context.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:') && !offOrigin.includes(url)) {
      offOrigin.push(url);
    }
  });
  return { context, offOrigin };
}
