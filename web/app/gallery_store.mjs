// Models trained in the page, kept in the gallery: each is one entry of a WeightCache named
// 'hearth-gallery' (OPFS where the browser has it) holding the model folder's files in a small
// container — u32 header length, the header JSON { files: [{ name, bytes }] }, the files' bytes
// — with what it was trained on in the entry's meta.
import { openWeightCache } from '../src/cache.mjs';

let storePromise = null;
const store = () => { storePromise ??= openWeightCache({ name: 'hearth-gallery' }); return storePromise; };

function pack(files) {
  const entries = Object.entries(files);
  const header = new TextEncoder().encode(JSON.stringify({ files: entries.map(([name, b]) => ({ name, bytes: b.length })) }));
  const total = 4 + header.length + entries.reduce((n, [, b]) => n + b.length, 0);
  const out = new Uint8Array(total);
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, 4);
  let o = 4 + header.length;
  for (const [, b] of entries) {
    out.set(b, o);
    o += b.length;
  }
  return out;
}

function unpack(bytes) {
  const n = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(4, 4 + n)));
  const files = {};
  let o = 4 + n;
  for (const f of header.files) {
    files[f.name] = new Blob([bytes.subarray(o, o + f.bytes)]);
    o += f.bytes;
  }
  return files;
}

// Saves a model folder's files ({ name: Uint8Array }) as `name`; about: how it was trained.
export async function saveModel(name, files, about) {
  const key = `${name.replace(/[^\w.-]/g, '_')}-${Date.now().toString(36)}`;
  await (await store()).put(key, pack(files), { label: name, about });
  return key;
}

// [{ key, name, about, bytes }], newest first.
export async function listModels() {
  return (await (await store()).list()).map((e) => ({ key: e.key, name: e.meta.label, about: e.meta.about, bytes: e.bytes }));
}

// The saved model's files as { name: Blob } (loadModel takes them), or null when it is gone.
export async function openModel(key) {
  const hit = await (await store()).get(key);
  return hit ? unpack(hit.bytes) : null;
}

export async function deleteModel(key) {
  return (await store()).delete(key);
}
