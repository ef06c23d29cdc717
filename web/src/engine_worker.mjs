// The engine's side of the worker host (worker_host.mjs): a dedicated module Worker that loads
// one model with the in-process API (hearth.mjs) and answers the host's typed messages.
//
// Host -> worker: { type: 'load', source, opts } once, then
//   { type: 'call', id, method, args }       encode, decode, renderChat, loadAdapter,
//                                             unloadAdapter, stats, save, saveAdapter, dispose
//   { type: 'generate', id, prompt, opts }   streams { type: 'token', id, token }
//   { type: 'chat', id, messages, opts }     streams { type: 'chunk', id, chunk }
//   { type: 'train', id, kind, source, opts } kind 'train' | 'finetune' (the loaded model) or
//                                             'trainModel' (source; no model needed): streams
//                                             { type: 'record', id, record }, replies the summary
//   { type: 'run', id, run, method, args }   a training run's save, useAdapter, stats, dispose
//   { type: 'abort', id }                    stops that generation or training after its step
// Worker -> host: { type: 'progress', event }, { type: 'loaded', info, notes, stats },
//   { type: 'reply', id, value, stats }, { type: 'error', id, message, name } (id null: load).
// Token ids and saved files' bytes travel as transferred buffers.
import { loadModel, trainModel } from './hearth.mjs';

let model = null;
const streams = new Map();  // id -> AbortController of a running generate / chat / training
const runs = new Map();     // id of a 'train' message -> its TrainingRun (for save, useAdapter, ...)

function post(msg, transfer = []) {
  self.postMessage(msg, transfer);
}

function postError(id, e) {
  post({ type: 'error', id, message: String(e?.message ?? e), name: e?.name ?? 'Error' });
}

function snapshot() {
  try {
    return model?.stats() ?? null;
  } catch {
    return null;
  }
}

async function onLoad({ source, opts }) {
  try {
    model = await loadModel(source, { ...opts, worker: false, onProgress: (event) => post({ type: 'progress', event }) });
    post({ type: 'loaded', info: model.info, notes: model.notes, stats: snapshot() });
  } catch (e) {
    postError(null, e);
  }
}

async function onCall({ id, method, args }) {
  try {
    if (!model) throw new Error('hearth: no model is loaded in this worker');
    if (!['encode', 'decode', 'renderChat', 'loadAdapter', 'unloadAdapter', 'stats', 'save', 'saveAdapter',
      'dispose'].includes(method)) {
      throw new Error(`hearth: unknown engine call '${method}'`);
    }
    const value = await model[method](...args);
    if (method === 'save' || method === 'saveAdapter') {
      post({ type: 'reply', id, value, stats: snapshot() }, Object.values(value).map((b) => b.buffer));
    } else if (method === 'encode') {
      const ids = Int32Array.from(value);
      post({ type: 'reply', id, value: ids, stats: snapshot() }, [ids.buffer]);
    } else {
      post({ type: 'reply', id, value: value ?? null, stats: method === 'dispose' ? null : snapshot() });
    }
  } catch (e) {
    postError(id, e);
  }
}

// Runs a generate or chat request, streaming its items.
async function onStream({ type, id, prompt, messages, opts }) {
  const abort = new AbortController();
  streams.set(id, abort);
  try {
    if (!model) throw new Error('hearth: no model is loaded in this worker');
    const o = { ...opts, signal: abort.signal };
    const stream = type === 'generate' ? model.generate(prompt instanceof Int32Array ? Array.from(prompt) : prompt, o)
      : model.chat(messages, o);
    for await (const item of stream) {
      post(type === 'generate' ? { type: 'token', id, token: item } : { type: 'chunk', id, chunk: item });
    }
    const value = await stream.result;
    if (type === 'generate') {
      const ids = Int32Array.from(value.ids);
      post({ type: 'reply', id, value: { ...value, ids }, stats: snapshot() }, [ids.buffer]);
    } else {
      post({ type: 'reply', id, value, stats: snapshot() });
    }
  } catch (e) {
    postError(id, e);
  } finally {
    streams.delete(id);
  }
}

// Runs a training run, streaming its step records; the run stays for 'run' calls.
async function onTrain({ id, kind, source, opts }) {
  const abort = new AbortController();
  streams.set(id, abort);
  try {
    const o = { ...opts, signal: abort.signal };
    let run;
    if (kind === 'trainModel') run = trainModel(source, { ...o, worker: false });
    else if (!model) throw new Error('hearth: no model is loaded in this worker');
    else if (kind === 'train' || kind === 'finetune') run = model[kind](o);
    else throw new Error(`hearth: unknown training kind '${kind}'`);
    for (const [other, r] of runs) if (r.model && r.model === run.model) runs.delete(other);  // replaced
    runs.set(id, run);
    for await (const record of run) post({ type: 'record', id, record });
    post({ type: 'reply', id, value: await run.result, stats: snapshot() });
  } catch (e) {
    postError(id, e);
  } finally {
    streams.delete(id);
  }
}

async function onRun({ id, run: runId, method, args }) {
  try {
    const run = runs.get(runId);
    if (!run) throw new Error('hearth: that training run is gone (a later run replaced it, or it was disposed)');
    if (!['save', 'useAdapter', 'stats', 'dispose'].includes(method)) {
      throw new Error(`hearth: unknown training call '${method}'`);
    }
    const value = await run[method](...args);
    if (method === 'dispose') runs.delete(runId);
    const transfer = method === 'save' ? Object.values(value).map((b) => b.buffer) : [];
    post({ type: 'reply', id, value: value ?? null, stats: snapshot() }, transfer);
  } catch (e) {
    postError(id, e);
  }
}

self.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'load') onLoad(msg);
  else if (msg.type === 'call') onCall(msg);
  else if (msg.type === 'generate' || msg.type === 'chat') onStream(msg);
  else if (msg.type === 'train') onTrain(msg);
  else if (msg.type === 'run') onRun(msg);
  else if (msg.type === 'abort') streams.get(msg.id)?.abort();
  else postError(msg.id ?? null, new Error(`hearth: unknown worker message type '${msg.type}'`));
};
