// Dispatch recording, pipeline and bind-group caches, the params arena (see recorder.h).
#include "ops/webgpu/recorder.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace hearth::webgpu {

Recorder::Recorder(const DeviceInfo& info, bool subgroups) : info_(info), subgroups_(subgroups) {}

Recorder::~Recorder() {
  if (params_buffer_) bridge::destroy_buffer(params_buffer_);
}

Status Recorder::init() {
  params_buffer_ = bridge::create_buffer(kParamsCapacity, BufferKind::Params);
  if (!params_buffer_) return err("WebGPU: cannot create the parameter buffer: ", bridge::last_error());
  return {};
}

void Recorder::fail(const Error& e) {
  if (status_.ok()) {
    std::fprintf(stderr, "hearth: %s\n", e.message.c_str());
    status_ = e;
  }
}

void Recorder::grid(uint64_t n, uint32_t* x, uint32_t* y) const {
  const uint64_t lim = info_.max_workgroups_per_dim ? info_.max_workgroups_per_dim : 65535;
  n = std::max<uint64_t>(n, 1);
  if (n <= lim) {
    *x = uint32_t(n);
    *y = 1;
  } else {
    *y = uint32_t((n + lim - 1) / lim);
    *x = uint32_t((n + *y - 1) / *y);
  }
}

namespace {
// FNV-1a over 8-byte words (then the bytes left), for cache keys built without allocating.
struct Hash {
  uint64_t h = 1469598103934665603ull;
  void bytes(const void* p, size_t n) {
    const auto* c = static_cast<const unsigned char*>(p);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      uint64_t w;
      std::memcpy(&w, c + i, 8);
      h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; ++i) h = (h ^ c[i]) * 1099511628211ull;
  }
  void cstr(const char* s) { bytes(s, std::strlen(s) + 1); }
  void u32(uint32_t v) { h = (h ^ v) * 1099511628211ull; }
};
}  // namespace

uint32_t Recorder::pipeline_for(uint64_t key, const ShaderSpec& spec, const std::vector<Binding>& bindings,
                                const std::string& layout) {
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;
  auto src = compose_wgsl(spec, bindings);
  if (!src.ok()) {
    fail(src.error());
    return 0;
  }
  // The label (kernel profiles group by it) names the kernel, its weight format and the bool
  // consts that are on: matmul_vec_subgroup_int4+PAIR+XV4+NORM.
  const std::string label =
      std::string(spec.kernel) + (*spec.weights ? std::string("_") + spec.weights : "") + bools_on(spec.consts);
  uint32_t id = bridge::create_pipeline(*src, layout, label);
  if (!id) {
    fail(err("WebGPU: kernel ", label, " does not compile: ", bridge::last_error()));
    return 0;
  }
  pipelines_.emplace(key, id);
  return id;
}

uint32_t Recorder::bind_group_for(uint32_t pipeline, uint64_t layout_key, const uint32_t* bufs, size_t n,
                                  uint32_t window) {
  Hash h;
  h.bytes(&layout_key, 8);
  h.u32(window);
  h.bytes(bufs, n * 4);
  auto it = bind_groups_.find(h.h);
  if (it != bind_groups_.end()) return it->second;
  // Ids are unique in the process: every recorder (one per loaded model) shares the one bridge.
  static uint32_t next_bind_group = 1;
  const uint32_t id = next_bind_group++;
  cmds_.insert(cmds_.end(), {kCmdBindGroup, id, pipeline, uint32_t(n + 1), params_buffer_, window});
  cmds_.insert(cmds_.end(), bufs, bufs + n);
  bind_groups_.emplace(h.h, id);
  bind_group_buffers_.emplace(id, std::vector<uint32_t>(bufs, bufs + n));
  bind_group_keys_.emplace(id, h.h);
  return id;
}

