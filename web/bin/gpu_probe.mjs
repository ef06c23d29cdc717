// What the GPU itself allows, measured on its own device in the same process as a benchmark:
// the storage-buffer read bandwidth of a plain streaming kernel, and the cost of one dispatch
// that depends on the one before it (one compute pass, a barrier between them). A decode step
// is a chain of such dispatches reading the weights once, so these two numbers bound it.

const READ_WG = 256;

// Every invocation XORs the vec4<u32> words i, i + stride, ... of `src`; the workgroup folds its
// invocations' results in workgroup memory and adds them to out[0..3] with one atomic each, so
// the whole buffer is read, the result can be checked, and no global atomic is contended.
const READ_SRC = `
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> out: array<atomic<u32>, 4>;
var<workgroup> wx: array<atomic<u32>, 4>;
@compute @workgroup_size(${READ_WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) n: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let stride = n.x * ${READ_WG}u;
  let total = arrayLength(&src);
  var a = vec4<u32>(0u);
  var b = vec4<u32>(0u);
  var i = g.x;
  for (; i + stride < total; i += 2u * stride) {
    a ^= src[i];
    b ^= src[i + stride];
  }
  if (i < total) { a ^= src[i]; }
  a ^= b;
  for (var e = 0u; e < 4u; e++) { atomicXor(&wx[e], a[e]); }
  workgroupBarrier();
  if (lid < 4u) { atomicXor(&out[lid], atomicLoad(&wx[lid])); }
}`;

// One invocation adds one to a word that the next dispatch reads: each dispatch depends on the
// previous one.
const CHAIN_SRC = `
@group(0) @binding(0) var<storage, read_write> c: array<u32, 4>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { c[0] = c[0] + 1u; }
}`;

async function bestOf(device, reps, fn) {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    fn();
    await device.queue.onSubmittedWorkDone();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

async function readBack(device, buf, bytes) {
  const rb = device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, rb, 0, bytes);
  device.queue.submit([enc.finish()]);
  await rb.mapAsync(GPUMapMode.READ);
  const words = new Uint32Array(rb.getMappedRange().slice(0));
  rb.unmap();
  rb.destroy();
  return words;
}

/**
 * Measures the adapter `gpu.requestAdapter()` returns, on a device of its own.
 * opts.bytes: size of the buffer the read kernel streams (default 512 MiB, capped by the
 * adapter's limits); opts.reads: dispatches of the read kernel per timed submit; opts.chain:
 * dependent dispatches per timed submit.
 * Resolves to { readTBs, readBytes, dispatchUs, checksumOk, chainCount, chainExpected } (the
 * last three check that every word was read and every dispatch ran), or null when there is no
 * adapter. The read time includes the barrier between the read dispatches (a few us each).
 */
export async function probeGpu(gpu, opts = {}) {
  const adapter = await gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const L = adapter.limits;
  const cap = Math.min(L.maxStorageBufferBindingSize, L.maxBufferSize);
  const bytes = Math.floor(Math.min(opts.bytes ?? 512 * 2 ** 20, cap) / 16) * 16;
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: bytes, maxBufferSize: bytes },
  });
  try {
    const U = GPUBufferUsage;
    // Known contents: word i = i * 2654435761 (mod 2^32), written in slices.
    const src = device.createBuffer({ size: bytes, usage: U.STORAGE | U.COPY_DST });
    const slice = 16 * 2 ** 20;
    const expect = new Uint32Array(4);
    for (let off = 0; off < bytes; off += slice) {
      const n = Math.min(slice, bytes - off) / 4;
      const w = new Uint32Array(n);
      for (let i = 0; i < n; i++) {
        w[i] = Math.imul(off / 4 + i, 2654435761) >>> 0;
        expect[(off / 4 + i) & 3] ^= w[i];
      }
      device.queue.writeBuffer(src, off, w);
    }
    const out = device.createBuffer({ size: 16, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
    const read = device.createComputePipeline({
      layout: 'auto', compute: { module: device.createShaderModule({ code: READ_SRC }), entryPoint: 'main' },
    });
    const readGroup = device.createBindGroup({
      layout: read.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: out } }],
    });
    // Enough invocations to keep any GPU's memory system busy; at least 2 words each.
    const units = bytes / 16;
    const groups = Math.max(1, Math.min(L.maxComputeWorkgroupsPerDimension, Math.floor(units / (2 * READ_WG)), 8192));
    const reads = opts.reads ?? 8;
    const runReads = (n) => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(read);
      pass.setBindGroup(0, readGroup);
      for (let i = 0; i < n; i++) pass.dispatchWorkgroups(groups);
      pass.end();
      device.queue.submit([enc.finish()]);
    };
    // One read alone for the checksum, then the timed ones.
    device.queue.writeBuffer(out, 0, new Uint32Array(4));
    runReads(1);
    const got = await readBack(device, out, 16);
    const checksumOk = got.every((v, i) => v === expect[i]);
    runReads(2);  // warm-up
    await device.queue.onSubmittedWorkDone();
    const readMs = await bestOf(device, opts.reps ?? 5, () => runReads(reads));

    const chainBuf = device.createBuffer({ size: 16, usage: U.STORAGE | U.COPY_SRC | U.COPY_DST });
    const chain = device.createComputePipeline({
      layout: 'auto', compute: { module: device.createShaderModule({ code: CHAIN_SRC }), entryPoint: 'main' },
    });
    const chainGroup = device.createBindGroup({
      layout: chain.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: chainBuf } }],
    });
    const n = opts.chain ?? 256;
    const runChain = () => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(chain);
      pass.setBindGroup(0, chainGroup);
      for (let i = 0; i < n; i++) pass.dispatchWorkgroups(1);
      pass.end();
      device.queue.submit([enc.finish()]);
    };
    runChain();
    await device.queue.onSubmittedWorkDone();
    const chainMs = await bestOf(device, opts.reps ?? 5, runChain);
    // Every dispatch of the chain ran: 1 + reps runs of n increments.
    const count = (await readBack(device, chainBuf, 16))[0];
    return {
      readTBs: (reads * bytes) / (readMs / 1000) / 1e12,
      readBytes: bytes,
      dispatchUs: (chainMs * 1000) / n,
      checksumOk,
      chainCount: count,
      chainExpected: n * (1 + (opts.reps ?? 5)),
    };
  } finally {
    device.destroy();
  }
}
