// The worker host: loadModel(..., { worker: true }) (the default in a browser page) runs the
// wasm engine and its GPU device in a dedicated module Worker (engine_worker.mjs, whose header
// lists the messages) and returns a WorkerModel with HearthModel's API (training included), so
// prefill, quantization and training never block the page. One worker per model: dispose() ends
// it; trainModel gets a worker of its own.
//
// Cancellation: an AbortSignal in generate / chat options reaches the worker (generation stops
// after the current token); one in loadModel's options ends the worker at once. Errors raised
// in the worker arrive as Errors with the engine's message.

// Options that stay on this side (functions, objects that cannot be cloned).
const LOCAL_OPTIONS = ['onProgress', 'signal', 'gpu', 'worker', 'workerUrl'];

function absolute(source) {
  if (typeof source === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(source) && typeof location !== 'undefined') {
    return new URL(source, location.href).href;  // relative to the page, not to the worker
  }
  return source instanceof URL ? source.href : source;
}

function toError(msg) {
  if (msg.name === 'AbortError') return new DOMException(msg.message, 'AbortError');
  const e = new Error(msg.message);
  if (msg.name && msg.name !== 'Error') e.name = msg.name;
  return e;
}

// The stream of a generate or chat request running in the worker: an async iterator of its
// items (tokens / chunks) with `result`, like GenerationStream and ChatStream.
class WorkerStream {
  constructor(host, id, signal, map) {
    this.host = host;
    this.id = id;
    this.map = map;
    this.items = [];
    this.waiters = [];
    this.done = false;
    this.error = null;
    this.result = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    this.result.catch(() => {});
    if (signal) {
      const onAbort = () => this.abort();
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      this.result.finally(() => signal.removeEventListener('abort', onAbort)).catch(() => {});
    }
  }

  abort() {
    if (!this.done) this.host.post({ type: 'abort', id: this.id });
  }

  push(item) {
    const w = this.waiters.shift();
    if (w) w.resolve({ value: item, done: false });
    else this.items.push(item);
  }

  end(error, value) {
    this.done = true;
    this.error = error;
    if (error) this.settle.reject(error);
    else this.settle.resolve(this.map(value));
    for (const w of this.waiters.splice(0)) {
      if (error) w.reject(error);
      else w.resolve({ value: undefined, done: true });
    }
  }

  next() {
    if (this.items.length) return Promise.resolve({ value: this.items.shift(), done: false });
    if (this.done) return this.error ? Promise.reject(this.error) : Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  async return() {
    this.abort();
    try { await this.result; } catch { /* reported to next() callers */ }
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() { return this; }
}

class WorkerHost {
  constructor(url) {
    this.worker = new Worker(url, { type: 'module', name: 'hearth-engine' });
    this.nextId = 1;
    this.pending = new Map();  // id -> { resolve, reject } of a call
    this.streams = new Map();  // id -> WorkerStream
    this.onLoad = null;
    this.dead = null;
    this.worker.onmessage = (ev) => this.receive(ev.data);
    this.worker.onerror = (ev) => {
      ev.preventDefault?.();
      this.fail(new Error(`hearth: the engine worker failed: ${ev.message || 'the worker script did not load'}`));
    };
    this.worker.onmessageerror = () => this.fail(new Error('hearth: a message from the engine worker could not be read'));
  }

  post(msg, transfer = []) {
    this.worker.postMessage(msg, transfer);
  }

  receive(msg) {
    if (msg.stats !== undefined && msg.stats !== null) this.stats = msg.stats;
    switch (msg.type) {
      case 'progress': this.onProgress?.(msg.event); break;
      case 'loaded': this.onLoad?.resolve(msg); break;
      case 'token': this.streams.get(msg.id)?.push(msg.token); break;
      case 'chunk': this.streams.get(msg.id)?.push(msg.chunk); break;
      case 'record': this.streams.get(msg.id)?.push(msg.record); break;
      case 'reply': this.settle(msg.id, null, msg.value); break;
      case 'error':
        if (msg.id === null) this.onLoad?.reject(toError(msg));
        else this.settle(msg.id, toError(msg));
        break;
      default: break;
    }
  }

  settle(id, error, value) {
    const s = this.streams.get(id);
    if (s) {
      this.streams.delete(id);
      s.end(error, value);
      return;
    }
    const p = this.pending.get(id);
    if (!p) return;
    this.pending.delete(id);
    if (error) p.reject(error);
    else p.resolve(value);
  }

  // The worker is gone (crashed, terminated): everything under way fails with `error`.
  fail(error) {
    this.dead ??= error;
    this.onLoad?.reject(error);
    for (const id of [...this.pending.keys(), ...this.streams.keys()]) this.settle(id, error);
  }

  call(method, args = [], transfer = [], extra = {}) {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.post({ type: 'call', id, method, args, ...extra }, transfer);
    });
  }

  stream(msg, signal, map = (v) => v) {
    const id = this.nextId++;
    const s = new WorkerStream(this, id, signal, map);
    if (this.dead) {
      s.end(this.dead);
      return s;
    }
    this.streams.set(id, s);
    this.post({ ...msg, id });
    return s;
  }

