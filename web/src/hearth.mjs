// hearth for JavaScript: load a Hugging Face model folder into the wasm engine and generate,
// on WebGPU (WGSL kernels) or the wasm CPU backend. Works in browsers and in Node.
//
//   import { loadModel } from 'hearth-web';
//   const model = await loadModel('/path/to/model', { dtype: 'int4', backend: 'webgpu' });
//   for await (const { id, text } of model.generate('def fib(n):', { maxTokens: 64 })) ...
//
// Sources: a folder path (Node); a base URL whose files are fetched, or File / Blob objects
// (browser; FileList, an array of Files, or { 'config.json': Blob, ... }).
import { GpuBridge } from './gpu_bridge.mjs';
import { isNode, loadWasmModule } from './wasm_loader.mjs';

const MODEL_FILES = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json'];

let enginePromise = null;  // one wasm module per page / process, shared by all models
let engine = null;
let gpuBridgePromise = null;
let queue = Promise.resolve();  // wasm calls run one at a time (ASYNCIFY allows one in flight)
let folderCount = 0;
const tokenSinks = new Map();  // handle -> (id, text) => continue?

// The engine's last error as an Error.
function engineError(m) {
  return new Error(`hearth: ${m.UTF8ToString(m._hearth_last_error())}`);
}

// ccall that turns a C++ exception escaping the engine (a bare number: the thrown object's
// address) into an Error with its message; the engine reports errors as values otherwise.
async function call(m, name, ret, types, args, opts) {
  try {
    return await m.ccall(name, ret, types, args, opts);
  } catch (e) {
    if (typeof e === 'number') throw new Error(`hearth: ${m.UTF8ToString(m._hearth_exception_message(e))}`);
    throw e;
  }
}

function serialize(fn) {
  const run = queue.then(fn, fn);
  queue = run.catch(() => {});
  return run;
}

async function defaultWasmUrl() {
  if (isNode) {
    if (process.env.HEARTH_WASM) return process.env.HEARTH_WASM;
    const { existsSync } = await import('node:fs');
    const { fileURLToPath } = await import('node:url');
    for (const rel of ['../dist/hearth_engine.cjs', '../../build-wasm/web/hearth_engine.cjs']) {
      const p = fileURLToPath(new URL(rel, import.meta.url));
      if (existsSync(p)) return p;
    }
    throw new Error('hearth: the wasm engine is not built (expected web/dist/hearth_engine.cjs or '
      + 'build-wasm/web/hearth_engine.cjs; set HEARTH_WASM to its path)');
  }
  return new URL('../dist/hearth_engine.cjs', import.meta.url).href;
}

async function yieldToEventLoop() {
  if (typeof setImmediate === 'function') return new Promise((r) => setImmediate(r));
  return new Promise((r) => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => r();
    ch.port2.postMessage(0);
  });
}

async function getEngine(wasmUrl) {
  enginePromise ??= (async () => {
    const m = await loadWasmModule(wasmUrl ?? await defaultWasmUrl(), 'createHearthEngine', {
      print: (s) => console.log(s),
      printErr: (s) => console.warn(s),
    });
    m.hearthOnToken = (handle, id, text) => {
      const sink = tokenSinks.get(handle);
      return sink ? sink(id, text) : true;
    };
    m.hearthYield = yieldToEventLoop;
    engine = m;
    return m;
  })();
  return enginePromise;
}

// The GPU bridge, created once. Resolves to { bridge, reason }.
function getGpuBridge(opts) {
  gpuBridgePromise ??= (async () => {
    let gpu = opts.gpu ?? globalThis.navigator?.gpu;
    if (!gpu && isNode) {
      const { nodeGpu } = await import('./node_gpu.mjs');
      gpu = await nodeGpu();
    }
    const r = await GpuBridge.create({ gpu, subgroups: opts.subgroups, profile: opts.profileKernels });
    // Dawn aborts a Node process that exits with a live device: release it on the way out.
    if (isNode && r.bridge) process.once('exit', () => r.bridge.destroy());
    return r;
  })();
  return gpuBridgePromise;
}

async function toBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (typeof v?.arrayBuffer === 'function') return new Uint8Array(await v.arrayBuffer());
  throw new Error('hearth: model files must be File, Blob, ArrayBuffer or Uint8Array');
}

// Node: the host's root, mounted once; model files are reached through it.
const HOST_ROOT = '/.hearth-host';
let hostMounted = false;

