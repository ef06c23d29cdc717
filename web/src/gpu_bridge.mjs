// The JS half of hearth's GPU bridge (src/ops/webgpu/bridge.h): buffers, pipelines and one
// call per submit that encodes a whole command list recorded in wasm: bind-group definitions,
// dispatches (all in one compute pass until a copy needs the encoder) and copies. Installed on
// the wasm module as `Module.hearthGpu`; the C++ side reaches it through EM_JS stubs.
//
// Works on any `navigator.gpu`: a browser's, or Node's through the npm package `webgpu` (see
// node_gpu.mjs).

const BUFFER_STORAGE = 0;
const BUFFER_PARAMS = 1;
const CMD_BIND_GROUP = 1;
const CMD_DISPATCH = 2;
const CMD_COPY = 3;

export class GpuBridge {
  /**
   * Creates a device on `gpu` (default: navigator.gpu). Resolves to { bridge, reason }: bridge
   * is null (and reason says why) when there is no WebGPU or no adapter.
   * opts.subgroups / opts.shaderF16: false keeps the feature off even when offered.
   */
  static async create(opts = {}) {
    const gpu = opts.gpu ?? globalThis.navigator?.gpu;
    if (!gpu) return { bridge: null, reason: 'WebGPU is not available (no navigator.gpu)' };
    let adapter = null;
    try {
      adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
    } catch (e) {
      return { bridge: null, reason: `WebGPU adapter request failed: ${e.message ?? e}` };
    }
    if (!adapter) return { bridge: null, reason: 'WebGPU is available but no GPU adapter was found' };
    const features = [];
    if (opts.subgroups !== false && adapter.features.has('subgroups')) features.push('subgroups');
    if (opts.shaderF16 !== false && adapter.features.has('shader-f16')) features.push('shader-f16');
    // opts.profile: true times every dispatch (a pass each); 'passes' times the command lists'
    // passes as they are, i.e. the GPU's busy time.
    const profile = !!opts.profile && adapter.features.has('timestamp-query');
    if (profile) features.push('timestamp-query');
    const L = adapter.limits;
    const requiredLimits = {};
    for (const k of ['maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize',
      'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxStorageBuffersPerShaderStage',
      'maxComputeWorkgroupsPerDimension']) {
      if (L[k] !== undefined) requiredLimits[k] = L[k];
    }
    let device;
    try {
      device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits });
    } catch (e) {
      return { bridge: null, reason: `WebGPU device creation failed: ${e.message ?? e}` };
    }
    const bridge = new GpuBridge(adapter, device);
    if (profile) bridge.startProfile(opts.profile === 'passes' ? 'passes' : 'kernels');
    return { bridge, reason: profile || !opts.profile ? '' : 'no timestamp-query: kernel times are not measured' };
  }

  constructor(adapter, device) {
    this.adapter = adapter;
    this.device = device;
    this.buffers = [null];     // id -> GPUBuffer
    this.pipelines = [null];   // id -> { pipeline, layout }
    this.layouts = new Map();  // layout key -> GPUBindGroupLayout
    this.pipelineIds = new Map();  // layout key + source -> pipeline id (shared by all engines)
    this.bindGroups = [];  // id -> GPUBindGroup (ids are small and increasing)
    this.staging = null;
    this.errors = [];
    this.lastError = '';
    // Host-side time: encoding command lists, finishing and submitting them, and waiting for
    // read-backs (GPU work + transfer).
    this.timing = { encodeMs: 0, submitMs: 0, waitMs: 0, submits: 0 };
    this.copyPool = [];    // staging buffers of submitCopy not in use
    this.copies = new Map();  // ticket -> { staging, size, bytes, mapped }
    this.nextTicket = 1;
    this.lost = null;
    device.lost?.then((info) => {
      this.lost = info;
      this.errors.push(`device lost: ${info.message}`);
    });
    device.onuncapturederror = (ev) => { this.errors.push(ev.error?.message ?? String(ev.error)); };
    const info = adapter.info ?? {};
    this.info = info;
  }

  get features() { return [...this.device.features]; }

  // "subgroups" when the kernels can use subgroup operations, else "none".
  get tier() { return this.device.features.has('subgroups') ? 'subgroups' : 'none'; }

  adapterName() {
    const i = this.info;
    const parts = [i.vendor, i.architecture, i.description || i.device].filter((s) => s);
    return parts.join(' ') || 'unknown adapter';
  }

  // The words DeviceInfo is read from (bridge_js.cpp hg_info).
  infoWords() {
    const L = this.device.limits;
    const f = this.device.features;
    const lo = (v) => Number(BigInt(v) & 0xffffffffn);
    const hi = (v) => Number(BigInt(v) >> 32n);
    return [f.has('subgroups') ? 1 : 0, f.has('shader-f16') ? 1 : 0, this.info.subgroupMinSize ?? 0,
      this.info.subgroupMaxSize ?? 0, lo(L.maxStorageBufferBindingSize), hi(L.maxStorageBufferBindingSize),
      lo(L.maxBufferSize), hi(L.maxBufferSize), L.maxComputeWorkgroupStorageSize,
      L.maxComputeInvocationsPerWorkgroup, L.maxComputeWorkgroupsPerDimension, L.minStorageBufferOffsetAlignment,
      L.maxStorageBuffersPerShaderStage];
  }

  createBuffer(bytes, kind) {
    const U = globalThis.GPUBufferUsage;
    const usage = kind === BUFFER_PARAMS ? U.STORAGE | U.COPY_DST : U.STORAGE | U.COPY_SRC | U.COPY_DST;
    try {
      const b = this.device.createBuffer({ size: bytes, usage });
      this.buffers.push(b);
      return this.buffers.length - 1;
    } catch (e) {
      this.lastError = `createBuffer(${bytes}): ${e.message ?? e}`;
      return 0;
    }
  }

  destroyBuffer(id) {
    const b = this.buffers[id];
    if (b) {
      b.destroy();
      this.buffers[id] = null;
    }
  }

  writeBuffer(id, offset, bytes) {
    this.device.queue.writeBuffer(this.buffers[id], offset, bytes);
  }

  layout(key) {
    let l = this.layouts.get(key);
    if (!l) {
      const entries = [{ binding: 0, visibility: GPUShaderStage.COMPUTE,
        buffer: { type: 'read-only-storage', hasDynamicOffset: true } }];
      key.split(',').filter((s) => s).forEach((t, i) => {
        entries.push({ binding: i + 1, visibility: GPUShaderStage.COMPUTE,
          buffer: { type: t === 'rw' ? 'storage' : 'read-only-storage' } });
      });
      l = this.device.createBindGroupLayout({ entries });
      this.layouts.set(key, l);
    }
    return l;
  }

  // Compiles a compute pipeline; resolves to its id, or 0 with the compiler's messages in
  // lastError. The same source and layout compile once per device, whichever model asks.
  async createPipeline(code, layoutKey, label) {
    const key = `${layoutKey}\n${code}`;
    const known = this.pipelineIds.get(key);
    if (known) return known;
    const device = this.device;
    const module = device.createShaderModule({ code, label });
    const layout = this.layout(layoutKey);
    try {
      const pipeline = await device.createComputePipelineAsync({
        label, layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
        compute: { module, entryPoint: 'main' },
      });
      this.pipelines.push({ pipeline, layout, label });
      this.pipelineIds.set(key, this.pipelines.length - 1);
      return this.pipelines.length - 1;
    } catch (e) {
      let msg = e.message ?? String(e);
      try {
        const info = await module.getCompilationInfo();
        const lines = code.split('\n');
        for (const m of info.messages) {
          msg += `\n  ${m.type} line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1] ?? ''}`;
        }
      } catch { /* no compilation info */ }
      this.lastError = msg;
      return 0;
    }
  }

  dropBindGroups(ids) {
    for (const id of ids) this.bindGroups[id] = undefined;
  }

  // Encodes the command list (Uint32Array) into one command encoder; returns the encoder.
  encode(cmds, paramsBuffer, params) {
    const t0 = performance.now();
    try {
      const enc = this.encodeList(cmds, paramsBuffer, params);
      if (this.prof?.labels.length) this.resolveProfile(enc);
      return enc;
    } finally {
      this.timing.encodeMs += performance.now() - t0;
      this.timing.submits++;
    }
  }

  encodeList(cmds, paramsBuffer, params) {
    const device = this.device;
    if (params.byteLength) device.queue.writeBuffer(this.buffers[paramsBuffer], 0, params);
    const enc = device.createCommandEncoder();
    let pass = null;
    let current = null;
    for (let i = 0; i < cmds.length;) {
      const op = cmds[i];
      if (op === CMD_BIND_GROUP) {
        const id = cmds[i + 1], pipe = cmds[i + 2], n = cmds[i + 3], window = cmds[i + 5];
        const entries = [{ binding: 0, resource: { buffer: this.buffers[cmds[i + 4]], size: window } }];
        for (let k = 1; k < n; k++) entries.push({ binding: k, resource: { buffer: this.buffers[cmds[i + 5 + k]] } });
        this.bindGroups[id] = device.createBindGroup({ layout: this.pipelines[pipe].layout, entries });
        i += 5 + n;
      } else if (op === CMD_DISPATCH) {
        if (this.prof?.mode === 'kernels' && this.prof.labels.length < this.prof.capacity) {
          // Profiling: a pass per dispatch, timestamps at its start and end.
          if (pass) pass.end();
          const q = 2 * this.prof.labels.length;
          pass = enc.beginComputePass({ timestampWrites: { querySet: this.prof.set, beginningOfPassWriteIndex: q,
            endOfPassWriteIndex: q + 1 } });
          this.prof.labels.push(this.pipelines[cmds[i + 1]].label);
          current = null;
        } else if (!pass) {
          const p = this.prof;
          if (p?.mode === 'passes' && p.labels.length < p.capacity) {
            const q = 2 * p.labels.length;
            pass = enc.beginComputePass({ timestampWrites: { querySet: p.set, beginningOfPassWriteIndex: q,
              endOfPassWriteIndex: q + 1 } });
            p.labels.push('pass');
          } else {
            pass = enc.beginComputePass();
          }
          current = null;
        }
        const p = this.pipelines[cmds[i + 1]].pipeline;
        if (p !== current) {
          pass.setPipeline(p);
          current = p;
        }
        pass.setBindGroup(0, this.bindGroups[cmds[i + 2]], cmds, i + 3, 1);
        pass.dispatchWorkgroups(cmds[i + 4], cmds[i + 5], cmds[i + 6]);
        i += 7;
      } else if (op === CMD_COPY) {
        if (pass) {
          pass.end();
          pass = null;
        }
        enc.copyBufferToBuffer(this.buffers[cmds[i + 1]], cmds[i + 2] + cmds[i + 3] * 2 ** 32,
          this.buffers[cmds[i + 4]], cmds[i + 5] + cmds[i + 6] * 2 ** 32, cmds[i + 7]);
        i += 8;
      } else {
        throw new Error(`hearth GPU bridge: bad command ${op} at word ${i}`);
      }
    }
    if (pass) pass.end();
    return enc;
  }

  // GPU time from timestamp queries (the 'timestamp-query' feature). mode 'kernels': per
  // kernel, each dispatch in a compute pass of its own; timing.kernels maps a kernel's label to
  // [total ms, dispatches]. mode 'passes': the passes as they are encoded; timing.gpuMs is
  // their total, the time the GPU was busy with them, and timing.passes their number.
  startProfile(mode = 'kernels', capacity = 2048) {
    const U = GPUBufferUsage;
    this.prof = { mode, capacity, labels: [], set: this.device.createQuerySet({ type: 'timestamp', count: 2 * capacity }),
      resolve: this.device.createBuffer({ size: 16 * capacity, usage: U.QUERY_RESOLVE | U.COPY_SRC }),
      pending: Promise.resolve() };
    if (mode === 'passes') {
      this.timing.gpuMs = 0;
      this.timing.passes = 0;
    } else {
      this.timing.kernels = {};
    }
  }

  // Appends the resolve of this list's timestamps to `enc`; their read-back is added to the
  // totals once the GPU is done.
  resolveProfile(enc) {
    const p = this.prof;
    const n = p.labels.length;
    const labels = p.labels;
    p.labels = [];
    const out = this.device.createBuffer({ size: 16 * n, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    enc.resolveQuerySet(p.set, 0, 2 * n, p.resolve, 0);
    enc.copyBufferToBuffer(p.resolve, 0, out, 0, 16 * n);
    // Mapped after the submit that carries this encoder (the caller submits right away).
    queueMicrotask(() => {
      p.pending = p.pending.then(() => out.mapAsync(GPUMapMode.READ)).then(() => {
        const t = new BigUint64Array(out.getMappedRange());
        for (let k = 0; k < n; k++) {
          const ms = Number(t[2 * k + 1] - t[2 * k]) / 1e6;
          if (p.mode === 'passes') {
            this.timing.gpuMs += ms;
            this.timing.passes++;
            continue;
          }
          const e = (this.timing.kernels[labels[k]] ??= [0, 0]);
          e[0] += ms;
          e[1]++;
        }
        out.destroy();
      }, () => out.destroy());
    });
  }

  // Resolves once the kernel times of everything submitted so far are in timing.kernels.
  async profileSettled() {
    if (this.prof) await this.prof.pending;
  }

  // Finishes `enc` and submits it.
  submitEncoder(enc) {
    const t0 = performance.now();
    try {
      this.device.queue.submit([enc.finish()]);
    } finally {
      this.timing.submitMs += performance.now() - t0;
    }
  }

  submit(cmds, paramsBuffer, params) {
    try {
      this.submitEncoder(this.encode(cmds, paramsBuffer, params));
    } catch (e) {
      this.errors.push(`submit: ${e.message ?? e}`);
    }
  }

  // Submits the list plus a copy of `bytes` from buffer `src` at `srcOffset`, waits for the
  // copy, and hands the mapped bytes to `deliver` (which copies them into wasm memory).
  async submitAndRead(cmds, paramsBuffer, params, src, srcOffset, bytes, deliver) {
    const device = this.device;
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    if (!this.staging || this.staging.size < size) {
      this.staging?.destroy();
      this.staging = device.createBuffer({ size: Math.max(size, 1 << 16),
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    }
    const staging = this.staging;
    try {
      const enc = this.encode(cmds, paramsBuffer, params);
      enc.copyBufferToBuffer(this.buffers[src], srcOffset, staging, 0, bytes);
      this.submitEncoder(enc);
      const t0 = performance.now();
      await staging.mapAsync(GPUMapMode.READ, 0, size);
      this.timing.waitMs += performance.now() - t0;
    } catch (e) {
      this.lastError = `${e.message ?? e}${this.errors.length ? `; ${this.errors.join('; ')}` : ''}`;
      return false;
    }
    deliver(new Uint8Array(staging.getMappedRange(0, size), 0, bytes));
    staging.unmap();
    return true;
  }

  // Submits the list plus a copy of `bytes` from buffer `src` into a staging buffer of a pool and
  // starts mapping it, without waiting: returns a ticket for waitCopy (0 on failure).
  submitCopy(cmds, paramsBuffer, params, src, srcOffset, bytes) {
    const device = this.device;
    const size = Math.max(16, Math.ceil(bytes / 16) * 16);
    let staging = this.copyPool.findIndex((b) => b.size >= size);
    staging = staging >= 0 ? this.copyPool.splice(staging, 1)[0]
      : device.createBuffer({ size: Math.max(size, 256), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = this.encode(cmds, paramsBuffer, params);
      enc.copyBufferToBuffer(this.buffers[src], srcOffset, staging, 0, bytes);
      this.submitEncoder(enc);
    } catch (e) {
      this.lastError = `${e.message ?? e}`;
      this.copyPool.push(staging);
      return 0;
    }
    const mapped = staging.mapAsync(GPUMapMode.READ, 0, size).then(() => true, (e) => {
      this.lastError = `${e.message ?? e}${this.errors.length ? `; ${this.errors.join('; ')}` : ''}`;
      return false;
    });
    const ticket = this.nextTicket++;
    this.copies.set(ticket, { staging, size, bytes, mapped });
    return ticket;
  }

  // Waits for the copy of `ticket`, hands its bytes to `deliver`, and returns the staging buffer
  // to the pool.
  async waitCopy(ticket, deliver) {
    const c = this.copies.get(ticket);
    if (!c) {
      this.lastError = `no read-back with ticket ${ticket}`;
      return false;
    }
    this.copies.delete(ticket);
    const t0 = performance.now();
    const ok = await c.mapped;
    this.timing.waitMs += performance.now() - t0;
    if (ok) {
      deliver(new Uint8Array(c.staging.getMappedRange(0, c.size), 0, c.bytes));
      c.staging.unmap();
      this.copyPool.push(c.staging);
    } else {
      c.staging.destroy();
    }
    return ok;
  }

  takeErrors() {
    if (!this.errors.length) return '';
    const s = this.errors.join('; ');
    this.errors = [];
    return s;
  }

  destroy() {
    this.prof?.set.destroy();
    this.prof?.resolve.destroy();
    for (const b of this.buffers) b?.destroy();
    this.buffers = [null];
    this.staging?.destroy();
    this.staging = null;
    for (const b of this.copyPool) b.destroy();
    for (const c of this.copies.values()) c.staging.destroy();
    this.copyPool = [];
    this.copies.clear();
    this.bindGroups = [];
    this.device.destroy();
  }
}
