// The weight cache: bytes the engine would otherwise recompute on every load (the packed,
// quantized weights), stored under a key derived from the source files and load options, with a
// SHA-256 of the stored bytes kept beside them and checked on every read.
//
//   const cache = await openWeightCache();            // OPFS, else Cache API, else IndexedDB
//   const key = await cacheKey({ files, dtype, tier });
//   const hit = await cache.get(key);                  // { bytes, meta } or null
//   await cache.put(key, bytes, { label: 'pycoder-6m int4' });
//   await cache.list(); await cache.delete(key);
//
// Backends: 'opfs' (the origin private file system; in a worker through sync access handles),
// 'cache' (the Cache API), 'idb' (IndexedDB), 'dir' (a folder, Node). Each entry is two
// records: `<key>.bin` (the bytes) and `<key>.json` (meta: sha256, bytes, created, label, ...);
// the meta is written last, so an entry without it (an interrupted write) is not listed and
// is removed by the next put of that key. A write that does not fit fails with an Error
// (name 'QuotaExceededError') that says how much is needed and how much is free.

// Bumped when the meaning of the stored bytes changes; part of every key.
export const CACHE_FORMAT_VERSION = 1;

const hex = (buf) => Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('');

export async function sha256Hex(bytes) {
  return hex(await globalThis.crypto.subtle.digest('SHA-256', bytes));
}

/**
 * The key of a model's cache entry: a SHA-256 over the source files' names, sizes and
 * modification times (the bytes are not read), the dtype, the format version and the GPU tier
 * (and `extra`, any other option that changes the stored bytes).
 */
