// hearth for JavaScript: load a Hugging Face model folder into the wasm engine and generate,
// on WebGPU (WGSL kernels) or the wasm CPU backend. Works in browsers and in Node.
//
//   import { loadModel } from 'hearth-web';
//   const model = await loadModel('/path/to/model', { dtype: 'int4', backend: 'webgpu' });
//   for await (const { id, text } of model.generate('def fib(n):', { maxTokens: 64 })) ...
//
// Sources: a folder path (Node); a base URL whose files are fetched, or File / Blob objects
// (browser; FileList, an array of Files, or { 'config.json': Blob, ... }).
import { chat } from './chat.mjs';
import { GpuBridge } from './gpu_bridge.mjs';
import { findPack, storePack } from './pack_cache.mjs';
import { LoadProgress, readBytes } from './progress.mjs';
import { installTraining } from './train.mjs';
import { isNode, loadWasmModule } from './wasm_loader.mjs';
import { loadModelInWorker, trainModelInWorker } from './worker_host.mjs';

// Whether the engine runs in a worker (opts.worker; default: in a browser page).
const useWorker = (opts) => opts.worker ?? (typeof window !== 'undefined' && typeof Worker === 'function');

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
const mounted = new Set();  // host folders mounted writable (mountNodeDir)

// Mounts a host folder (Node) at the same path in the engine's file system, for files the
// engine writes (packs, the pack cache).
function mountNodeDir(m, dir) {
  if (mounted.has(dir)) return;
  m.FS.mkdirTree(dir);
  m.FS.mount(m.NODEFS, { root: dir }, dir);
  mounted.add(dir);
}

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
// folder (or a .gguf file or a pack) appears at its own absolute path, so messages name the user's files.
// onBytes(name, bytes, size): called as file bytes arrive (progress).
async function mountSource(m, source, names = MODEL_FILES, onBytes = null) {
  const FS = m.FS;
  if (typeof source === 'string' && isNode && !/^https?:/.test(source)) {
    const { resolve } = await import('node:path');
    const { statSync } = await import('node:fs');
    const path = resolve(source);
    let st = null;
    try { st = statSync(path); } catch { /* reported below */ }
    if (!st) throw new Error(`hearth: ${source}: no such ${names === MODEL_FILES ? 'model' : 'adapter'} folder or file`);
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
      return readBytes(r, (n, size) => onBytes?.(name, n, size));
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
    for (const [name, v] of entries) {
      const base = String(name).split('/').pop();
      files.set(base, await toBytes(v));
      onBytes?.(base, files.get(base).length, files.get(base).length);
    }
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
    this.aborted = false;
    const onAbort = () => { this.stopRequested = true; this.aborted = true; };
    if (opts.signal?.aborted) onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    this.result = serialize(() => this.run(promptIds, opts));
    this.result.finally(() => opts.signal?.removeEventListener('abort', onAbort)).catch(() => {});
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
      keepCache: o.keepCache, reusePrefix: o.reusePrefix, deviceSteps: o.deviceSteps, adapter: o.adapter, adapterScale: o.adapterScale,
      responseFormat: o.responseFormat,
    };
    try {
      const n = await call(m, 'hearth_generate', 'number', ['number', 'string'], [handle, JSON.stringify(request)],
        { async: true });
      if (n < 0) throw engineError(m);
      const ids = Array.from(m.HEAP32.subarray(m._hearth_ids_ptr() >> 2, (m._hearth_ids_ptr() >> 2) + n));
      return { ids, stats: JSON.parse(m.UTF8ToString(m._hearth_info(handle))).last, aborted: this.aborted };
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
   * reusePrefix (default true: without keepCache, the KV cache of the longest token prefix shared
   * with what the previous requests fed is reused and only the rest is prefilled; stats.reused_tokens),
   * deviceSteps (WebGPU: tokens decoded per GPU submission with the pick — argmax or sampling —
   * on the GPU and one read-back of their ids; default 8, 0 = read the logits back every token
   * and sample on the CPU; the two samplers draw differently for the same seed), adapter
   * (a name given to loadAdapter; unset = none), adapterScale, and responseFormat (structured
   * output: { type: 'json_object' }, { type: 'json_schema', schema }, or { type: 'grammar',
   * grammar: GBNF text }; the text then always follows it; on WebGPU the mask is applied on the
   * GPU, one token per submission).
   * After the loop, `await stream.result` gives { ids, stats }.
   */
  generate(prompt, opts = {}) {
    const ids = typeof prompt === 'string' ? this.encode(prompt) : Promise.resolve(Array.from(prompt));
    return new GenerationStream(this, ids, opts);
  }

  /**
   * OpenAI-style chat completion (src/chat.mjs): an async iterator of chat.completion.chunk
   * objects; `await stream.result` gives { choices, usage, ... }. The engine reuses the KV cache
   * for the token prefix a request shares with what earlier ones fed (reusePrefix).
   */
  chat(messages, opts = {}) {
    return chat(this, messages, opts);
  }

  // The prompt text of a conversation: { prompt, template, stop } (the template's origin and
  // the stop strings of a built-in format). opts: template, enableThinking, addGenerationPrompt.
  async renderChat(messages, opts = {}) {
    const request = JSON.stringify({ messages, template: opts.template, enableThinking: opts.enableThinking,
      addGenerationPrompt: opts.addGenerationPrompt });
    return serialize(() => {
      const m = engine;
      const r = m.ccall('hearth_chat_render', 'string', ['number', 'string'], [this.handle, request]);
      if (!r) throw engineError(m);
      return JSON.parse(r);
    });
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

  // Writes the weights as the engine holds them (quantized) into a pack at `path` (Node: a host
  // path whose folder exists; in a browser: a path in the engine's file system), which loadModel
  // then takes in place of the model and loads with no conversion or quantization.
  async savePacked(path) {
    const m = engine;
    let target = path;
    if (isNode) {
      const { resolve, dirname } = await import('node:path');
      target = resolve(path);
      mountNodeDir(m, dirname(target));
    }
    const ok = await serialize(() => call(m, 'hearth_save_packed', 'number', ['number', 'string', 'string'],
      [this.handle, this.source, target], { async: true }));
    if (!ok) throw engineError(m);
    return target;
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
    return serialize(() => {
      engine._hearth_chat_release(this.handle);
      engine._hearth_free(this.handle);
    });
  }
}

/**
 * Loads a model. Options: dtype 'f32' | 'f16' | 'int8' | 'int4' (default 'f32'), kvDtype 'f32' |
 * 'f16' | 'int8' (the KV cache's precision; the wasm CPU backend only for now), maxCtx,
 * maxPrefillT, backend 'webgpu' (default; falls back to the CPU when WebGPU or an adapter is
 * missing, saying so in model.notes and on console.warn) | 'cpu', subgroups (false forces the
 * WebGPU tier without optional features), gpu (a GPU object instead of navigator.gpu), wasmUrl,
 * profileKernels (GPU time per kernel in stats().gpu.host.kernels, where the adapter has
 * timestamp queries; 'passes': only the GPU's busy time, stats().gpu.host.gpuMs, with the
 * dispatches encoded as usual; only the first model's options create the device),
 * weightBufferBytes (WebGPU: the largest buffer weights are placed in, below the device's
 * binding limit; larger matrices are split by rows), prefillDequant (WebGPU, default true: prefill
 * products of 128 tokens or more read quantized weights dequantized into an f32 scratch buffer,
 * with the same result; false reads them quantized, with less memory), cacheDir (Node: a folder of packs; a folder
 * model's first load writes the pack of its quantized weights there, later loads of the same
 * files with the same dtype take it instead; stats().pack says which). `source` may be a folder,
 * a .gguf file or a pack (model.savePacked, `hearth pack`).
 * worker (default: true in a browser page, false in Node and inside workers): run the engine
 * in a dedicated module Worker behind the same API (src/worker_host.mjs). onProgress(event):
 * load phases (src/progress.mjs). warmUp: generate one token after loading so the first
 * request does not wait for WebGPU pipelines ('compile' phase). signal: an AbortSignal that
 * cancels the load (at once in a worker, between phases in process).
 */
export async function loadModel(source, opts = {}) {
  if (useWorker(opts)) return loadModelInWorker(source, opts);
  const progress = new LoadProgress(opts.onProgress);
  const checkAbort = () => {
    if (opts.signal?.aborted) throw new DOMException('hearth: loading was cancelled', 'AbortError');
  };
  checkAbort();
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
  // The weight cache (browsers, opts.cache): the pack an earlier load of these files stored.
  const found = opts.cache && !isNode ? await findPack(opts.cache, source, { dtype: opts.dtype, quantSearch: opts.quantSearch,
    backend, tier: backend === 'webgpu' ? m.hearthGpu.tier : 'cpu' }, opts.cacheLabel ?? sourceLabel(source, opts)) : null;
  if (found?.note) notes.push(found.note);
  if (opts.cache && isNode) notes.push('weight cache: the cache option is for browsers; in Node use cacheDir (a folder of packs)');
  for (const p of found?.problems ?? []) notes.push(`weight cache: ${p}`);
  let cacheDir;
  if (opts.cacheDir !== undefined) {  // Node: a folder of packs (made if missing)
    if (!isNode || typeof opts.cacheDir !== 'string') throw new Error('hearth: cacheDir is a folder path, in Node');
    const { resolve } = await import('node:path');
    const { mkdirSync } = await import('node:fs');
    cacheDir = resolve(opts.cacheDir);
    mkdirSync(cacheDir, { recursive: true });
    mountNodeDir(m, cacheDir);
  }
  const options = { dtype: opts.dtype, kvDtype: opts.kvDtype, maxCtx: opts.maxCtx, maxPrefillT: opts.maxPrefillT,
    quantSearch: opts.quantSearch, threads: opts.threads, backend, subgroups: opts.subgroups, weightBufferBytes: wb, cacheDir,
    prefillDequant: opts.prefillDequant };
  const engineLoad = (path) => serialize(async () => {
    // The engine's own 'ready' is the end of its part; loadModel's comes last.
    m.hearthOnProgress = (phase, done, total) => { if (phase !== 'ready') progress.emit(phase, done, total); };
    try {
      return await call(m, 'hearth_load', 'number', ['string', 'string'], [path, JSON.stringify(options)], { async: true });
    } finally {
      m.hearthOnProgress = null;
    }
  });
  let dir = null;
  let handle = 0;
  if (found?.bytes) {
    dir = `/packs/${found.key}.hpk`;
    m.FS.mkdirTree('/packs');
    m.FS.writeFile(dir, found.bytes);
    progress.emit('cache', found.bytes.length, found.bytes.length);
    handle = await engineLoad(dir);
    if (!handle) {  // a stored pack the engine refuses (e.g. an older format): drop it, load the files
      notes.push(`weight cache: the stored pack did not load (${m.UTF8ToString(m._hearth_last_error())}); read the files instead`);
      m.FS.unlink(dir);
      await found.cache.delete(found.key);
      found.bytes = null;
    }
  }
  if (!handle) {
    const expected = sourceBytes(source);
    dir = await mountSource(m, source, MODEL_FILES, (file, n, size) => progress.bytes(file, n, size, expected));
    checkAbort();
    handle = await engineLoad(dir);
  }
  if (!handle) throw engineError(m);
  const info = JSON.parse(m.UTF8ToString(m._hearth_info(handle)));
  if (info.pack?.note) notes.push(info.pack.note);
  const model = new HearthModel(handle, info, notes);
  model.source = dir;
  if (found?.cache) info.cache = await settlePack(m, model, found, dir, progress);
  if (opts.warmUp && info.tier !== 'cpu') {
    progress.emit('compile', 0, 1);
    await model.complete([info.eos_ids[0] ?? 0], { maxTokens: 2, temperature: 0 });
    progress.emit('compile', 1, 1);
  }
  progress.emit('ready', 1, 1);
  if (opts.signal?.aborted) {
    await model.dispose();
    checkAbort();
  }
  return model;
}

// After a load with the weight cache: on a miss, the engine writes the model's pack and it is
// stored; on a hit, the pack's chat template is read (so the pack's copy can go). Resolves to
// { hit, key, bytes, backend }.
async function settlePack(m, model, found, dir, progress) {
  const hit = !!found.bytes;
  let bytes = found.bytes?.length ?? 0;
  if (hit) {
    await model.renderChat([]).catch(() => {});  // reads the pack's tokenizer_config.json now
    m.FS.unlink(dir);
  } else {
    const path = `/packs/${found.key}.hpk`;
    m.FS.mkdirTree('/packs');
    const ok = await serialize(() => call(m, 'hearth_save_packed', 'number', ['number', 'string', 'string'],
      [model.handle, dir, path], { async: true }));
    if (!ok) {
      model.notes.push(`weight cache: the pack was not written (${m.UTF8ToString(m._hearth_last_error())})`);
    } else {
      const pack = m.FS.readFile(path);
      m.FS.unlink(path);
      bytes = pack.length;
      progress.emit('cache', 0, bytes);
      const note = await storePack(found, pack, { dtype: model.info.dtype, backend: model.info.backend,
        model_type: model.info.model_type });
      if (note) model.notes.push(note);
      else progress.emit('cache', bytes, bytes);
    }
  }
  return { hit, key: found.key, bytes, backend: found.cache.backend };
}

// A label for a cache entry: the folder's name (a URL's last segment, the files' folder) and dtype.
function sourceLabel(source, opts) {
  let name = 'model';
  if (typeof source === 'string' || source instanceof URL) name = String(source).replace(/\/+$/, '').split('/').pop();
  else {
    const first = typeof source[Symbol.iterator] === 'function' ? [...source][0] : null;
    if (first?.webkitRelativePath?.includes('/')) name = first.webkitRelativePath.split('/')[0];
  }
  return `${name} ${opts.dtype ?? 'f32'}`;
}

// The bytes of File / Blob sources (0 when not known up front: paths, URLs).
function sourceBytes(source) {
  if (!source || typeof source === 'string' || source instanceof URL) return 0;
  const values = typeof source[Symbol.iterator] === 'function' ? [...source] : Object.values(source);
  return values.reduce((n, v) => n + (v?.size ?? v?.byteLength ?? 0), 0);
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

// Training (train.mjs): model.train / finetune / save / saveAdapter, and trainModel(source, opts)
// (in a browser page in a worker of its own, as loadModel: opts.worker).
const trainInProcess = installTraining({
  HearthModel, engine: () => engine, getEngine, getGpuBridge, serialize, call, engineError, mountSource, mountNodeDir, isNode,
});
export function trainModel(source, opts = {}) {
  return useWorker(opts) ? trainModelInWorker(source, opts) : trainInProcess(source, opts);
}
export { TrainingRun } from './train.mjs';
