// loadModel's weight cache in browsers (opts.cache): the engine's pack of a model (its weights
// exactly as the engine computes with them, quantized, plus the small files; model/packed_model.h)
// is kept in a WeightCache (cache.mjs: OPFS, the Cache API or IndexedDB) under a key made from
// the source files' names, sizes and modification times and the load options that change the
// pack; a later load of the same files takes the pack instead of parsing and quantizing again.
// (Node has the engine's own pack cache in a folder: loadModel's cacheDir.)
import { CACHE_FORMAT_VERSION, cacheKey, openWeightCache } from './cache.mjs';

const SMALL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

// The source's files as { name, size, lastModified }, or null when they cannot be known without
// reading them (bytes given directly). URLs are asked with HEAD requests.
async function sourceFiles(source) {
  if (typeof source === 'string' || source instanceof URL) {
    const base = String(source).replace(/\/?$/, '/');
    const head = async (name) => {
      const r = await fetch(base + name, { method: 'HEAD' });
      if (!r.ok) return null;
      return { name, size: Number(r.headers.get('content-length') ?? -1),
        lastModified: r.headers.get('last-modified') ?? r.headers.get('etag') ?? '' };
    };
    const files = [];
    for (const name of SMALL_FILES) {
      const f = await head(name);
      if (f) files.push(f);
    }
    const weights = await head('model.safetensors');
    if (weights) files.push(weights);
    else {
      const index = await fetch(`${base}model.safetensors.index.json`);
      if (!index.ok) return null;
      const text = await index.text();
      files.push({ name: 'model.safetensors.index.json', size: text.length, lastModified: '' });
      for (const s of new Set(Object.values(JSON.parse(text).weight_map ?? {}))) {
        const f = await head(s);
        if (!f) return null;
        files.push(f);
      }
    }
    return files.every((f) => f.size >= 0) ? files : null;
  }
  const values = typeof source[Symbol.iterator] === 'function' ? [...source].map((f) => [f.name, f]) : Object.entries(source);
  if (!values.every(([, v]) => typeof v?.lastModified === 'number')) return null;  // not File objects
  return values.map(([name, f]) => ({ name: String(name).split('/').pop(), size: f.size, lastModified: f.lastModified }));
}

/**
 * Looks the source up. Resolves to { cache, key, bytes } (bytes: the cached pack, or null on a
 * miss) or to { note } when this source or place cannot be cached. `load`: the options that
 * change a pack (dtype, quantSearch, backend, tier).
 */
export async function findPack(cacheOpt, source, load, label) {
  const files = await sourceFiles(source).catch(() => null);
  if (!files) return { note: 'weight cache: not used for sources given as bytes (no file names, sizes and dates)' };
  let cache;
  try {
    cache = cacheOpt && typeof cacheOpt.get === 'function' ? cacheOpt
      : await openWeightCache(typeof cacheOpt === 'object' ? cacheOpt : {});
  } catch (e) {
    return { note: `weight cache: ${e.message}` };
  }
  const key = await cacheKey({ files, dtype: load.dtype ?? 'f32', tier: `${load.backend}/${load.tier}`,
    formatVersion: CACHE_FORMAT_VERSION, extra: { quantSearch: load.quantSearch !== false, pack: 1 } });
  const hit = await cache.get(key);
  return { cache, key, bytes: hit?.bytes ?? null, label, problems: cache.problems.splice(0) };
}

// Stores a pack just written by the engine; resolves to a note when it could not be stored.
export async function storePack(found, bytes, meta) {
  try {
    await found.cache.put(found.key, bytes, { label: found.label, ...meta });
    return '';
  } catch (e) {
    return `weight cache: ${e.message}`;
  }
}
