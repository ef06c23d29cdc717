// The weight cache (src/cache.mjs) on its Node backend (a folder): keys follow the source
// files and options, bytes come back as stored, a corrupted entry is detected and removed, and
// a write that does not fit says what it needs. (The browser backends run in app.test.mjs.)
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';

import { cacheKey, openWeightCache, sha256Hex } from '../src/cache.mjs';

const dir = mkdtempSync(join(tmpdir(), 'hearth-cache-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const files = [{ name: 'config.json', size: 700, lastModified: 1000 }, { name: 'model.safetensors', size: 13e6, lastModified: 2000 }];

// Bytes that are not all alike (a pattern an off-by-one or a truncated write would break).
function bytesOf(n, seed) {
  const b = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

test('sha256Hex agrees with node:crypto', async () => {
  const b = bytesOf(100000, 7);
  assert.equal(await sha256Hex(b), createHash('sha256').update(b).digest('hex'));
});

test('the key changes with any file name, size or time, the dtype, tier and format version', async () => {
  const base = await cacheKey({ files, dtype: 'int4', tier: 'subgroups' });
  assert.match(base, /^[0-9a-f]{64}$/);
  assert.equal(await cacheKey({ files: [...files].reverse(), dtype: 'int4', tier: 'subgroups' }), base, 'order-independent');
  const variants = [
    { files: [{ ...files[0], size: 701 }, files[1]], dtype: 'int4', tier: 'subgroups' },
    { files: [files[0], { ...files[1], lastModified: 2001 }], dtype: 'int4', tier: 'subgroups' },
    { files: [{ ...files[0], name: 'config2.json' }, files[1]], dtype: 'int4', tier: 'subgroups' },
    { files, dtype: 'int8', tier: 'subgroups' },
    { files, dtype: 'int4', tier: 'none' },
    { files, dtype: 'int4', tier: 'subgroups', formatVersion: 2 },
    { files, dtype: 'int4', tier: 'subgroups', extra: { quantSearch: false } },
  ];
  const keys = new Set([base]);
  for (const v of variants) keys.add(await cacheKey(v));
  assert.equal(keys.size, variants.length + 1);
  await assert.rejects(cacheKey({ files: [], dtype: 'f32' }), /needs the source files/);
});

test('put, get, list and delete round-trip bytes exactly', async () => {
  const cache = await openWeightCache({ dir: join(dir, 'a') });
  assert.equal(cache.backend, 'dir');
  const k1 = await cacheKey({ files, dtype: 'int4' });
  const k2 = await cacheKey({ files, dtype: 'int8' });
  const b1 = bytesOf(3 << 20, 1);
  const b2 = bytesOf(12345, 2);
  assert.equal(await cache.get(k1), null);
  const m1 = await cache.put(k1, b1, { label: 'pycoder-6m int4', dtype: 'int4' });
  assert.equal(m1.sha256, createHash('sha256').update(b1).digest('hex'));
  await cache.put(k2, b2, { label: 'pycoder-6m int8' });
  const hit = await cache.get(k1);
  assert.deepEqual(hit.bytes, b1);
  assert.equal(hit.meta.label, 'pycoder-6m int4');
  assert.equal(hit.meta.dtype, 'int4');
  const list = await cache.list();
  assert.deepEqual(list.map((e) => [e.key, e.bytes]).sort(), [[k1, b1.length], [k2, b2.length]].sort());
  // A reopened cache sees the same entries (they are files, not memory).
  const again = await openWeightCache({ dir: join(dir, 'a') });
  assert.deepEqual((await again.get(k2)).bytes, b2);
  assert.equal(await cache.delete(k1), true);
  assert.equal(await cache.delete(k1), false);
  assert.equal(await cache.get(k1), null);
  assert.deepEqual((await cache.list()).map((e) => e.key), [k2]);
  assert.deepEqual(readdirSync(join(dir, 'a')).sort(), [`${k2}.bin`, `${k2}.json`]);
});

test('a corrupted or truncated entry is detected on read and removed', async () => {
  const cache = await openWeightCache({ dir: join(dir, 'b') });
  const k = await cacheKey({ files, dtype: 'f16' });
  const b = bytesOf(50000, 3);
  await cache.put(k, b, { label: 'm f16' });
  const bin = join(dir, 'b', `${k}.bin`);
  const flipped = readFileSync(bin);
  flipped[31337] ^= 0x10;
  writeFileSync(bin, flipped);
  assert.equal(await cache.get(k), null);
  assert.match(cache.problems.at(-1), /m f16: SHA-256 mismatch; entry removed/);
  assert.deepEqual(await cache.list(), []);
  await cache.put(k, b, { label: 'm f16' });
  writeFileSync(bin, b.subarray(0, 49999));
  assert.equal(await cache.get(k), null);
  assert.match(cache.problems.at(-1), /49999 bytes stored, 50000 expected/);
  // A write interrupted before its meta: not listed, and the next put of the key replaces it.
  writeFileSync(bin, b.subarray(0, 10));
  assert.deepEqual(await cache.list(), []);
  await cache.put(k, b);
  assert.deepEqual((await cache.get(k)).bytes, b);
});

test('a write over the quota fails naming what it needs and what is free, and stores nothing', async () => {
  const cache = await openWeightCache({ dir: join(dir, 'c'), quotaBytes: 3_000_000 });
  await cache.put('k1', bytesOf(2_000_000, 4), { label: 'first' });
  await assert.rejects(cache.put('k2', bytesOf(1_500_000, 5), { label: 'qwen 3B int4' }), (e) => {
    assert.equal(e.name, 'QuotaExceededError');
    assert.equal(e.needed, 1_500_000);
    assert.equal(e.available, 1_000_000);
    assert.match(e.message, /qwen 3B int4 needs 1\.50 MB but 1\.00 MB of the cache's 3\.00 MB limit is free; deleting cached models would free 2\.00 MB/);
    return true;
  });
  assert.deepEqual((await cache.list()).map((e) => e.key), ['k1']);
  assert.deepEqual(readdirSync(join(dir, 'c')).sort(), ['k1.bin', 'k1.json']);
  // Replacing an entry counts the room it frees.
  await cache.put('k1', bytesOf(2_900_000, 6), { label: 'first, larger' });
  assert.equal((await cache.list())[0].bytes, 2_900_000);
});

test('bad backends and arguments are refused with a reason', async () => {
  await assert.rejects(openWeightCache({ backend: 'floppy' }), /unknown backend 'floppy'/);
  await assert.rejects(openWeightCache({ backend: 'opfs' }), /backend 'opfs' is not available here/);
  await assert.rejects(openWeightCache({ backend: 'dir' }), /needs opts.dir/);
  const cache = await openWeightCache({ dir: join(dir, 'd') });
  await assert.rejects(cache.put('k', [1, 2, 3]), /takes a Uint8Array/);
});