// Node: makes the host path `path` (absolute) appear at the same path in the wasm FS, so the
// engine's messages name the user's files: a file becomes a link to its real path under
// HOST_ROOT, a folder a folder of such links (subfolders to a depth of 3). Links are resolved
// here with fs.realpath, because the wasm FS cannot follow a host link (a Hugging Face hub
// snapshot is a folder of links into ../../blobs). Called again, it brings the folder up to date.
async function mirrorHostPath(m, path, depth = 0) {
  const FS = m.FS;
  const fs = await import('node:fs');
  if (!hostMounted) {
    FS.mkdirTree(HOST_ROOT);
    FS.mount(m.NODEFS, { root: '/' }, HOST_ROOT);
    hostMounted = true;
  }
  const real = fs.realpathSync(path);
  const existing = FS.analyzePath(path, true);
  if (!fs.statSync(real).isDirectory()) {
    const target = HOST_ROOT + real;
    if (existing.exists && FS.isLink(FS.lstat(path).mode) && FS.readlink(path) === target) return;
    if (existing.exists) FS.unlink(path);
    FS.mkdirTree(path.slice(0, path.lastIndexOf('/')) || '/');
    FS.symlink(target, path);
    return;
  }
  if (existing.exists && FS.isLink(FS.lstat(path).mode)) FS.unlink(path);
  FS.mkdirTree(path);
  const names = new Set(fs.readdirSync(path));
  for (const name of FS.readdir(path)) {
    if (name !== '.' && name !== '..' && !names.has(name) && FS.isLink(FS.lstat(`${path}/${name}`).mode)) {
      FS.unlink(`${path}/${name}`);  // gone from the host folder
    }
  }
  for (const name of names) {
    const p = `${path}/${name}`;
    let st = null;
    try { st = fs.statSync(p); } catch { continue; }  // a dangling link: as if the file were absent
    if (st.isDirectory() && depth >= 3) continue;
    await mirrorHostPath(m, p, depth + 1);
  }
}

// Puts the model's files where the wasm FS sees them; resolves to their FS path. In Node a
// folder (or a .gguf file) appears at its own absolute path, so messages name the user's files.
async function mountSource(m, source, names = MODEL_FILES) {
  const FS = m.FS;
  if (typeof source === 'string' && isNode && !/^https?:/.test(source)) {
    const { resolve } = await import('node:path');
    const { statSync } = await import('node:fs');
    const path = resolve(source);
    let st = null;
    try { st = statSync(path); } catch { /* reported below */ }
    if (!st) throw new Error(`hearth: ${source}: no such ${names === MODEL_FILES ? 'model' : 'adapter'} folder or .gguf file`);
    await mirrorHostPath(m, path);
    return path;
  }
  const dir = `/models/m${++folderCount}`;
  FS.mkdirTree(dir);
  const files = new Map();
  if (typeof source === 'string' || source instanceof URL) {
    const base = String(source).replace(/\/?$/, '/');
    const get = async (name, optional) => {
      const r = await fetch(base + name);
      if (!r.ok) {
        if (optional) return null;
        throw new Error(`hearth: ${base + name}: HTTP ${r.status}`);
      }
      return new Uint8Array(await r.arrayBuffer());
    };
    for (const name of names) {
      const b = await get(name, name !== names[0]);
      if (b) files.set(name, b);
    }
    const index = names === MODEL_FILES ? await get('model.safetensors.index.json', true) : null;
    if (index) {
      files.set('model.safetensors.index.json', index);
      const shards = new Set(Object.values(JSON.parse(new TextDecoder().decode(index)).weight_map ?? {}));
      for (const s of shards) files.set(s, await get(s, false));
    } else if (names === MODEL_FILES) {
      files.set('model.safetensors', await get('model.safetensors', false));
    }
  } else {
    const entries = typeof source[Symbol.iterator] === 'function'
      ? [...source].map((f) => [f.name, f]) : Object.entries(source);
    for (const [name, v] of entries) files.set(String(name).split('/').pop(), await toBytes(v));
  }
  for (const [name, bytes] of files) FS.writeFile(`${dir}/${name}`, bytes);
  return dir;
}

