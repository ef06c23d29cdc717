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

uint32_t Recorder::pipeline_for(const ShaderSpec& spec, const std::vector<Binding>& bindings, const std::string& layout) {
  // The key names everything that changes the composed source.
  std::string key = spec.kernel + "|" + spec.prelude + "|" + spec.weights + "|" +
                    (spec.subgroups || spec.needs_subgroups ? "sg" : "wg") + "|" + spec.consts + "|";
  for (const auto& b : bindings) {
    key += b.weights ? "q" : (b.write ? "w" : "r");
    for (const auto& n : b.names) key += n + ",";
    key += ";";
  }
  auto it = pipelines_.find(key);
  if (it != pipelines_.end()) return it->second;
  auto src = compose_wgsl(spec, bindings);
  if (!src.ok()) {
    fail(src.error());
    return 0;
  }
  std::string label = spec.kernel + (spec.weights.empty() ? "" : "_" + spec.weights);
  uint32_t id = bridge::create_pipeline(*src, layout, label);
  if (!id) {
    fail(err("WebGPU: kernel ", label, " does not compile: ", bridge::last_error()));
    return 0;
  }
  pipelines_.emplace(key, id);
  return id;
}

uint32_t Recorder::bind_group_for(uint32_t pipeline, const std::string& layout, const std::vector<Binding>& bindings,
                                  uint32_t window) {
  std::string key = layout + "|" + std::to_string(window);
  for (const auto& b : bindings) key += "|" + std::to_string(b.buffer);
  auto it = bind_groups_.find(key);
  if (it != bind_groups_.end()) return it->second;
  const uint32_t id = next_bind_group_++;
  cmds_.insert(cmds_.end(), {kCmdBindGroup, id, pipeline, uint32_t(bindings.size() + 1), params_buffer_, window});
  std::vector<uint32_t> bufs;
  for (const auto& b : bindings) {
    cmds_.push_back(b.buffer);
    bufs.push_back(b.buffer);
  }
  bind_groups_.emplace(key, id);
  bind_group_buffers_.emplace(id, std::move(bufs));
  return id;
}

void Recorder::dispatch(DispatchDesc d) {
  if (!status_.ok()) return;
  d.shader.subgroups = subgroups_ && d.shader.reduce;
  if (d.shader.needs_subgroups && !subgroups_) {
    fail(err("WebGPU: kernel ", d.shader.kernel, " needs subgroups, which this device does not have"));
    return;
  }
  // One binding per distinct buffer; operands naming the same buffer share it.
  std::vector<Binding> bindings;
  for (const Operand& op : d.operands) {
    auto it = std::find_if(bindings.begin(), bindings.end(),
                           [&](const Binding& b) { return b.buffer == op.buffer && b.weights == op.weights; });
    if (it == bindings.end()) {
      bindings.push_back(Binding{op.buffer, op.write, op.weights, {op.name}});
    } else {
      it->write = it->write || op.write;
      it->names.push_back(op.name);
    }
  }
  std::string layout;
  for (const auto& b : bindings) layout += std::string(layout.empty() ? "" : ",") + (b.write ? "rw" : "r");
  const uint32_t pipeline = pipeline_for(d.shader, bindings, layout);
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

  const uint32_t bg = bind_group_for(pipeline, layout, bindings, window);
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

void Recorder::forget_buffer(uint32_t buffer) {
  std::vector<uint32_t> dropped;
  for (auto it = bind_groups_.begin(); it != bind_groups_.end();) {
    const auto& bufs = bind_group_buffers_[it->second];
    if (std::find(bufs.begin(), bufs.end(), buffer) != bufs.end()) {
      dropped.push_back(it->second);
      bind_group_buffers_.erase(it->second);
      it = bind_groups_.erase(it);
    } else {
      ++it;
    }
  }
  if (!dropped.empty()) bridge::drop_bind_groups(dropped.data(), dropped.size());
}

}  // namespace hearth::webgpu
