// wasm implementation of bridge.h: each call forwards to the JS object Module.hearthGpu
// (web/src/gpu_bridge.mjs). The two calls that wait on the GPU (pipeline compilation and the
// read-back's mapAsync) are EM_ASYNC_JS: under ASYNCIFY the wasm stack unwinds, the JS promise
// settles, and the C++ caller resumes as if the call had been synchronous.
#include <emscripten.h>

#include <vector>

#include "ops/webgpu/bridge.h"

namespace {

// clang-format off
EM_JS(int, hg_available, (), { return Module['hearthGpu'] ? 1 : 0; });

EM_JS(void, hg_info, (uint32_t* out, int n, char* name, int name_cap), {
  const g = Module['hearthGpu'];
  const v = g.infoWords();
  for (let i = 0; i < n && i < v.length; i++) HEAPU32[(out >> 2) + i] = v[i] >>> 0;
  stringToUTF8(g.adapterName(), name, name_cap);
});

EM_JS(uint32_t, hg_create_buffer, (double bytes, int kind), {
  return Module['hearthGpu'].createBuffer(bytes, kind);
});

EM_JS(void, hg_destroy_buffer, (uint32_t id), { Module['hearthGpu'].destroyBuffer(id); });

EM_JS(void, hg_write_buffer, (uint32_t id, double offset, const void* data, double bytes), {
  Module['hearthGpu'].writeBuffer(id, offset, HEAPU8.subarray(data, data + bytes));
});

EM_ASYNC_JS(uint32_t, hg_create_pipeline, (const char* code, const char* layout, const char* label), {
  return await Module['hearthGpu'].createPipeline(UTF8ToString(code), UTF8ToString(layout), UTF8ToString(label));
});

EM_JS(void, hg_drop_bind_groups, (const uint32_t* ids, int n), {
  Module['hearthGpu'].dropBindGroups(HEAPU32.subarray(ids >> 2, (ids >> 2) + n));
});

EM_JS(void, hg_submit, (const uint32_t* cmds, int n, uint32_t pbuf, const void* params, int pbytes), {
  Module['hearthGpu'].submit(HEAPU32.subarray(cmds >> 2, (cmds >> 2) + n), pbuf,
                             HEAPU8.subarray(params, params + pbytes));
});

EM_ASYNC_JS(int, hg_submit_read, (const uint32_t* cmds, int n, uint32_t pbuf, const void* params, int pbytes,
                                  uint32_t src, double src_off, void* dst, double bytes), {
  const ok = await Module['hearthGpu'].submitAndRead(
      HEAPU32.subarray(cmds >> 2, (cmds >> 2) + n), pbuf, HEAPU8.subarray(params, params + pbytes), src, src_off,
      bytes, (mapped) => { HEAPU8.set(mapped, dst); });
  return ok ? 1 : 0;
});

EM_JS(uint32_t, hg_submit_copy, (const uint32_t* cmds, int n, uint32_t pbuf, const void* params, int pbytes,
                                  uint32_t src, double src_off, double bytes), {
  return Module['hearthGpu'].submitCopy(HEAPU32.subarray(cmds >> 2, (cmds >> 2) + n), pbuf,
                                        HEAPU8.subarray(params, params + pbytes), src, src_off, bytes);
});

EM_ASYNC_JS(int, hg_wait_copy, (uint32_t ticket, void* dst), {
  const ok = await Module['hearthGpu'].waitCopy(ticket, (mapped) => { HEAPU8.set(mapped, dst); });
  return ok ? 1 : 0;
});

EM_JS(int, hg_take_errors, (char* out, int cap), {
  const s = Module['hearthGpu'].takeErrors();
  if (!s) return 0;
  stringToUTF8(s, out, cap);
  return 1;
});

EM_JS(void, hg_last_error, (char* out, int cap), {
  stringToUTF8(Module['hearthGpu'].lastError || "", out, cap);
});
// clang-format on

std::string js_string(void (*fn)(char*, int)) {
  std::vector<char> buf(8192, 0);
  fn(buf.data(), int(buf.size()));
  return std::string(buf.data());
}

}  // namespace

namespace hearth::webgpu::bridge {

bool available() { return hg_available() != 0; }

DeviceInfo device_info() {
  uint32_t w[16] = {};
  char name[512] = {};
  hg_info(w, 16, name, int(sizeof(name)));
  DeviceInfo d;
  d.subgroups = w[0] != 0;
  d.shader_f16 = w[1] != 0;
  d.subgroup_min = w[2];
  d.subgroup_max = w[3];
  d.max_storage_binding = uint64_t(w[4]) | (uint64_t(w[5]) << 32);
  d.max_buffer = uint64_t(w[6]) | (uint64_t(w[7]) << 32);
  d.max_workgroup_storage = w[8];
  d.max_invocations = w[9];
  d.max_workgroups_per_dim = w[10];
  d.min_storage_offset_alignment = w[11];
  if (w[12]) d.max_storage_buffers = w[12];
  d.adapter = name;
  return d;
}

uint32_t create_buffer(uint64_t bytes, BufferKind kind) { return hg_create_buffer(double(bytes), int(kind)); }
void destroy_buffer(uint32_t id) { hg_destroy_buffer(id); }
void write_buffer(uint32_t id, uint64_t offset, const void* data, uint64_t bytes) {
  hg_write_buffer(id, double(offset), data, double(bytes));
}
uint32_t create_pipeline(const std::string& wgsl, const std::string& layout, const std::string& label) {
  return hg_create_pipeline(wgsl.c_str(), layout.c_str(), label.c_str());
}
void drop_bind_groups(const uint32_t* ids, size_t n) { hg_drop_bind_groups(ids, int(n)); }
void submit(const uint32_t* cmds, size_t n_words, uint32_t params_buffer, const void* params, size_t params_bytes) {
  hg_submit(cmds, int(n_words), params_buffer, params, int(params_bytes));
}
Status submit_and_read(const uint32_t* cmds, size_t n_words, uint32_t params_buffer, const void* params,
                       size_t params_bytes, uint32_t src, uint64_t src_offset, void* dst, uint64_t bytes) {
  if (hg_submit_read(cmds, int(n_words), params_buffer, params, int(params_bytes), src, double(src_offset), dst,
                     double(bytes))) {
    return {};
  }
  return err("WebGPU read-back failed: ", last_error());
}
uint32_t submit_copy(const uint32_t* cmds, size_t n_words, uint32_t params_buffer, const void* params,
                     size_t params_bytes, uint32_t src, uint64_t src_offset, uint64_t bytes) {
  return hg_submit_copy(cmds, int(n_words), params_buffer, params, int(params_bytes), src, double(src_offset),
                        double(bytes));
}
Status wait_copy(uint32_t ticket, void* dst, uint64_t bytes) {
  (void)bytes;
  if (hg_wait_copy(ticket, dst)) return {};
  return err("WebGPU read-back failed: ", last_error());
}
std::string take_errors() {
  std::vector<char> buf(8192, 0);
  if (!hg_take_errors(buf.data(), int(buf.size()))) return {};
  return std::string(buf.data());
}
std::string last_error() { return js_string(hg_last_error); }

}  // namespace hearth::webgpu::bridge