class GenerationStream {
  // promptIds: a promise of the prompt's ids (an encode() queued before this stream).
  constructor(model, promptIds, opts) {
    this.model = model;
    this.items = [];
    this.waiters = [];
    this.finished = false;
    this.error = null;
    this.stopRequested = false;
    this.result = serialize(() => this.run(promptIds, opts));
    this.result.then(() => this.finish(), (e) => this.finish(e));
  }

  async run(idsPromise, o) {
    const promptIds = await idsPromise;
    const m = engine;
    const handle = this.model.handle;
    tokenSinks.set(handle, (id, text) => {
      if (id >= 0 || text) this.push({ id, text });
      return !this.stopRequested;
    });
    const request = {
      prompt: promptIds, maxTokens: o.maxTokens, temperature: o.temperature, topK: o.topK, topP: o.topP,
      minP: o.minP, repetitionPenalty: o.repetitionPenalty, presencePenalty: o.presencePenalty,
      frequencyPenalty: o.frequencyPenalty, seed: o.seed, stopIds: o.stopIds, stop: o.stop,
      keepCache: o.keepCache, deviceSteps: o.deviceSteps, adapter: o.adapter, adapterScale: o.adapterScale,
    };
    try {
      const n = await call(m, 'hearth_generate', 'number', ['number', 'string'], [handle, JSON.stringify(request)],
        { async: true });
      if (n < 0) throw engineError(m);
      const ids = Array.from(m.HEAP32.subarray(m._hearth_ids_ptr() >> 2, (m._hearth_ids_ptr() >> 2) + n));
      return { ids, stats: JSON.parse(m.UTF8ToString(m._hearth_info(handle))).last };
    } finally {
      tokenSinks.delete(handle);
    }
  }

