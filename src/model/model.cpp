// Model loading (names and shapes of the Hugging Face layout, quantize-on-load) and the
// forward pass expressed as backend ops.
#include "model/model.h"

#include "formats/packed.h"
#include "model/packed_model.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include "core/thread_pool.h"
#include "model/memory_estimate.h"
#include "model/rope.h"
#include "ops/kv_cache.h"

namespace hearth {

const char* model_dtype_name(ModelDType d) {
  switch (d) {
    case ModelDType::F32: return "f32";
    case ModelDType::F16: return "f16";
    case ModelDType::Int8: return "int8";
    case ModelDType::Int4: return "int4";
  }
  return "?";
}

Result<ModelDType> parse_model_dtype(const std::string& s) {
  if (s == "f32") return ModelDType::F32;
  if (s == "f16") return ModelDType::F16;
  if (s == "int8") return ModelDType::Int8;
  if (s == "int4") return ModelDType::Int4;
  return err("--dtype: \"", s, "\" is not one of f32, f16, int8, int4");
}

Result<KvDType> parse_kv_dtype(const std::string& s) {
  if (s == "f32") return KvDType::F32;
  if (s == "f16") return KvDType::F16;
  if (s == "int8") return KvDType::Int8;
  return err("KV cache dtype \"", s, "\" is not one of f32, f16, int8");
}

Result<std::unique_ptr<Model>> Model::load(const std::string& dir, const LoadOptions& opt) {
  return load(dir, opt, make_cpu_backend(opt.threads));
}

Result<std::unique_ptr<Model>> Model::load(const std::string& dir, const LoadOptions& opt,
                                           std::unique_ptr<Backend> backend) {
  auto t0 = std::chrono::steady_clock::now();
  HEARTH_ASSIGN(Checkpoint ckpt, open_checkpoint(dir));
  const ModelConfig& cfg = ckpt.config;
  std::unique_ptr<Model> m(new Model());
  m->cfg_ = cfg;
  m->opt_ = opt;
  if (is_packed_file(dir)) {  // a pack holds one dtype: the options say which
    HEARTH_ASSIGN(Json h, packed_header(dir));
    const Json* p = h.find("producer");
    const Json* dt = p ? p->find("dtype") : nullptr;
    const Json* qs = p ? p->find("quant_search") : nullptr;
    if (!dt || !dt->is_string()) return err(dir, ": the pack's header names no dtype");
    HEARTH_ASSIGN(m->opt_.dtype, parse_model_dtype(dt->as_string()));
    if (qs && qs->is_bool()) m->opt_.quant_search = qs->as_bool();
  }
  m->be_ = std::move(backend);
  if (opt.max_ctx < 0) return err("max_ctx must be positive, got ", opt.max_ctx);
  if (opt.max_prefill_t <= 0) return err("max_prefill_t must be positive, got ", opt.max_prefill_t);
  m->max_ctx_ = opt.max_ctx > 0 ? opt.max_ctx : std::min<int64_t>(cfg.max_position_embeddings, 4096);
  HEARTH_CHECK(check_memory(estimate_memory(cfg, opt.dtype, m->max_ctx_, opt.max_prefill_t, ckpt.tensors.get()), *m->be_, dir));
  m->rope_ = make_rope_table(cfg);
  if (!m->be_->supports_kv_dtype(opt.kv_dtype))
    return err("the ", m->be_->name(), " backend cannot keep the KV cache as ", kv_dtype_name(opt.kv_dtype), " (f32 only)");
  if (!kv_dtype_fits(opt.kv_dtype, cfg.head_dim))
    return err("a KV cache of ", kv_dtype_name(opt.kv_dtype), " needs head_dim divisible by ",
               opt.kv_dtype == KvDType::F16 ? 2 : 4, ", this model has ", cfg.head_dim);
  HEARTH_CHECK(m->load_weights(*ckpt.tensors));
  HEARTH_CHECK(m->be_->status());
  const int64_t P = std::min(opt.max_prefill_t, m->max_ctx_);
  m->opt_.max_prefill_t = P;
  Backend& be = *m->be_;
  m->x_ = be.alloc(P * cfg.hidden_size);
  m->h_ = be.alloc(P * cfg.hidden_size);
  m->q_ = be.alloc(P * cfg.q_dim());
  m->k_ = be.alloc(P * cfg.kv_dim());
  m->v_ = be.alloc(P * cfg.kv_dim());
  m->attn_ = be.alloc(P * cfg.q_dim());
  m->gate_ = be.alloc(P * cfg.intermediate_size);
  m->up_ = be.alloc(P * cfg.intermediate_size);
  m->logits_ = be.alloc(kLogitRows * cfg.vocab_size);
  const int64_t cache_elems = m->max_ctx_ * cfg.n_kv_heads * kv_row_elements(opt.kv_dtype, cfg.head_dim);
  for (auto& l : m->layers_) {
    l.k_cache = be.alloc(cache_elems);
    l.v_cache = be.alloc(cache_elems);
  }
  if (opt.progress) opt.progress(LoadProgress{"ready", 1, 1});
  m->load_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return m;
}

// Matrices [rows_i, cols] uploaded as one group: as checkpoint data for the backend to quantize
// (upload_quantized: on a GPU, on the device) when the format is int8 / int4 and the source has
// them raw, else converted here.
Status Model::upload(const TensorSource& store, std::initializer_list<std::pair<std::string, int64_t>> names,
                     int64_t cols, WeightFormat fmt, ThreadPool* pool, std::vector<WeightId>* ids) {
  Backend& be = *be_;
  std::vector<RawMatrix> raws;
  if (fmt == WeightFormat::Int8 || fmt == WeightFormat::Int4) {
    for (const auto& [name, rows] : names) {
      HEARTH_ASSIGN(std::optional<RawMatrix> r, store.raw_matrix(name, rows, cols));
      if (!r) break;
      raws.push_back(std::move(*r));
    }
  }
  if (raws.size() == names.size()) {
    *ids = be.upload_quantized(raws, fmt, opt_.quant_search, pool);
    return be.status();
  }
  std::vector<QMatrix> ws;
  for (const auto& [name, rows] : names) {
    const bool table = name == hf_tensor_name(TensorRole::Embed) || name == hf_tensor_name(TensorRole::LmHead);
    HEARTH_ASSIGN(QMatrix w, store.load_matrix(name, rows, cols, fmt, table, pool, opt_.quant_search));
    ws.push_back(std::move(w));
  }
  *ids = be.upload_group(std::move(ws));
  return be.status();
}

Status Model::load_weights(const TensorSource& store) {
  const ModelConfig& c = cfg_;
  Backend& be = *be_;
  ThreadPool pool(opt_.threads);
  const WeightFormat layer_fmt = opt_.dtype == ModelDType::F32 ? WeightFormat::F32
                                : opt_.dtype == ModelDType::F16 ? WeightFormat::F16
                                : opt_.dtype == ModelDType::Int8 ? WeightFormat::Int8
                                                                 : WeightFormat::Int4;
  // Embeddings and LM head stay int8 when the layers are int4.
  const WeightFormat table_fmt = layer_fmt == WeightFormat::Int4 ? WeightFormat::Int8 : layer_fmt;

  // Progress counts matrices: embeddings (+ head) and seven per layer.
  const int64_t n_matrices = 1 + (c.tie_word_embeddings ? 0 : 1) + 7 * c.n_layers;
  int64_t matrices_done = 0;
  auto report = [&](int64_t n) {
    matrices_done += n;
    if (opt_.progress) opt_.progress(LoadProgress{"read", matrices_done, n_matrices});
  };
  auto matrix = [&](const std::string& name, int64_t rows, int64_t cols, WeightFormat f) -> Result<WeightId> {
    std::vector<WeightId> ids;
    HEARTH_CHECK(upload(store, {{name, rows}}, cols, f, &pool, &ids));
    report(1);
    return ids[0];
  };
  // Matrices that read one x (q, k, v; gate, up) go up as a group, which the backend places in
  // one buffer: a GPU backend then takes their products in one dispatch. Placed one by one,
  // a group can straddle two buffers (the first fitting a gap an earlier buffer has left).
  auto group = [&](std::initializer_list<std::pair<std::string, int64_t>> names, int64_t cols,
                   std::initializer_list<WeightId*> out) -> Status {
    std::vector<WeightId> ids;
    HEARTH_CHECK(upload(store, names, cols, layer_fmt, &pool, &ids));
    report(int64_t(ids.size()));
    size_t i = 0;
    for (WeightId* o : out) *o = ids[i++];
    return {};
  };
  auto vec = [&](const std::string& name, int64_t n) -> Result<Buf> {
    const int64_t shape[1] = {n};
    HEARTH_ASSIGN(std::vector<float> w, store.load_f32(name, shape));
    Buf b = be.alloc(n);
    be.write(b, w);
    return b;
  };

  using R = TensorRole;
  report(0);
  HEARTH_ASSIGN(embed_, matrix(hf_tensor_name(R::Embed), c.vocab_size, c.hidden_size, table_fmt));
  if (c.tie_word_embeddings) {
    lm_head_ = embed_;
  } else {
    const std::string head = hf_tensor_name(R::LmHead);
    if (!store.has(head)) return err("tensor ", head, ": missing from the checkpoint (config.json has tie_word_embeddings false)");
    HEARTH_ASSIGN(lm_head_, matrix(head, c.vocab_size, c.hidden_size, table_fmt));
  }
  HEARTH_ASSIGN(final_norm_, vec(hf_tensor_name(R::FinalNorm), c.hidden_size));
  layers_.resize(size_t(c.n_layers));
  for (int64_t i = 0; i < c.n_layers; ++i) {
    Layer& L = layers_[size_t(i)];
    const auto w = [&](Proj p) { return hf_tensor_name(R::Weight, i, p); };
    const auto bias = [&](Proj p, Buf* out) -> Status {
      if (!proj_has_bias(c, p)) return {};
      HEARTH_ASSIGN(*out, vec(hf_tensor_name(R::Bias, i, p), proj_out(c, p)));
      return {};
    };
    HEARTH_ASSIGN(L.ln1, vec(hf_tensor_name(R::AttnNorm, i), c.hidden_size));
    HEARTH_ASSIGN(L.ln2, vec(hf_tensor_name(R::MlpNorm, i), c.hidden_size));
    HEARTH_CHECK((group({{w(Proj::Q), c.q_dim()}, {w(Proj::K), c.kv_dim()}, {w(Proj::V), c.kv_dim()}}, c.hidden_size,
                        {&L.q, &L.k, &L.v})));
    HEARTH_ASSIGN(L.o, matrix(w(Proj::O), c.hidden_size, c.q_dim(), layer_fmt));
    HEARTH_CHECK(bias(Proj::Q, &L.bq));
    HEARTH_CHECK(bias(Proj::K, &L.bk));
    HEARTH_CHECK(bias(Proj::V, &L.bv));
    HEARTH_CHECK(bias(Proj::O, &L.bo));
    if (c.qk_norm) {
      HEARTH_ASSIGN(L.q_norm, vec(hf_tensor_name(R::QNorm, i), c.head_dim));
      HEARTH_ASSIGN(L.k_norm, vec(hf_tensor_name(R::KNorm, i), c.head_dim));
    }
    HEARTH_CHECK((group({{w(Proj::Gate), c.intermediate_size}, {w(Proj::Up), c.intermediate_size}}, c.hidden_size,
                        {&L.gate, &L.up})));
    HEARTH_ASSIGN(L.down, matrix(w(Proj::Down), c.hidden_size, c.intermediate_size, layer_fmt));
    HEARTH_CHECK(bias(Proj::Gate, &L.bgate));
    HEARTH_CHECK(bias(Proj::Up, &L.bup));
    HEARTH_CHECK(bias(Proj::Down, &L.bdown));
  }
  return be.check_uploads();
}

Status Model::truncate(int64_t n) {
  if (n < 0 || n > n_past_) return err("cannot truncate the KV cache to ", n, " positions: it holds ", n_past_);
  n_past_ = n;
  return {};
}

Status Model::forward(std::span<const int32_t> tokens, std::vector<float>* last_logits, std::vector<float>* all_logits) {
  if (tokens.empty()) return err("forward: no tokens given");
  if (n_past_ + int64_t(tokens.size()) > max_ctx_) {
    return err("context of ", n_past_ + int64_t(tokens.size()), " tokens exceeds max_ctx ", max_ctx_,
               " (", n_past_, " in the cache + ", tokens.size(), " new); raise --max-ctx or shorten the prompt");
  }
  for (int32_t id : tokens) {
    if (id < 0 || id >= cfg_.vocab_size) return err("token id ", id, " is outside the vocabulary [0, ", cfg_.vocab_size, ")");
  }
  if (all_logits) all_logits->assign(tokens.size() * size_t(cfg_.vocab_size), 0.0f);
  const int64_t P = opt_.max_prefill_t;
  for (size_t s = 0; s < tokens.size(); s += size_t(P)) {
    size_t n = std::min(tokens.size() - s, size_t(P));
    bool last_chunk = s + n == tokens.size();
    std::vector<float> chunk_all;
    HEARTH_CHECK(forward_chunk(tokens.subspan(s, n), n_past_, last_chunk ? last_logits : nullptr,
                               all_logits ? &chunk_all : nullptr));
    if (all_logits) std::copy(chunk_all.begin(), chunk_all.end(), all_logits->begin() + int64_t(s) * cfg_.vocab_size);
    n_past_ += int64_t(n);
  }
  return {};
}

Status Model::forward_chunk(std::span<const int32_t> tokens, int64_t pos0, std::vector<float>* last,
                            std::vector<float>* all) {
  const ModelConfig& c = cfg_;
  Backend& be = *be_;
  const int64_t T = int64_t(tokens.size()), d = c.hidden_size;
  be.embed(embed_, tokens, x_);
  be.run(plan(T, last && !all), pos0);
  const int64_t V = c.vocab_size;
  if (all) {
    all->assign(size_t(T * V), 0.0f);
    be.rmsnorm(x_, final_norm_, h_, T, d, float(c.rms_norm_eps));
    for (int64_t r = 0; r < T; r += kLogitRows) {
      int64_t n = std::min(kLogitRows, T - r);
      be.matmul(h_.at(r * d), lm_head_, nullptr, logits_, n);
      be.read(logits_, std::span<float>(all->data() + r * V, size_t(n * V)));
    }
    if (last) last->assign(all->end() - V, all->end());
  } else if (last) {
    last->resize(size_t(V));
    be.read(logits_, *last);
  }
  return be.status();
}

Product Model::product(size_t layer, Proj p, WeightId w, const Buf& bias, Buf out, int slot) const {
  Product r;
  r.w = w;
  r.rows = proj_out(cfg_, p);
  r.bias = bias;
  r.out = out;
  if (active_ >= 0) {
    if (const auto& s = adapters_[size_t(active_)].slots[layer][int(p)]) r.lora = LoraTerm{s->A, s->B, s->rank, lora_t_[slot]};
  }
  return r;
}

Plan Model::build_plan(int64_t T, bool logits) const {
  const ModelConfig& c = cfg_;
  const int64_t d = c.hidden_size, I = c.intermediate_size;
  const float eps = float(c.rms_norm_eps);
  Plan plan;
  for (size_t li = 0; li < layers_.size(); ++li) {
    const Layer& L = layers_[li];
    // x_ -> rmsnorm (h_) -> q, k, v
    ProductStage qkv{.x = x_, .T = T, .in = d, .has_norm = true, .norm_w = L.ln1, .norm_out = h_, .eps = eps};
    qkv.products = {product(li, Proj::Q, L.q, L.bq, q_, 0), product(li, Proj::K, L.k, L.bk, k_, 1),
                    product(li, Proj::V, L.v, L.bv, v_, 2)};
    plan.steps.push_back(qkv);
    // q, k, v -> [q/k norms], RoPE, KV-cache stores, attention (attn_)
    AttentionStep at;
    at.q = q_;
    at.k = k_;
    at.v = v_;
    at.out = attn_;
    at.q_norm = L.q_norm;
    at.k_norm = L.k_norm;
    at.eps = eps;
    at.rope = &rope_;
    at.k_cache = L.k_cache;
    at.v_cache = L.v_cache;
    at.shape = AttentionShape{c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window[li], 1.0f / std::sqrt(float(c.head_dim)),
                              opt_.kv_dtype};
    at.T = T;
    plan.steps.push_back(at);
    // attn_ -> o (h_), x_ += h_
    ProductStage o{.x = attn_, .T = T, .in = c.q_dim()};
    o.products = {product(li, Proj::O, L.o, L.bo, h_, 0)};
    o.epilogue = Epilogue::Residual;
    o.epilogue_out = x_;
    plan.steps.push_back(o);
    // x_ -> rmsnorm (h_) -> gate, up -> silu(gate) * up (gate_)
    ProductStage gu{.x = x_, .T = T, .in = d, .has_norm = true, .norm_w = L.ln2, .norm_out = h_, .eps = eps};
    gu.products = {product(li, Proj::Gate, L.gate, L.bgate, gate_, 0), product(li, Proj::Up, L.up, L.bup, up_, 1)};
    gu.epilogue = Epilogue::SwiGLU;
    gu.epilogue_out = gate_;
    plan.steps.push_back(gu);
    // gate_ -> down (h_), x_ += h_
    ProductStage down{.x = gate_, .T = T, .in = I};
    down.products = {product(li, Proj::Down, L.down, L.bdown, h_, 0)};
    down.epilogue = Epilogue::Residual;
    down.epilogue_out = x_;
    plan.steps.push_back(down);
  }
  if (logits) {
    // The last token's row -> final norm (h_) -> LM head (logits_)
    ProductStage head{.x = x_.at((T - 1) * d), .T = 1, .in = d, .has_norm = true, .norm_w = final_norm_, .norm_out = h_, .eps = eps};
    Product p;
    p.w = lm_head_;
    p.rows = c.vocab_size;
    p.out = logits_;
    head.products = {p};
    plan.steps.push_back(head);
  }
  return plan;
}

CompiledPlan& Model::plan(int64_t T, bool logits) {
  for (size_t i = 0; i < plans_.size(); ++i) {
    if (plans_[i].T == T && plans_[i].logits == logits && plans_[i].adapter == active_) {
      std::rotate(plans_.begin() + long(i), plans_.begin() + long(i) + 1, plans_.end());
      return *plans_.back().plan;
    }
  }
  constexpr size_t kKeep = 8;  // decode, and the prefill chunk sizes seen last
  if (plans_.size() == kKeep) plans_.erase(plans_.begin());
  plans_.push_back(CachedPlan{T, logits, active_, be_->compile(build_plan(T, logits))});
  return *plans_.back().plan;
}

void Model::set_device_history(std::span<const int32_t> prompt, std::span<const int32_t> generated) {
  const int64_t V = cfg_.vocab_size;
  std::vector<float> h(size_t(2 * V), 0.0f);
  for (int32_t id : prompt)
    if (id >= 0 && id < V) h[size_t(id)] = 1.0f;
  for (int32_t id : generated)
    if (id >= 0 && id < V) h[size_t(V + id)] += 1.0f;
  if (!device_pen_.id) device_pen_ = be_->alloc(2 * V);
  be_->write(device_pen_, h);
}

Status Model::set_device_logit_mask(std::span<const uint32_t> words) {
  const int64_t V = cfg_.vocab_size, n = (V + 15) / 16;
  if (int64_t(words.size()) * 32 < V) return err("token mask of ", words.size() * 32, " bits for a vocabulary of ", V);
  std::vector<float> packed(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) packed[size_t(j)] = float((words[size_t(j / 2)] >> (16 * (j % 2))) & 0xffffu);
  if (!device_mask_.id) device_mask_ = be_->alloc(n);
  be_->write(device_mask_, packed);
  return {};
}

Result<uint32_t> Model::start_device_batch(int32_t token, int64_t k, const SamplingParams* sampling,
                                           std::span<const float> uniforms, bool masked) {
  Backend& be = *be_;
  if (!be.supports_device_greedy()) return err("decode on device: backend ", be.name(), " cannot pick tokens itself");
  if (k <= 0 || k > kMaxDeviceSteps) return err("decode on device: k must be in [1, ", kMaxDeviceSteps, "], got ", k);
  if (token >= cfg_.vocab_size || token < -1 || (token == -1 && !last_device_id_.id)) {
    return err("token id ", token, " is outside the vocabulary [0, ", cfg_.vocab_size, ")");
  }
  if (n_past_ + k > max_ctx_) return err("context of ", n_past_ + k, " tokens exceeds max_ctx ", max_ctx_);
  if (sampling && (!be.supports_device_sampling() || int64_t(uniforms.size()) < k)) {
    return err("decode on device: backend ", be.name(), " cannot sample, or fewer than ", k, " uniforms");
  }
  if (sampling && sampling->penalties() && !device_pen_.id) return err("decode on device: no token history set");
  if (masked && (k != 1 || !device_mask_.id)) return err("decode on device: a masked batch takes one step after set_device_logit_mask");
  if (!device_ids_.id) device_ids_ = be.alloc(kDeviceSlots * (kMaxDeviceSteps + 1));
  device_slot_ = (device_slot_ + 1) % kDeviceSlots;
  const Buf u = sampling ? (device_u_.id ? device_u_ : (device_u_ = be.alloc(kDeviceSlots * kMaxDeviceSteps))).at(device_slot_ * kMaxDeviceSteps)
                         : Buf{};
  if (sampling) be.write(u, uniforms.first(size_t(k)));
  const Buf ids = device_ids_.at(device_slot_ * (kMaxDeviceSteps + 1));
  Buf first = last_device_id_;
  if (token >= 0) {
    const float f = float(token);
    be.write(ids, std::span<const float>(&f, 1));
    first = ids;
  }
  CompiledPlan& step = plan(1, true);
  for (int64_t i = 0; i < k; ++i) {
    be.embed_from(embed_, i == 0 ? first : ids.at(i), 1, x_);
    be.run(step, n_past_ + i);
    if (masked) be.mask_logits(logits_, device_mask_, cfg_.vocab_size);
    if (sampling) {
      be.sample(logits_, cfg_.vocab_size, *sampling, u.at(i), sampling->penalties() ? device_pen_ : Buf{}, ids.at(i + 1));
    } else {
      be.argmax(logits_, cfg_.vocab_size, ids.at(i + 1));
    }
  }
  last_device_id_ = ids.at(k);
  n_past_ += k;
  const uint32_t ticket = be.read_start(ids.at(1), k);
  if (!ticket) return err("decode on device: the backend could not start the read-back");
  return ticket;
}

Status Model::finish_device_batch(uint32_t ticket, int64_t k, std::vector<int32_t>* out) {
  std::vector<float> ids(static_cast<size_t>(k));
  HEARTH_CHECK(be_->read_finish(ticket, ids));
  for (float f : ids) {
    if (!(f >= 0 && f < float(cfg_.vocab_size))) return err("decode on device: the backend returned token ", f);
    out->push_back(int32_t(f));
  }
  return {};
}

WeightFormat Model::lora_format() const {
  // Adapters follow the base's precision tier: f32 over an f32 base (exact against merged
  // weights), f16 over f16 and quantized bases, where reading them costs half the bandwidth.
  return opt_.dtype == ModelDType::F32 ? WeightFormat::F32 : WeightFormat::F16;
}

void Model::upload_lora_b(size_t index, float mult) {
  Resident& r = adapters_[index];
  for (size_t l = 0; l < r.slots.size(); ++l) {
    // A layer's B matrices in one upload group: a backend folds a stage's B products into one
    // dispatch only when they share a buffer.
    std::vector<QMatrix> bs;
    for (int p = 0; p < kNumProj; ++p) {
      auto& slot = r.slots[l][p];
      const auto& pair = r.host.layers[l][p];
      if (!slot || !pair) continue;
      if (slot->B.id) be_->release(slot->B);
      std::vector<float> b(pair->B);
      const float s = pair->scale * mult;
      for (float& v : b) v *= s;
      bs.push_back(quantize_matrix(b, pair->out, pair->rank, lora_format(), nullptr));
    }
    const std::vector<WeightId> ids = be_->upload_group(std::move(bs));
    size_t k = 0;
    for (int p = 0; p < kNumProj; ++p) {
      auto& slot = r.slots[l][p];
      if (slot && r.host.layers[l][p]) slot->B = ids[k++];
    }
  }
  r.mult = mult;
  ++adapter_epoch_;
  plans_.clear();  // they name the B matrices just replaced
}

Status Model::add_adapter(const std::string& name, LoraAdapter adapter) {
  if (name.empty()) return err("an adapter needs a name");
  if (int64_t(adapter.layers.size()) != cfg_.n_layers) return err("adapter ", adapter.dir, " was read for a model with ", adapter.layers.size(), " layers, this one has ", cfg_.n_layers);
  for (size_t l = 0; l < adapter.layers.size(); ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      const auto& pair = adapter.layers[l][p];
      if (pair && (pair->in != proj_in(cfg_, Proj(p)) || pair->out != proj_out(cfg_, Proj(p)))) {
        return err("adapter ", adapter.dir, ": layer ", l, " ", proj_name(Proj(p)), " does not fit this model");
      }
    }
  }
  const std::vector<std::string> names = adapter_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) HEARTH_CHECK(remove_adapter(name));
  const int64_t P = opt_.max_prefill_t;
  if (adapter.max_rank() > lora_t_cap_) {
    lora_t_cap_ = adapter.max_rank();
    // One buffer, a slice per projection of one x: a backend binds all three once.
    const Buf all = be_->alloc(3 * P * lora_t_cap_);
    for (int64_t i = 0; i < 3; ++i) lora_t_[i] = all.at(i * P * lora_t_cap_);
  }
  Resident r;
  r.name = name;
  r.slots.resize(adapter.layers.size());
  for (size_t l = 0; l < adapter.layers.size(); ++l) {
    // A layer's A matrices in one upload group: the products of one x can share a dispatch.
    std::vector<QMatrix> as;
    for (int p = 0; p < kNumProj; ++p) {
      if (const auto& pair = adapter.layers[l][p]) {
        as.push_back(quantize_matrix(pair->A, pair->rank, pair->in, lora_format(), nullptr));
      }
    }
    const std::vector<WeightId> ids = be_->upload_group(std::move(as));
    size_t k = 0;
    for (int p = 0; p < kNumProj; ++p) {
      const auto& pair = adapter.layers[l][p];
      if (!pair) continue;
      LoraSlot slot;
      slot.rank = pair->rank;
      slot.out = pair->out;
      slot.A = ids[k++];
      r.slots[l][p] = slot;
    }
  }
  r.host = std::move(adapter);
  adapters_.push_back(std::move(r));
  upload_lora_b(adapters_.size() - 1, 1.0f);
  return {};
}

