// Training in the wasm engine (the C API of web/cpp/hearth_web_train.cpp): pretraining and LoRA
// fine-tuning as async iterators of step records, on WebGPU or the wasm CPU backend.
//
//   const model = await loadModel('/models/qwen2-tiny', { backend: 'webgpu' });
//   const run = model.finetune({ data: 'train.txt', seq: 128, batch: 4, steps: 200, rank: 8,
//                                targets: 'q_proj,v_proj', signal });
//   for await (const r of run) console.log(r.step, r.loss, r.grad_norm, r.lr, r.tokens_per_s);
//   model.generate(prompt, { adapter: 'finetuned' });   // the trained adapter, at once
//   const files = await model.saveAdapter();             // { 'adapter_config.json': Uint8Array, ... }
//
// hearth.mjs installs the methods on HearthModel (train, finetune, save, saveAdapter) and exports
// trainModel(source, opts), which pretrains a model folder without loading it for inference.
// Options (hearth train / hearth finetune's flags, camelCased): data, steps, batch, seq, accum,
// lr, minLr, warmup, beta1, beta2, eps, weightDecay, gradClip, seed, recompute, signal,
// saveGradsStep0 (Node: a file for step 0's gradients, safetensors); train: init; finetune:
// rank, alpha, targets (string or array), rslora, adapterInit, adapterName.
// data: a path (Node), a File / Blob / Uint8Array / ArrayBuffer holding a .safetensors token file
// (I32 `tokens` [S, B, seq + 1] or [N, seq + 1]) or text, an array of Files (texts); or give
// `text` (a string) or `tokens` (rows of seq + 1 ids) instead.

const TRAIN_DIR = '/hearth_train';
let fileCount = 0;