  push(item) {
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  finish(error = null) {
    this.finished = true;
    this.error = error;
    for (const w of this.waiters.splice(0)) {
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next() {
    if (this.items.length) return Promise.resolve({ value: this.items.shift(), done: false });
    if (this.finished) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  // Called when a for-await loop ends early: generation stops after the current token.
  async return() {
    this.stopRequested = true;
    try { await this.result; } catch { /* reported to next() callers */ }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() { return this; }
}

export class HearthModel {
  constructor(handle, info, notes) {
    this.handle = handle;
    this.info = info;      // backend, tier, dtype, model_type, vocab_size, max_ctx, eos_ids, ...
    this.notes = notes;    // e.g. why WebGPU was not used
  }

  // Token ids of `text` (no special tokens added).
  async encode(text) {
    return serialize(() => {
      const m = engine;
      const n = m.ccall('hearth_encode', 'number', ['number', 'string'], [this.handle, text]);
      if (n < 0) throw engineError(m);
      const p = m._hearth_ids_ptr() >> 2;
      return Array.from(m.HEAP32.subarray(p, p + n));
    });
  }

  async decode(ids, { skipSpecial = false } = {}) {
    return serialize(() => {
      const m = engine;
      const p = m._malloc(ids.length * 4 + 4);
      m.HEAP32.set(ids, p >> 2);
      try {
        return m.UTF8ToString(m._hearth_decode(this.handle, p, ids.length, skipSpecial ? 1 : 0));
      } finally {
        m._free(p);
      }
    });
  }

  /**
   * Streams generated tokens: an async iterator of { id, text } (text = the characters the
   * token completes, possibly ''; a last item with id -1 may carry held-back text). Breaking
   * out of the loop stops generation. `prompt`: text (needs tokenizer.json) or token ids.
   * Options: maxTokens (128), temperature (0 = greedy), topK, topP, minP, repetitionPenalty,
   * presencePenalty, frequencyPenalty, seed (unset ones take generation_config.json's values),
   * stop (strings), stopIds (replace the model's eos ids), keepCache (continue the KV cache),
   * deviceSteps (WebGPU: tokens decoded per GPU submission with the pick — argmax or sampling —
   * on the GPU and one read-back of their ids; default 8, 0 = read the logits back every token
   * and sample on the CPU; the two samplers draw differently for the same seed), adapter
   * (a name given to loadAdapter; unset = none) and adapterScale.
   * After the loop, `await stream.result` gives { ids, stats }.
   */
  generate(prompt, opts = {}) {
    const ids = typeof prompt === 'string' ? this.encode(prompt) : Promise.resolve(Array.from(prompt));
    return new GenerationStream(this, ids, opts);
  }

  // Generates to the end: { ids, text, stats }.
  async complete(prompt, opts = {}) {
    const stream = this.generate(prompt, opts);
    let text = '';
    for await (const t of stream) text += t.text;
    const r = await stream.result;
    return { ...r, text };
  }

  // Reads a LoRA adapter (PEFT: adapter_config.json + adapter_model.safetensors, or MLX-LM)
  // from the same kinds of source as loadModel and keeps it resident as `name`; generate with
  // { adapter: name } applies it. The base weights never change.
  async loadAdapter(name, source) {
    const m = engine;
    const dir = await mountSource(m, source, ['adapter_config.json', 'adapter_model.safetensors',
      'adapters.safetensors']);
    const ok = await serialize(() => call(m, 'hearth_load_adapter', 'number', ['number', 'string', 'string'],
      [this.handle, name, dir], { async: true }));
    if (!ok) throw engineError(m);
  }

  async unloadAdapter(name) {
    const m = engine;
    const ok = await serialize(() => call(m, 'hearth_unload_adapter', 'number', ['number', 'string'],
      [this.handle, name]));
    if (!ok) throw engineError(m);
  }

  // Counters: { backend, ..., last: generation stats, gpu: { dispatches, submits, pipelines } }.
  stats() {
    const s = JSON.parse(engine.UTF8ToString(engine._hearth_info(this.handle)));
    if (s.gpu && engine.hearthGpu) s.gpu.host = { ...engine.hearthGpu.timing };
    return s;
  }

  dispose() {
    return serialize(() => engine._hearth_free(this.handle));
  }
}

/**
 * Loads a model. Options: dtype 'f32' | 'f16' | 'int8' | 'int4' (default 'f32'), maxCtx,
 * maxPrefillT, backend 'webgpu' (default; falls back to the CPU when WebGPU or an adapter is
 * missing, saying so in model.notes and on console.warn) | 'cpu', subgroups (false forces the
 * WebGPU tier without optional features), gpu (a GPU object instead of navigator.gpu), wasmUrl,
 * profileKernels (GPU time per kernel in stats().gpu.host.kernels, where the adapter has
 * timestamp queries; 'passes': only the GPU's busy time, stats().gpu.host.gpuMs, with the
 * dispatches encoded as usual; only the first model's options create the device),
 * weightBufferBytes (WebGPU: the largest buffer weights are placed in, below the device's
 * binding limit; larger matrices are split by rows).
 */
export async function loadModel(source, opts = {}) {
  const wb = opts.weightBufferBytes ?? 0;
  if (!(Number.isInteger(wb) && wb >= 0 && wb < 2 ** 31)) {
    throw new Error(`hearth: weightBufferBytes must be a whole number of bytes below 2^31, got ${opts.weightBufferBytes}`);
  }
  const m = await getEngine(opts.wasmUrl);
  const notes = [];
  let backend = opts.backend ?? 'webgpu';
  if (!['webgpu', 'cpu'].includes(backend)) throw new Error(`hearth: backend must be 'webgpu' or 'cpu', got '${backend}'`);
  if (backend === 'webgpu') {
    const { bridge, reason } = await getGpuBridge(opts);
    if (bridge) {
      m.hearthGpu = bridge;
      if (reason) notes.push(reason);  // the device works, an option did not take (profileKernels)
    } else {
      notes.push(`${reason}; using the wasm CPU backend`);
      console.warn(`hearth: ${reason}; falling back to the wasm CPU backend`);
      backend = 'cpu';
    }
  }
  const dir = await mountSource(m, source);
  const options = { dtype: opts.dtype, maxCtx: opts.maxCtx, maxPrefillT: opts.maxPrefillT, quantSearch: opts.quantSearch,
    threads: opts.threads, backend, subgroups: opts.subgroups, weightBufferBytes: wb };
  const handle = await serialize(() => call(m, 'hearth_load', 'number', ['string', 'string'],
    [dir, JSON.stringify(options)], { async: true }));
  if (!handle) throw engineError(m);
  const info = JSON.parse(m.UTF8ToString(m._hearth_info(handle)));
  return new HearthModel(handle, info, notes);
}

// Releases the GPU device (lets Node exit).
export async function shutdown() {
  const r = await gpuBridgePromise;
  r?.bridge?.destroy();
  gpuBridgePromise = null;
  if (isNode) {
    const { releaseNodeGpu } = await import('./node_gpu.mjs');
    releaseNodeGpu();
  }
}