  terminate(error) {
    this.worker.terminate();
    this.fail(error ?? new Error('hearth: the model was disposed'));
  }
}

// A training run in the worker: an async iterator of step records with `result` (the summary),
// and TrainingRun's save, useAdapter, stats and dispose. `ownsWorker`: trainModel's run, whose
// worker ends with dispose().
class WorkerTrainingRun extends WorkerStream {
  constructor(host, id, signal, kind, ownsWorker) {
    super(host, id, signal, (v) => v);
    this.kind = kind;
    this.ownsWorker = ownsWorker;
  }

  runCall(method, args = []) {
    return this.host.call(method, args, [], { type: 'run', run: this.id });
  }

  save(opts = {}) { return this.runCall('save', [opts]); }

  useAdapter(name) { return this.runCall('useAdapter', name === undefined ? [] : [name]); }

  stats() { return this.runCall('stats'); }

  async dispose() {
    if (this.host.dead) return;
    try {
      await this.runCall('dispose');
    } finally {
      if (this.ownsWorker) this.host.terminate();
    }
  }
}

function withoutLocal(opts) {
  const o = {};
  for (const [k, v] of Object.entries(opts ?? {})) if (!LOCAL_OPTIONS.includes(k) && typeof v !== 'function') o[k] = v;
  return o;
}

// HearthModel's API over a worker. stats() gives the counters as of the last reply.
export class WorkerModel {
  constructor(host, loaded) {
    this.host = host;
    this.info = loaded.info;
    this.notes = loaded.notes;
    this.worker = true;
  }

  async encode(text) {
    return Array.from(await this.host.call('encode', [text]));
  }

  decode(ids, opts = {}) {
    return this.host.call('decode', [Array.from(ids), opts]);
  }

  renderChat(messages, opts = {}) {
    return this.host.call('renderChat', [messages, withoutLocal(opts)]);
  }

  generate(prompt, opts = {}) {
    const p = typeof prompt === 'string' ? prompt : Int32Array.from(prompt);
    return this.host.stream({ type: 'generate', prompt: p, opts: withoutLocal(opts) }, opts.signal,
      (v) => ({ ...v, ids: Array.from(v.ids) }));
  }

  async complete(prompt, opts = {}) {
    const stream = this.generate(prompt, opts);
    let text = '';
    for await (const t of stream) text += t.text;
    return { ...(await stream.result), text };
  }

  chat(messages, opts = {}) {
    return this.host.stream({ type: 'chat', messages, opts: withoutLocal(opts) }, opts.signal);
  }

  train(opts = {}) { return this.training('train', opts); }

  finetune(opts = {}) { return this.training('finetune', opts); }

  training(kind, opts) {
    const id = this.host.nextId++;
    const run = new WorkerTrainingRun(this.host, id, opts.signal, kind, false);
    if (this.host.dead) run.end(this.host.dead);
    else {
      this.host.streams.set(id, run);
      this.host.post({ type: 'train', id, kind, opts: withoutLocal(opts) });
    }
    return run;
  }

  // The model trained by the last train() (a Hugging Face folder) / the adapter of the last
  // finetune() (PEFT): { name: Uint8Array }.
  save(opts = {}) { return this.host.call('save', [opts]); }

  saveAdapter() { return this.host.call('saveAdapter'); }

  loadAdapter(name, source) {
    return this.host.call('loadAdapter', [name, absolute(source)]);
  }

  unloadAdapter(name) {
    return this.host.call('unloadAdapter', [name]);
  }

  stats() {
    return this.host.stats;
  }

  async dispose() {
    if (this.host.dead) return;
    try {
      await this.host.call('dispose');
    } finally {
      this.host.terminate();
    }
  }
}

export async function loadModelInWorker(source, opts = {}) {
  if (opts.signal?.aborted) throw new DOMException('hearth: loading was cancelled', 'AbortError');
  const host = new WorkerHost(opts.workerUrl ?? new URL('./engine_worker.mjs', import.meta.url));
  host.onProgress = opts.onProgress;
  const o = withoutLocal(opts);
  if (o.wasmUrl) o.wasmUrl = absolute(o.wasmUrl);
  const onAbort = () => host.terminate(new DOMException('hearth: loading was cancelled', 'AbortError'));
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const loaded = await new Promise((resolve, reject) => {
      host.onLoad = { resolve, reject };
      host.post({ type: 'load', source: absolute(source), opts: o });
    });
    host.onLoad = null;
    return new WorkerModel(host, loaded);
  } catch (e) {
    host.terminate(e);
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

// trainModel(source, opts) in a worker of its own: pretrains the model folder `source` without
// loading it for inference; dispose() ends the worker.
export function trainModelInWorker(source, opts = {}) {
  const host = new WorkerHost(opts.workerUrl ?? new URL('./engine_worker.mjs', import.meta.url));
  const id = host.nextId++;
  const run = new WorkerTrainingRun(host, id, opts.signal, 'train', true);
  host.streams.set(id, run);
  const o = withoutLocal(opts);
  if (o.wasmUrl) o.wasmUrl = absolute(o.wasmUrl);
  host.post({ type: 'train', id, kind: 'trainModel', source: absolute(source), opts: o });
  return run;
}
