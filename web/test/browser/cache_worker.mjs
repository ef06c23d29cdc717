// The weight cache's OPFS backend inside a dedicated worker (sync access handles): a round
// trip of 1 MB, reported to the page that started it (web/test/app.test.mjs).
import { openWeightCache } from '../../src/cache.mjs';

try {
  const c = await openWeightCache({ backend: 'opfs', name: 'hearth-test-worker' });
  const bytes = new Uint8Array(1 << 20).map((_, i) => (i * 40503) >>> 8);
  await c.put('w', bytes, { label: 'worker entry' });
  const hit = await c.get('w');
  const same = hit.bytes.length === bytes.length && hit.bytes.every((b, i) => b === bytes[i]);
  const listed = (await c.list()).length;
  const deleted = await c.delete('w');
  self.postMessage({ backend: c.backend, same, listed, deleted, sync: typeof FileSystemSyncAccessHandle === 'function' });
} catch (e) {
  self.postMessage({ error: String(e?.stack ?? e) });
}
