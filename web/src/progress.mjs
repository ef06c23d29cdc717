// Load progress: the phases loadModel reports through opts.onProgress, as events
//   { phase, done, total, unit, file?, message }
// phase 'download' (bytes of the model's files read: fetched from a URL or read from File
// objects; `file` is the one being read, `total` the bytes known so far), 'cache' (bytes read
// from or written to the weight cache), 'read' (matrices read, converted and quantized by the
// engine, `unit` 'matrices'), 'compile' (WebGPU pipelines built by a first token), 'ready'.

// The body of a fetch() Response as bytes, calling onBytes(n, size) with the bytes received so
// far and the body's size (its content-length, 0 when unknown).
export async function readBytes(response, onBytes) {
  const size = Number(response.headers?.get?.('content-length') ?? 0);
  if (!response.body?.getReader || !onBytes) {
    const b = new Uint8Array(await response.arrayBuffer());
    onBytes?.(b.length, b.length);
    return b;
  }
  const reader = response.body.getReader();
  const parts = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    n += value.length;
    onBytes(n, size);
  }
  if (parts.length === 1 && (!size || size === n)) return parts[0];
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const MESSAGES = {
  download: 'reading files', cache: 'weight cache', read: 'loading weights', compile: 'compiling GPU pipelines',
  ready: 'ready',
};

// Turns the pieces' reports into onProgress events: byte counts per file are summed.
export class LoadProgress {
  constructor(onProgress) {
    this.onProgress = onProgress;
    this.files = new Map();  // name -> [bytes read, its size (0 = unknown)]
  }

  emit(phase, done, total, extra = {}) {
    if (!this.onProgress) return;
    const unit = phase === 'download' || phase === 'cache' ? 'bytes' : phase === 'read' ? 'matrices' : 'steps';
    try {
      this.onProgress({ phase, done, total, unit, message: MESSAGES[phase] ?? phase, ...extra });
    } catch (e) {
      console.warn(`hearth: onProgress threw: ${e?.message ?? e}`);
    }
  }

  // A file's bytes so far (download phase), with its size when known; `expected`: the total of
  // all files when it is known up front (File objects).
  bytes(file, n, size = 0, expected = 0) {
    this.files.set(file, [n, size]);
    let done = 0;
    let total = 0;
    for (const [d, t] of this.files.values()) {
      done += d;
      total += Math.max(d, t);
    }
    this.emit('download', done, Math.max(expected, total), { file });
  }
}
