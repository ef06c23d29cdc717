// The parts of the plan steps (ops/plan.h) as primitive ops — the default compile/run every
// backend inherits, and the semantics a backend's fused kernels must reproduce — and the
// backend factory.
#include "ops/backend.h"

#include "ops/kv_cache.h"

#ifdef HEARTH_WEBGPU
#include "ops/webgpu/webgpu_backend.h"
#endif

namespace hearth {

namespace {
// The default compiled form: the plan itself, run step by step.
struct StoredPlan final : CompiledPlan {
  Plan plan;
};
}  // namespace

std::unique_ptr<CompiledPlan> Backend::compile(const Plan& plan) {
  auto c = std::make_unique<StoredPlan>();
  c->plan = plan;
  return c;
}

void Backend::run(CompiledPlan& plan, int64_t pos0) {
  auto* p = dynamic_cast<StoredPlan*>(&plan);
  if (!p) {
    fail(err(name(), ": a plan compiled by another backend"));
    return;
  }
  for (const PlanStep& step : p->plan.steps) {
    if (const auto* s = std::get_if<ProductStage>(&step)) run_products(*s);
    if (const auto* a = std::get_if<AttentionStep>(&step)) run_attention(*a, pos0);
  }
}

void Backend::run_products(const ProductStage& s) {
  Buf x = s.x;
  if (s.has_norm) {
    rmsnorm(s.x, s.norm_w, s.norm_out, s.T, s.in, s.eps);
    x = s.norm_out;
  }
  for (const Product& p : s.products) {
    const Buf* bias = p.bias.id ? &p.bias : nullptr;
    if (p.lora) {
      matmul(x, p.lora->A, nullptr, p.lora->t, s.T);
      matmul(p.lora->t, p.lora->B, nullptr, p.out, s.T);
      matmul_add(x, p.w, bias, p.out, s.T);
    } else {
      matmul(x, p.w, bias, p.out, s.T);
    }
  }
  const Product& p0 = s.products.front();
  if (s.epilogue == Epilogue::SwiGLU) swiglu(p0.out, s.products[1].out, s.epilogue_out, s.T * p0.rows);
  if (s.epilogue == Epilogue::Residual) add(s.epilogue_out, p0.out, s.T * p0.rows);
}

void Backend::run_attention(const AttentionStep& s, int64_t pos0) {
  const AttentionShape& sh = s.shape;
  const int64_t kv_dim = sh.n_kv_heads * sh.head_dim;
  if (s.q_norm.id) {
    rmsnorm(s.q, s.q_norm, s.q, s.T * sh.n_heads, sh.head_dim, s.eps);
    rmsnorm(s.k, s.k_norm, s.k, s.T * sh.n_kv_heads, sh.head_dim, s.eps);
  }
  rope(s.q, s.T, sh.n_heads, sh.head_dim, pos0, *s.rope);
  rope(s.k, s.T, sh.n_kv_heads, sh.head_dim, pos0, *s.rope);
  if (sh.kv == KvDType::F32) {
    copy(s.k, s.k_cache.at(pos0 * kv_dim), s.T * kv_dim);
    copy(s.v, s.v_cache.at(pos0 * kv_dim), s.T * kv_dim);
  } else {
    store_kv(s.k, s.k_cache, s.T, pos0, sh);
    store_kv(s.v, s.v_cache, s.T, pos0, sh);
  }
  attention(s.q, s.k_cache, s.v_cache, s.out, s.T, pos0, sh);
}

void Backend::store_kv(Buf x, Buf cache, int64_t T, int64_t pos0, const AttentionShape& s) {
  if (s.kv != KvDType::F32) return fail(err(name(), " cannot store a KV cache as ", kv_dtype_name(s.kv)));
  const int64_t kv_dim = s.n_kv_heads * s.head_dim;
  copy(x, cache.at(pos0 * kv_dim), T * kv_dim);
}

std::vector<WeightId> Backend::upload_quantized(std::span<const RawMatrix> ms, WeightFormat format, bool search,
                                                ThreadPool* pool) {
  std::vector<QMatrix> qs;
  for (const RawMatrix& m : ms) {
    Result<QMatrix> q = quantize_raw(m, format, pool, search);
    if (!q.ok()) {
      fail(q.error());
      return std::vector<WeightId>(ms.size());
    }
    qs.push_back(std::move(*q));
  }
  return upload_group(std::move(qs));
}

Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& opt) {
  if (opt.kind == "cpu") return make_cpu_backend(opt.threads);
  if (opt.kind == "webgpu") {
#ifdef HEARTH_WEBGPU
    WebGpuOptions w;
    w.allow_subgroups = opt.allow_subgroups;
    w.max_chunk_bytes = opt.max_chunk_bytes;
    w.prefill_dequant = opt.prefill_dequant;
    HEARTH_ASSIGN(auto b, WebGpuBackend::create(w));
    return std::unique_ptr<Backend>(std::move(b));
#else
    return err("backend webgpu: this build has no WebGPU backend (it is part of the WebAssembly build)");
#endif
  }
  return err("backend \"", opt.kind, "\" is not one of cpu, webgpu");
}

}  // namespace hearth