// A safetensors file holding rows (arrays of ids, all of one length) as I32 `tokens` [N, len].
function tokenFile(rows) {
  if (!Array.isArray(rows) || !rows.length) throw new Error('hearth: tokens: expected a non-empty array of rows of ids');
  const len = rows[0].length;
  const ids = new Int32Array(rows.length * len);
  rows.forEach((r, i) => {
    if (r.length !== len) throw new Error(`hearth: tokens: row ${i} has ${r.length} ids, row 0 has ${len}`);
    ids.set(r, i * len);
  });
  let header = JSON.stringify({ tokens: { dtype: 'I32', shape: [rows.length, len], data_offsets: [0, ids.byteLength] } });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const out = new Uint8Array(8 + header.length + ids.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(new TextEncoder().encode(header), 8);
  out.set(new Uint8Array(ids.buffer), 8 + header.length);
  return out;
}

// Whether bytes start like a safetensors file (a little-endian header length, then '{').
function looksLikeSafetensors(bytes) {
  if (bytes.length < 10) return false;
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  return bytes[8] === 0x7b && n > 0n && n < BigInt(bytes.length);
}

async function toBytes(v) {
  if (v instanceof Uint8Array) return v;
  if (v instanceof ArrayBuffer) return new Uint8Array(v);
  if (typeof v?.arrayBuffer === 'function') return new Uint8Array(await v.arrayBuffer());
  throw new Error('hearth: data must be a path, File, Blob, ArrayBuffer or Uint8Array');
}

function writeFile(FS, name, bytes) {
  FS.mkdirTree(TRAIN_DIR);
  const path = `${TRAIN_DIR}/${++fileCount}_${name.replace(/[^\w.-]/g, '_')}`;
  FS.writeFile(path, bytes);
  return path;
}

// The training data as an FS path the engine reads.
async function dataPath(m, core, o) {
  const given = ['data', 'text', 'tokens'].filter((k) => o[k] !== undefined);
  if (given.length !== 1) throw new Error('hearth: give exactly one of data, text or tokens');
  if (o.text !== undefined) return writeFile(m.FS, 'data.txt', new TextEncoder().encode(String(o.text)));
  if (o.tokens !== undefined) return writeFile(m.FS, 'tokens.safetensors', tokenFile(Array.from(o.tokens)));
  const d = o.data;
  if (typeof d === 'string') {
    if (!core.isNode) throw new Error('hearth: data as a path works in Node only; give a File, Blob or bytes');
    const { resolve, dirname } = await import('node:path');
    const { statSync } = await import('node:fs');
    const p = resolve(d);
    let st = null;
    try { st = statSync(p); } catch { /* reported below */ }
    if (!st) throw new Error(`hearth: data ${d}: no such file or folder`);
    await core.mountSource(m, st.isDirectory() ? p : dirname(p), []);
    return p;
  }
  if (Array.isArray(d) || (typeof d?.[Symbol.iterator] === 'function' && !(d instanceof Uint8Array))) {
    const dir = `${TRAIN_DIR}/texts${++fileCount}`;
    m.FS.mkdirTree(dir);
    let i = 0;
    for (const f of d) m.FS.writeFile(`${dir}/${String(++i).padStart(6, '0')}.txt`, await toBytes(f));
    return dir;
  }
  const bytes = await toBytes(d);
  const named = typeof d?.name === 'string' ? d.name : '';
  const st = named ? named.endsWith('.safetensors') : looksLikeSafetensors(bytes);
  return writeFile(m.FS, st ? 'data.safetensors' : 'data.txt', bytes);
}

// The backend of a run without a loaded model, as loadModel picks it: WebGPU unless opts.backend
// is 'cpu', the wasm CPU backend (with a warning) where no GPU adapter is found.
async function backendFor(m, core, opts) {
  const backend = opts.backend ?? 'webgpu';
  if (!['webgpu', 'cpu'].includes(backend)) throw new Error(`hearth: backend must be 'webgpu' or 'cpu', got '${backend}'`);
  if (backend === 'cpu') return 'cpu';
  const { bridge, reason } = await core.getGpuBridge(opts);
  if (bridge) {
    m.hearthGpu = bridge;
    return 'webgpu';
  }
  console.warn(`hearth: ${reason}; training on the wasm CPU backend`);
  return 'cpu';
}

// The options the engine takes (JSON), paths made FS paths.
async function engineOptions(m, core, kind, o) {
  const out = {
    data: await dataPath(m, core, o), steps: o.steps, batch: o.batch, seq: o.seq, accum: o.accum, lr: o.lr,
    minLr: o.minLr, warmup: o.warmup, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay: o.weightDecay,
    gradClip: o.gradClip, seed: o.seed, recompute: o.recompute,
  };
  if (o.saveGradsStep0 !== undefined) {
    if (!core.isNode) throw new Error('hearth: saveGradsStep0 (a file path) works in Node only');
    const { resolve, dirname } = await import('node:path');
    const { mkdirSync } = await import('node:fs');
    out.saveGradsStep0 = resolve(String(o.saveGradsStep0));
    mkdirSync(dirname(out.saveGradsStep0), { recursive: true });
    core.mountNodeDir(m, dirname(out.saveGradsStep0));  // the engine writes the file there
  }
  if (kind === 'train') {
    out.init = o.init;
  } else {
    Object.assign(out, { rank: o.rank, alpha: o.alpha, targets: o.targets, rslora: o.rslora });
    if (o.adapterInit !== undefined) {
      out.adapterInit = await core.mountSource(m, o.adapterInit, ['adapter_config.json', 'adapter_model.safetensors',
        'adapters.safetensors']);
    }
  }
  return out;
}

// Reads the files of an FS folder (and removes them): { name: Uint8Array }.
function takeFiles(FS, dir) {
  const files = {};
  for (const name of FS.readdir(dir)) {
    if (name === '.' || name === '..') continue;
    files[name] = FS.readFile(`${dir}/${name}`);
    FS.unlink(`${dir}/${name}`);
  }
  FS.rmdir(dir);
  return files;
}

/**
 * A training run: an async iterator of step records { step, loss, grad_norm (before clipping),
 * lr, tokens, tokens_per_s, ms }, one per optimizer step. Aborting opts.signal, or leaving the
 * for-await loop, ends it after the step in progress (no error); `await run.result` then gives
 * { steps, stepsDone, aborted, losses }. A fine-tuning run puts its adapter into the model under
 * opts.adapterName ('finetuned') when it ends, for generate({ adapter }) at once.
 */
export class TrainingRun {
  constructor(core, kind, model, source, opts) {
    this.core = core;
    this.kind = kind;
    this.model = model;
    this.opts = opts;
    this.id = 0;
    this.done = false;
    this.stopRequested = false;
    this.losses = [];
    this.summary = null;
    this.adapterName = opts.adapterName ?? 'finetuned';
    this.started = this.start(source);
    this.started.catch(() => {});  // reported by next()
    let settle;
    this.result = new Promise((resolve, reject) => { settle = { resolve, reject }; });
    this.result.catch(() => {});
    this.settle = settle;
  }

  async start(source) {
    const core = this.core;
    const m = this.model ? core.engine() : await core.getEngine(this.opts.wasmUrl);
    let dir = '';
    let options = await engineOptions(m, core, this.kind, this.opts);
    if (!this.model) {
      dir = await core.mountSource(m, source);
      const backend = await backendFor(m, core, this.opts);
      options = { ...options, backend, threads: this.opts.threads, subgroups: this.opts.subgroups };
    }
    const handle = this.model?.handle ?? 0;
    await core.serialize(async () => {
      this.id = await core.call(m, 'hearth_train_start', 'number', ['number', 'string', 'string', 'string'],
        [handle, this.kind, dir, JSON.stringify(options)], { async: true });
      if (!this.id) throw core.engineError(m);
      this.info = JSON.parse(m.UTF8ToString(m._hearth_train_info(this.id)));
    });
    return this.id;
  }

  // The session: { kind, backend, steps, steps_done, batch, seq, accum, parameters, data,
  // bytes: { weights, gradients, optimizer, activations } } (after the first step's promise).
  async stats() {
    await this.started;
    const m = this.core.engine();
    return this.core.serialize(() => JSON.parse(m.UTF8ToString(m._hearth_train_info(this.id))));
  }

  async next() {
    if (this.done) return { value: undefined, done: true };
    try {
      await this.started;
      if (this.stopRequested || this.opts.signal?.aborted || this.losses.length >= this.info.steps) {
        await this.finish(this.losses.length < this.info.steps);
        return { value: undefined, done: true };
      }
      const m = this.core.engine();
      const json = await this.core.serialize(() => this.core.call(m, 'hearth_train_step', 'string', ['number'], [this.id],
        { async: true }));
      if (!json) throw this.core.engineError(m);
      const record = JSON.parse(json);
      this.losses.push(record.loss);
      return { value: record, done: false };
    } catch (e) {
      this.done = true;
      this.settle.reject(e);
      throw e;
    }
  }

  async finish(aborted) {
    if (this.done) return;
    this.done = true;
    try {
      if (this.kind === 'finetune' && this.losses.length) await this.useAdapter(this.adapterName);
      this.summary = { steps: this.info.steps, stepsDone: this.losses.length, aborted, losses: this.losses };
      this.settle.resolve(this.summary);
    } catch (e) {
      this.settle.reject(e);
      throw e;
    }
  }

  // Leaving a for-await loop early: training stops after the step in progress.
  async return() {
    this.stopRequested = true;
    try { await this.started; } catch { /* reported by next() */ }
    if (this.id) await this.finish(this.losses.length < this.info.steps);
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() { return this; }

  // Fine-tuning: the adapter as trained so far goes into the model under `name` (replacing one of
  // that name), for generate({ adapter: name }).
  async useAdapter(name = this.adapterName) {
    if (this.kind !== 'finetune') throw new Error('hearth: only a fine-tuning run has an adapter');
    await this.started;
    const m = this.core.engine();
    const ok = await this.core.serialize(() => this.core.call(m, 'hearth_train_add_adapter', 'number',
      ['number', 'string'], [this.id, name], { async: true }));
    if (!ok) throw this.core.engineError(m);
  }

  // The trained result as files { name: Uint8Array }: pretraining, a Hugging Face folder
  // (config.json, model.safetensors in opts.dtype 'f32' (default) or 'bf16', the tokenizer files);
  // fine-tuning, a PEFT adapter (adapter_config.json, adapter_model.safetensors).
  async save(opts = {}) {
    await this.started;
    const m = this.core.engine();
    const dir = `${TRAIN_DIR}/out${++fileCount}`;
    const ok = await this.core.serialize(() => this.core.call(m, 'hearth_train_save', 'number',
      ['number', 'string', 'string'], [this.id, dir, JSON.stringify({ dtype: opts.dtype })], { async: true }));
    if (!ok) throw this.core.engineError(m);
    return takeFiles(m.FS, dir);
  }

  // Gives the run's buffers back to its backend (save() and useAdapter() no longer work).
  async dispose() {
    try { await this.started; } catch { return; }
    const m = this.core.engine();
    await this.core.serialize(() => m._hearth_train_free(this.id));
    this.done = true;
  }
}

// Installs train / finetune / save / saveAdapter on HearthModel and returns trainModel. `core`:
// hearth.mjs's internals { HearthModel, engine() (the loaded module), getEngine(wasmUrl),
// getGpuBridge(opts), serialize, call, engineError, mountSource, mountNodeDir (a host folder the
// engine writes into), isNode }.
export function installTraining(core) {
  const P = core.HearthModel.prototype;
  const replace = (model, run) => {
    model.lastTraining?.dispose();
    model.lastTraining = run;
    return run;
  };
  /** Pretrains every tensor of this model's folder (from its weights, or with init: true from its
   * config) on this model's backend; see TrainingRun. */
  P.train = function train(opts = {}) { return replace(this, new TrainingRun(core, 'train', this, null, opts)); };
  /** Trains LoRA pairs on this model as loaded (f32, int8 or int4 base, frozen); see TrainingRun. */
  P.finetune = function finetune(opts = {}) { return replace(this, new TrainingRun(core, 'finetune', this, null, opts)); };
  /** The model trained by the last train(): { name: Uint8Array } of a Hugging Face folder. */
  P.save = function save(opts = {}) {
    if (this.lastTraining?.kind !== 'train') return Promise.reject(new Error('hearth: save() needs a train() run first'));
    return this.lastTraining.save(opts);
  };
  /** The adapter trained by the last finetune(): { name: Uint8Array } in PEFT layout. */
  P.saveAdapter = function saveAdapter() {
    if (this.lastTraining?.kind !== 'finetune') {
      return Promise.reject(new Error('hearth: saveAdapter() needs a finetune() run first'));
    }
    return this.lastTraining.save();
  };
  /** Pretrains the model folder `source` (path, URL or files, as loadModel takes; config.json
   * alone with init: true) without loading it for inference. Options as TrainingRun's, plus
   * backend ('webgpu' (default, falling back to the CPU) | 'cpu'), threads, subgroups, gpu. */
  return function trainModel(source, opts = {}) {
    return new TrainingRun(core, 'train', null, source, opts);
  };
}