void Recorder::dispatch(const DispatchDesc& d) {
  if (!status_.ok()) return;
  const bool sg = subgroups_ && d.shader.reduce;
  if (d.shader.needs_subgroups && !subgroups_) {
    fail(err("WebGPU: kernel ", d.shader.kernel, " needs subgroups, which this device does not have"));
    return;
  }
  // One binding per distinct (buffer, view); operands naming the same one share it. Kept on
  // the stack: this runs for every dispatch of every token.
  struct Slot {
    uint32_t buffer;
    bool write, weights, vec4, words;
  };
  constexpr size_t kMax = 24;
  if (d.operands.overflowed() || d.shader.consts.overflowed()) {
    fail(err("WebGPU: ", d.shader.kernel, " names more than ", kMax, " operands or too many constants"));
    return;
  }
  Slot slots[kMax];
  uint8_t slot_of[kMax];
  size_t n_slots = 0;
  for (size_t i = 0; i < d.operands.size(); ++i) {
    const Operand& op = d.operands[i];
    size_t j = 0;
    while (j < n_slots && !(slots[j].buffer == op.buffer && slots[j].weights == op.weights && slots[j].vec4 == op.vec4 &&
                            slots[j].words == op.words)) {
      ++j;
    }
    if (j == n_slots) slots[n_slots++] = Slot{op.buffer, op.write, op.weights, op.vec4, op.words};
    slots[j].write = slots[j].write || op.write;
    slot_of[i] = uint8_t(j);
  }
  // Two views of one buffer (f32 and vec4) are two bindings: neither may be written.
  for (size_t v = 0; v < n_slots; ++v) {
    for (size_t w = 0; w < n_slots; ++w) {
      if (v != w && slots[w].write && slots[v].buffer && slots[v].buffer == slots[w].buffer) {
        fail(err("WebGPU: ", d.shader.kernel, " binds a buffer through two views and writes one of them"));
        return;
      }
    }
  }
  // Keys: the layout (access of each bound buffer) and the pipeline (everything that changes
  // the composed source). 64-bit FNV hashes; a collision would need ~2^32 distinct kernels.
  Hash lh;
  uint32_t bufs[kMax];
  size_t n_bufs = 0;
  for (size_t j = 0; j < n_slots; ++j) {
    if (!slots[j].buffer) continue;
    lh.u32(slots[j].write ? 2u : 1u);
    bufs[n_bufs++] = slots[j].buffer;
  }
  Hash ph;
  ph.cstr(d.shader.kernel);
  ph.cstr(d.shader.prelude);
  ph.cstr(d.shader.weights);
  ph.bytes(d.shader.consts.view().data(), d.shader.consts.view().size());
  ph.u32(uint32_t(d.shader.consts.view().size()));
  ph.u32(uint32_t(sg || d.shader.needs_subgroups) | uint32_t(d.shader.reduce) << 1);
  for (size_t j = 0; j < n_slots; ++j) {
    ph.u32(uint32_t(slots[j].buffer != 0) | uint32_t(slots[j].write) << 1 | uint32_t(slots[j].weights) << 2 |
           uint32_t(slots[j].vec4) << 3 | uint32_t(slots[j].words) << 4);
  }
  for (size_t i = 0; i < d.operands.size(); ++i) {
    ph.cstr(d.operands[i].name);
    ph.u32(slot_of[i]);
  }
  uint32_t pipeline = 0;
  if (auto it = pipelines_.find(ph.h); it != pipelines_.end()) {
    pipeline = it->second;
  } else {
    std::vector<Binding> bindings;
    for (size_t j = 0; j < n_slots; ++j) {
      const Slot& sl = slots[j];
      bindings.push_back(Binding{sl.buffer, sl.write, sl.weights, sl.vec4, sl.words, {}});
    }
    for (size_t i = 0; i < d.operands.size(); ++i) bindings[slot_of[i]].names.push_back(d.operands[i].name);
    std::string layout;
    for (const auto& b : bindings) {
      if (b.buffer) layout += std::string(layout.empty() ? "" : ",") + (b.write ? "rw" : "r");
    }
    ShaderSpec spec = d.shader;
    spec.subgroups = sg;
    pipeline = pipeline_for(ph.h, spec, bindings, layout);
  }
  if (!pipeline) return;

  const uint32_t align = std::max<uint32_t>(info_.min_storage_offset_alignment, 16);
  const uint32_t bytes = uint32_t(std::max<size_t>(d.params.size(), 1) * 4);
  const uint32_t window = (bytes + align - 1) / align * align;
  if (window > kParamsCapacity) {
    fail(err("WebGPU: ", d.shader.kernel, " needs ", window, " parameter bytes, more than the arena's ", kParamsCapacity));
    return;
  }
  size_t offset = (params_.size() + align - 1) / align * align;
  if (offset + window > kParamsCapacity) {
    flush();
    offset = 0;
  }
  params_.resize(offset + window, 0);
  std::memcpy(params_.data() + offset, d.params.data(), d.params.size() * 4);

  const uint32_t bg = bind_group_for(pipeline, lh.h, bufs, n_bufs, window);
  cmds_.insert(cmds_.end(), {kCmdDispatch, pipeline, bg, uint32_t(offset), d.x, d.y, d.z});
  ++n_dispatches_;
}

void Recorder::flush() {
  if (cmds_.empty()) return;
  bridge::submit(cmds_.data(), cmds_.size(), params_buffer_, params_.data(), params_.size());
  ++n_submits_;
  cmds_.clear();
  params_.clear();
}

Status Recorder::read(uint32_t buffer, uint64_t offset, void* dst, uint64_t bytes) {
  if (!status_.ok()) return status_;
  Status s = bridge::submit_and_read(cmds_.data(), cmds_.size(), params_buffer_, params_.data(), params_.size(), buffer,
                                     offset, dst, bytes);
  ++n_submits_;
  cmds_.clear();
  params_.clear();
  std::string errors = bridge::take_errors();
  if (!errors.empty()) s = err("WebGPU device error: ", errors);
  if (!s.ok()) fail(s.error());
  return s;
}

uint32_t Recorder::read_start(uint32_t buffer, uint64_t offset, uint64_t bytes) {
  if (!status_.ok()) return 0;
  const uint32_t t = bridge::submit_copy(cmds_.data(), cmds_.size(), params_buffer_, params_.data(), params_.size(),
                                         buffer, offset, bytes);
  ++n_submits_;
  cmds_.clear();
  params_.clear();
  if (!t) fail(err("WebGPU read-back failed: ", bridge::last_error()));
  return t;
}

Status Recorder::read_finish(uint32_t ticket, void* dst, uint64_t bytes) {
  if (!ticket) return status_.ok() ? err("WebGPU: no read-back under way") : status_;
  Status s = bridge::wait_copy(ticket, dst, bytes);
  std::string errors = bridge::take_errors();
  if (!errors.empty()) s = err("WebGPU device error: ", errors);
  if (!s.ok()) fail(s.error());
  return s;
}

void Recorder::forget_buffer(uint32_t buffer) {
  std::vector<uint32_t> dropped;
  for (auto it = bind_group_buffers_.begin(); it != bind_group_buffers_.end();) {
    if (std::find(it->second.begin(), it->second.end(), buffer) != it->second.end()) {
      dropped.push_back(it->first);
      bind_groups_.erase(bind_group_keys_[it->first]);
      bind_group_keys_.erase(it->first);
      it = bind_group_buffers_.erase(it);
    } else {
      ++it;
    }
  }
  if (!dropped.empty()) bridge::drop_bind_groups(dropped.data(), dropped.size());
}

}  // namespace hearth::webgpu