Status Model::remove_adapter(const std::string& name) {
  for (size_t i = 0; i < adapters_.size(); ++i) {
    if (adapters_[i].name != name) continue;
    for (auto& layer : adapters_[i].slots) {
      for (auto& slot : layer) {
        if (!slot) continue;
        be_->release(slot->A);
        be_->release(slot->B);
      }
    }
    ++adapter_epoch_;
    if (active_ == int(i)) active_ = -1;
    else if (active_ > int(i)) --active_;
    plans_.clear();  // adapter indices moved, and the released matrices may be named
    adapters_.erase(adapters_.begin() + long(i));
    return {};
  }
  return err("no adapter named \"", name, "\" is loaded");
}

Status Model::set_adapter(const std::string& name, float scale) {
  if (name.empty()) {
    active_ = -1;
    return {};
  }
  if (!std::isfinite(scale)) return err("adapter scale must be a finite number");
  for (size_t i = 0; i < adapters_.size(); ++i) {
    if (adapters_[i].name != name) continue;
    if (adapters_[i].mult != scale) upload_lora_b(i, scale);
    active_ = int(i);
    return {};
  }
  return err("no adapter named \"", name, "\" is loaded");
}

const std::string& Model::active_adapter() const {
  static const std::string none;
  return active_ < 0 ? none : adapters_[size_t(active_)].name;
}

std::vector<std::string> Model::adapter_names() const {
  std::vector<std::string> v;
  for (const auto& a : adapters_) v.push_back(a.name);
  return v;
}

}  // namespace hearth
