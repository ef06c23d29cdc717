// WebGpuBackend: creation, memory, read-back, and plans (compiled product stages replayed as
// recorded dispatches; attention steps emitted at each run). The ops' dispatches are built in
// webgpu_kernels.cpp, webgpu_products.cpp and webgpu_attention.cpp; weights in
// webgpu_weights.cpp. Kernel parameters: kernel_params.h.
#include "ops/webgpu/webgpu_backend.h"

#include <cmath>
#include <variant>

#include "ops/webgpu/webgpu_util.h"

namespace hearth {

Result<std::unique_ptr<WebGpuBackend>> WebGpuBackend::create(const WebGpuOptions& opt) {
  if (!webgpu::bridge::available()) {
    return err("WebGPU is not available: no GPU device was handed to the engine (no navigator.gpu or no adapter)");
  }
  std::unique_ptr<WebGpuBackend> b(new WebGpuBackend(webgpu::bridge::device_info(), opt));
  HEARTH_CHECK(b->rec_.init());
  return b;
}

WebGpuBackend::WebGpuBackend(const webgpu::DeviceInfo& info, const WebGpuOptions& opt)
    : info_(info), opt_(opt), rec_(info, info.subgroups && opt.allow_subgroups) {
  bufs_.push_back(0);  // Buf id 0 is never handed out
  weights_.emplace_back();
}

WebGpuBackend::~WebGpuBackend() {
  rec_.flush();
  for (uint32_t b : bufs_) {
    if (b) webgpu::bridge::destroy_buffer(b);
  }
  for (const auto& w : weights_) {
    if (!w || w->in_arena) continue;
    for (const auto& c : w->chunks) webgpu::bridge::destroy_buffer(c.buffer);
  }
  for (const auto& a : arenas_) webgpu::bridge::destroy_buffer(a.buffer);
}

std::string WebGpuBackend::name() const {
  return "webgpu (" + info_.adapter + "; tier " + tier() + (info_.shader_f16 ? "; shader-f16 present" : "") + ")";
}

Backend::Counters WebGpuBackend::counters() const {
  return Counters{rec_.dispatches(), rec_.submits(), uint64_t(rec_.pipelines())};
}

std::optional<uint64_t> WebGpuBackend::memory_limit() const {
  // WebGPU does not tell how much memory a device has; what it does bound is one buffer.
  return std::nullopt;
}

Buf WebGpuBackend::alloc(int64_t n) {
  const uint64_t bytes = buf_bytes(n);
  uint32_t id = 0;
  if (bytes > info_.max_storage_binding || bytes > info_.max_buffer) {
    fail(err("WebGPU: a buffer of ", n, " floats (", bytes >> 20, " MiB) exceeds the device's binding limit of ",
             info_.max_storage_binding >> 20, " MiB; lower --max-ctx or --max-prefill"));
  } else {
    id = webgpu::bridge::create_buffer(bytes, webgpu::BufferKind::Storage);
    if (!id) fail(err("WebGPU: cannot allocate ", bytes >> 20, " MiB: ", webgpu::bridge::last_error()));
    bytes_ += bytes;
  }
  bufs_.push_back(id);
  return Buf{uint32_t(bufs_.size() - 1), 0};
}

void WebGpuBackend::ensure_scratch(Buf& b, int64_t& cap, int64_t need) {
  if (need <= cap) return;
  if (b.id) {
    rec_.flush();
    rec_.forget_buffer(gpu(b));
    webgpu::bridge::destroy_buffer(gpu(b));
    bufs_[b.id] = 0;
    bytes_ -= buf_bytes(cap);
  }
  cap = std::max(need, 2 * cap);
  b = alloc(cap);
}

void WebGpuBackend::write(Buf dst, std::span<const float> src) {
  rec_.flush();  // keeps program order: recorded work before this write runs before it
  if (gpu(dst)) webgpu::bridge::write_buffer(gpu(dst), uint64_t(dst.offset) * 4, src.data(), src.size_bytes());
}

void WebGpuBackend::read(Buf src, std::span<float> dst) {
  Status s = gpu(src) ? rec_.read(gpu(src), uint64_t(src.offset) * 4, dst.data(), dst.size_bytes()) : rec_.status();
  if (!s.ok() || !gpu(src)) std::fill(dst.begin(), dst.end(), std::nanf(""));
}

uint32_t WebGpuBackend::read_start(Buf src, int64_t n) {
  return gpu(src) ? rec_.read_start(gpu(src), uint64_t(src.offset) * 4, uint64_t(n) * 4) : 0;
}

Status WebGpuBackend::read_finish(uint32_t ticket, std::span<float> dst) {
  return rec_.read_finish(ticket, dst.data(), dst.size_bytes());
}

void WebGpuBackend::record(const Dispatches& ds) {
  for (const auto& d : ds) rec_.dispatch(d);
}

// A compiled plan: each product stage's dispatches, built once; attention steps as given.
struct WebGpuBackend::CompiledStep {
  Dispatches dispatches;
  std::optional<AttentionStep> attention;
};

struct WebGpuBackend::WebGpuPlan final : CompiledPlan {
  std::vector<CompiledStep> steps;
};

std::unique_ptr<CompiledPlan> WebGpuBackend::compile(const Plan& plan) {
  auto c = std::make_unique<WebGpuPlan>();
  for (const PlanStep& step : plan.steps) {
    CompiledStep cs;
    if (const auto* s = std::get_if<ProductStage>(&step)) product_stage(*s, cs.dispatches);
    if (const auto* a = std::get_if<AttentionStep>(&step)) cs.attention = *a;
    c->steps.push_back(std::move(cs));
  }
  return c;
}

void WebGpuBackend::run(CompiledPlan& plan, int64_t pos0) {
  auto* p = dynamic_cast<WebGpuPlan*>(&plan);
  if (!p) {
    fail(err(name(), ": a plan compiled by another backend"));
    return;
  }
  for (const CompiledStep& s : p->steps) {
    if (s.attention) {
      attention_step(*s.attention, pos0);
    } else {
      record(s.dispatches);
    }
  }
}

}  // namespace hearth
