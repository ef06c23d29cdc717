// The narrow GPU interface the WebGPU backend is written against: buffers, WGSL pipelines, a
// command list (bind groups + dispatches + copies) submitted in one call, and a read-back that
// waits. Its wasm implementation (bridge_js.cpp) forwards each call to a JS object installed
// as Module.hearthGpu (web/src/gpu_bridge.mjs), which drives navigator.gpu: in a browser, or in
// Node through the npm package `webgpu` (Dawn). Keeping the interface this small keeps the
// wasm <-> JS crossings to one per submit, however many dispatches it holds.
//
// Command list: u32 words, one command after another.
//   kCmdBindGroup: id, pipeline, n_buffers, params_buffer, params_window, buffer ids...
//       defines bind group `id` for the layout of `pipeline`: binding 0 = params_buffer at a
//       dynamic offset (window bytes), bindings 1..n_buffers-1 = whole buffers.
//   kCmdDispatch:  pipeline, bind_group, params_offset, x, y, z
//   kCmdCopy:      src, src_offset_lo, src_offset_hi, dst, dst_offset_lo, dst_offset_hi, bytes
// Before encoding, the params bytes given with the list are written to params_buffer at 0.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.h"

namespace hearth::webgpu {

enum Cmd : uint32_t { kCmdBindGroup = 1, kCmdDispatch = 2, kCmdCopy = 3 };

// What the device offers (the JS side picked features and limits at device creation).
struct DeviceInfo {
  bool subgroups = false;   // 'subgroups' enabled on the device
  bool shader_f16 = false;  // 'shader-f16' enabled (not needed by any kernel)
  uint32_t subgroup_min = 0, subgroup_max = 0;
  uint64_t max_storage_binding = 128ull << 20;
  uint64_t max_buffer = 256ull << 20;
  uint32_t max_workgroup_storage = 16384;
  uint32_t max_invocations = 256;
  uint32_t max_workgroups_per_dim = 65535;
  uint32_t min_storage_offset_alignment = 256;
  uint32_t max_storage_buffers = 8;  // per shader stage, the params binding included
  std::string adapter;  // vendor / architecture / description
};

enum class BufferKind : uint32_t {
  Storage = 0,  // STORAGE | COPY_SRC | COPY_DST
  Params = 1,   // STORAGE | COPY_DST
};

namespace bridge {

// True when Module.hearthGpu is installed (a device was created on the JS side).
bool available();
DeviceInfo device_info();
// 0 when the buffer cannot be created (message in last_error()).
uint32_t create_buffer(uint64_t bytes, BufferKind kind);
void destroy_buffer(uint32_t id);
// Queue write (ordered before the next submit).
void write_buffer(uint32_t id, uint64_t offset, const void* data, uint64_t bytes);
// Compiles a compute pipeline (entry point `main`). `layout` lists the bindings after the
// params binding: "rw" (read-write storage) or "r" (read-only storage), comma-separated.
// Waits for the compilation; 0 on failure (the compiler's messages in last_error()).
uint32_t create_pipeline(const std::string& wgsl, const std::string& layout, const std::string& label);
// Forgets bind group ids (their buffers were destroyed).
void drop_bind_groups(const uint32_t* ids, size_t n);
void submit(const uint32_t* cmds, size_t n_words, uint32_t params_buffer, const void* params, size_t params_bytes);
// submit(), then copies `bytes` from src at src_offset to host memory at dst and waits.
Status submit_and_read(const uint32_t* cmds, size_t n_words, uint32_t params_buffer, const void* params,
                       size_t params_bytes, uint32_t src, uint64_t src_offset, void* dst, uint64_t bytes);
// submit(), then starts copying `bytes` from src at src_offset to a staging buffer without
// waiting: returns a ticket for wait_copy (0 on failure, message in last_error()). Later
// submits may run while the copy is outstanding.
uint32_t submit_copy(const uint32_t* cmds, size_t n_words, uint32_t params_buffer, const void* params,
                     size_t params_bytes, uint32_t src, uint64_t src_offset, uint64_t bytes);
// Waits for the copy of `ticket` and writes its bytes to dst.
Status wait_copy(uint32_t ticket, void* dst, uint64_t bytes);
// Errors the device reported since the last call (validation, out of memory, device lost);
// empty when none.
std::string take_errors();
std::string last_error();

}  // namespace bridge
}  // namespace hearth::webgpu