export async function cacheKey({ files, dtype, tier = '', formatVersion = CACHE_FORMAT_VERSION, extra = {} }) {
  if (!Array.isArray(files) || files.length === 0) throw new Error('hearth cache: cacheKey needs the source files');
  const list = files.map((f) => [String(f.name), Number(f.size), Number(f.lastModified ?? 0)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const text = JSON.stringify({ files: list, dtype: String(dtype ?? ''), tier: String(tier), formatVersion, extra });
  return sha256Hex(new TextEncoder().encode(text));
}

export const mb = (n) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 0)} MB`;

// --- stores: named byte records ----------------------------------------------------------------

class DirStore {
  constructor(dir) { this.dir = dir; this.kind = 'dir'; }
  async init() {
    this.fs = await import('node:fs/promises');
    this.path = await import('node:path');
    await this.fs.mkdir(this.dir, { recursive: true });
    return this;
  }
  p(name) { return this.path.join(this.dir, name); }
  async read(name) {
    try { return new Uint8Array(await this.fs.readFile(this.p(name))); } catch (e) {
      if (e.code === 'ENOENT') return null;
      throw e;
    }
  }
  async write(name, bytes) {
    try {
      await this.fs.writeFile(this.p(name), bytes);
    } catch (e) {
      if (e.code === 'ENOSPC') throw Object.assign(new Error(e.message), { name: 'QuotaExceededError' });
      throw e;
    }
  }
  async remove(name) { await this.fs.rm(this.p(name), { force: true }); }
  async names() { return this.fs.readdir(this.dir); }
  async free() {
    const s = await this.fs.statfs(this.dir);
    return { available: Number(s.bavail) * Number(s.bsize), quota: Number(s.blocks) * Number(s.bsize) };
  }
}

class OpfsStore {
  constructor(name) { this.name = name; this.kind = 'opfs'; }
  async init() {
    const root = await navigator.storage.getDirectory();
    this.dirHandle = await root.getDirectoryHandle(this.name, { create: true });
    return this;
  }
  async read(name) {
    let fh;
    try { fh = await this.dirHandle.getFileHandle(name); } catch (e) {
      if (e.name === 'NotFoundError') return null;
      throw e;
    }
    if (typeof fh.createSyncAccessHandle === 'function' && typeof window === 'undefined') {
      const h = await fh.createSyncAccessHandle();
      try {
        const out = new Uint8Array(h.getSize());
        h.read(out, { at: 0 });
        return out;
      } finally {
        h.close();
      }
    }
    return new Uint8Array(await (await fh.getFile()).arrayBuffer());
  }
  async write(name, bytes) {
    const fh = await this.dirHandle.getFileHandle(name, { create: true });
    if (typeof fh.createSyncAccessHandle === 'function' && typeof window === 'undefined') {
      const h = await fh.createSyncAccessHandle();
      try {
        h.truncate(0);
        const n = h.write(bytes, { at: 0 });
        if (n !== bytes.length) {
          throw Object.assign(new Error(`wrote ${n} of ${bytes.length} bytes`), { name: 'QuotaExceededError' });
        }
        h.flush();
      } finally {
        h.close();
      }
      return;
    }
    const w = await fh.createWritable();
    try {
      await w.write(bytes);
      await w.close();
    } catch (e) {
      await w.abort().catch(() => {});
      throw e;
    }
  }
  async remove(name) {
    try { await this.dirHandle.removeEntry(name); } catch (e) {
      if (e.name !== 'NotFoundError') throw e;
    }
  }
  async names() {
    const out = [];
    for await (const k of this.dirHandle.keys()) out.push(k);
    return out;
  }
  free() { return storageEstimate(); }
}

class CacheApiStore {
  constructor(name) { this.name = name; this.kind = 'cache'; }
  async init() { this.cache = await caches.open(this.name); return this; }
  url(name) { return new URL(`/.hearth-weight-cache/${encodeURIComponent(name)}`, location.origin).href; }
  async read(name) {
    const r = await this.cache.match(this.url(name));
    return r ? new Uint8Array(await r.arrayBuffer()) : null;
  }
  async write(name, bytes) { await this.cache.put(this.url(name), new Response(bytes)); }
  async remove(name) { await this.cache.delete(this.url(name)); }
  async names() {
    return (await this.cache.keys()).map((r) => decodeURIComponent(new URL(r.url).pathname.split('/').pop()));
  }
  free() { return storageEstimate(); }
}

class IdbStore {
  constructor(name) { this.name = name; this.kind = 'idb'; }
  async init() {
    this.db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(this.name, 1);
      r.onupgradeneeded = () => r.result.createObjectStore('records');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    return this;
  }
  tx(mode, fn) {
    return new Promise((resolve, reject) => {
      const t = this.db.transaction('records', mode);
      const req = fn(t.objectStore('records'));
      t.oncomplete = () => resolve(req.result);
      t.onerror = () => reject(t.error);
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
  }
  async read(name) {
    const v = await this.tx('readonly', (s) => s.get(name));
    return v === undefined ? null : new Uint8Array(v);
  }
  write(name, bytes) { return this.tx('readwrite', (s) => s.put(bytes, name)); }
  remove(name) { return this.tx('readwrite', (s) => s.delete(name)); }
  async names() { return (await this.tx('readonly', (s) => s.getAllKeys())).map(String); }
  free() { return storageEstimate(); }
}

async function storageEstimate() {
  const e = await navigator.storage?.estimate?.();
  return e ? { available: Math.max(0, e.quota - e.usage), quota: e.quota } : null;
}

async function pickStore(backend, opts) {
  const name = opts.name ?? 'hearth-weights';
  const have = {
    dir: () => typeof process === 'object' && !!process.versions?.node,
    opfs: () => typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function',
    cache: () => typeof caches !== 'undefined',
    idb: () => typeof indexedDB !== 'undefined',
  };
  const make = { dir: () => new DirStore(opts.dir), opfs: () => new OpfsStore(name), cache: () => new CacheApiStore(name),
    idb: () => new IdbStore(name) };
  if (backend !== 'auto') {
    if (!make[backend]) throw new Error(`hearth cache: unknown backend '${backend}' (opfs, cache, idb, dir)`);
    if (!have[backend]()) throw new Error(`hearth cache: backend '${backend}' is not available here`);
    if (backend === 'dir' && !opts.dir) throw new Error('hearth cache: the dir backend needs opts.dir');
    return make[backend]().init();
  }
  const order = opts.dir ? ['dir'] : ['opfs', 'cache', 'idb'];
  const problems = [];
  for (const b of order) {
    if (!have[b]()) continue;
    try {
      return await make[b]().init();
    } catch (e) {
      problems.push(`${b}: ${e.message ?? e}`);  // e.g. OPFS refused in a private window
    }
  }
  throw new Error(`hearth cache: no storage is available${problems.length ? ` (${problems.join('; ')})` : ''}`);
}

// --- the cache ---------------------------------------------------------------------------------

export class WeightCache {
  constructor(store, opts) {
    this.store = store;
    this.backend = store.kind;
    this.quotaBytes = opts.quotaBytes ?? 0;  // a cap on the cache's total size (0 = the storage's)
    this.problems = [];                       // what reads found wrong (corrupt entries removed)
  }

  // { bytes, meta } of `key`, or null (missing, or its bytes fail the integrity check: then the
  // entry is deleted and the reason added to this.problems).
  async get(key) {
    const metaBytes = await this.store.read(`${key}.json`);
    if (!metaBytes) return null;
    let meta;
    try {
      meta = JSON.parse(new TextDecoder().decode(metaBytes));
    } catch {
      meta = null;
    }
    const bytes = meta && await this.store.read(`${key}.bin`);
    let problem = '';
    if (!meta) problem = 'unreadable meta';
    else if (!bytes) problem = 'its bytes are missing';
    else if (bytes.length !== meta.bytes) problem = `${bytes.length} bytes stored, ${meta.bytes} expected`;
    else if (await sha256Hex(bytes) !== meta.sha256) problem = 'SHA-256 mismatch';
    if (problem) {
      this.problems.push(`${meta?.label ?? key}: ${problem}; entry removed`);
      await this.delete(key);
      return null;
    }
    return { bytes, meta };
  }

  // Stores `bytes` under `key` (replacing an entry of that key). meta: anything JSON (label,
  // source, dtype, ...). Resolves to the stored meta.
  async put(key, bytes, meta = {}) {
    if (!(bytes instanceof Uint8Array)) throw new Error('hearth cache: put() takes a Uint8Array');
    await this.delete(key);
    await this.checkRoom(bytes.length, meta.label ?? key);
    const m = { ...meta, key, bytes: bytes.length, sha256: await sha256Hex(bytes), created: new Date().toISOString(),
      formatVersion: meta.formatVersion ?? CACHE_FORMAT_VERSION };
    try {
      await this.store.write(`${key}.bin`, bytes);
      await this.store.write(`${key}.json`, new TextEncoder().encode(JSON.stringify(m)));
    } catch (e) {
      await this.delete(key).catch(() => {});
      if (e?.name === 'QuotaExceededError') throw await this.quotaError(bytes.length, m.label ?? key, e.message);
      throw new Error(`hearth cache (${this.backend}): storing ${m.label ?? key} failed: ${e?.message ?? e}`);
    }
    return m;
  }

  async checkRoom(need, label) {
    const cached = (await this.list()).reduce((n, e) => n + e.bytes, 0);
    if (this.quotaBytes && cached + need > this.quotaBytes) throw await this.quotaError(need, label);
    const f = await this.store.free().catch(() => null);
    if (f && f.available < need) throw await this.quotaError(need, label);
  }

  async quotaError(need, label, detail = '') {
    const cached = (await this.list()).reduce((n, e) => n + e.bytes, 0);
    const f = await this.store.free().catch(() => null);
    let room = '';
    if (this.quotaBytes) room = `${mb(Math.max(0, this.quotaBytes - cached))} of the cache's ${mb(this.quotaBytes)} limit is free`;
    else if (f) room = `${mb(f.available)} of ${mb(f.quota)} is free`;
    const e = new Error(`hearth cache (${this.backend}): ${label} needs ${mb(need)} but ${room || 'the storage is full'}`
      + `${cached ? `; deleting cached models would free ${mb(cached)}` : ''}${detail ? ` (${detail})` : ''}`);
    e.name = 'QuotaExceededError';
    e.needed = need;
    e.available = this.quotaBytes ? Math.max(0, this.quotaBytes - cached) : f?.available;
    return e;
  }

  // Entries as [{ key, bytes, meta }], newest first.
  async list() {
    const names = await this.store.names();
    const out = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const key = n.slice(0, -5);
      try {
        const meta = JSON.parse(new TextDecoder().decode(await this.store.read(n)));
        out.push({ key, bytes: meta.bytes, meta });
      } catch { /* unreadable meta: get() reports and removes it */ }
    }
    return out.sort((a, b) => String(b.meta.created).localeCompare(String(a.meta.created)));
  }

  // Removes an entry (and a half-written one of that key); resolves to whether it existed.
  async delete(key) {
    const names = await this.store.names();
    const had = names.includes(`${key}.json`);
    for (const n of [`${key}.json`, `${key}.bin`]) if (names.includes(n)) await this.store.remove(n);
    return had;
  }

  async clear() {
    for (const e of await this.list()) await this.delete(e.key);
  }
}

/**
 * Opens the weight cache. opts: backend 'auto' (default: 'dir' when opts.dir is given, else
 * OPFS, the Cache API, IndexedDB, the first that works) | 'opfs' | 'cache' | 'idb' | 'dir';
 * dir (Node: the folder); name (the OPFS folder / cache / database name, 'hearth-weights');
 * quotaBytes (a cap on the total size of the entries).
 */
export async function openWeightCache(opts = {}) {
  const store = await pickStore(opts.backend ?? 'auto', opts);
  return new WeightCache(store, opts);
}
