// LoRA fine-tuning state (see lora_train.h).
#include "train/lora_train.h"

#include <cmath>
#include <cstdio>

#include "core/dtype.h"
#include "train/files.h"
#include "train/rng.h"
#include "train/trainable_model.h"

namespace hearth::train {

namespace {

// PEFT's name of a projection's module: the weight's name without ".weight".
std::string module_name(int64_t layer, Proj p) {
  std::string w = hf_tensor_name(TensorRole::Weight, layer, p);
  return w.substr(0, w.size() - std::string(".weight").size());
}

std::string peft_name(int64_t layer, Proj p, char which) {
  return "base_model.model." + module_name(layer, p) + ".lora_" + std::string(1, which) + ".weight";
}

std::string number_text(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(int64_t(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

}  // namespace

float LoraSpec::scale() const { return float(rslora ? alpha / std::sqrt(double(rank)) : alpha / double(rank)); }

Result<std::vector<Proj>> parse_lora_targets(const std::string& text) {
  bool seen[kNumProj] = {};
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    const std::string name = text.substr(start, end - start);
    if (name == "all-linear") {  // PEFT's name for every projection
      for (bool& b : seen) b = true;
      start = end + 1;
      continue;
    }
    const auto p = proj_from_short(name);
    if (!p) return err("--targets: \"", name, "\" is not one of q_proj, k_proj, v_proj, o_proj, gate_proj, up_proj, down_proj, all-linear");
    seen[int(*p)] = true;
    start = end + 1;
  }
  std::vector<Proj> out;
  for (int p = 0; p < kNumProj; ++p)
    if (seen[p]) out.push_back(Proj(p));
  return out;
}

Result<LoraTraining> LoraTraining::create(Backend& be, const ModelConfig& cfg, const LoraSpec& spec, uint64_t seed) {
  if (spec.rank < 1) return err("--rank must be at least 1, got ", spec.rank);
  if (!(spec.alpha > 0)) return err("--alpha must be positive, got ", spec.alpha);
  if (spec.targets.empty()) return err("--targets: no projections given");
  LoraTraining t;
  t.cfg_ = cfg;
  t.spec_ = spec;
  t.index_.assign(size_t(cfg.n_layers), {-1, -1, -1, -1, -1, -1, -1});
  Rng rng(seed);
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    for (Proj p : spec.targets) {
      const int64_t in = proj_in(cfg, p), out = proj_out(cfg, p);
      std::vector<float> a(static_cast<size_t>(spec.rank * in)), b(static_cast<size_t>(out * spec.rank), 0.0f);
      const double bound = 1.0 / std::sqrt(double(in));
      for (float& x : a) x = float(rng.uniform(-bound, bound));
      t.index_[size_t(l)][int(p)] = int(t.params_.params().size());
      t.params_.add(be, peft_name(l, p, 'A'), {spec.rank, in}, a);
      t.params_.add(be, peft_name(l, p, 'B'), {out, spec.rank}, b);
    }
  }
  HEARTH_CHECK(be.status());
  return t;
}

Result<LoraTraining> LoraTraining::from_adapter(Backend& be, const ModelConfig& cfg, const std::string& dir) {
  HEARTH_ASSIGN(LoraAdapter a, load_lora_adapter(dir, cfg));
  LoraTraining t;
  t.cfg_ = cfg;
  t.index_.assign(size_t(cfg.n_layers), {-1, -1, -1, -1, -1, -1, -1});
  bool seen[kNumProj] = {};
  const LoraPair* first = nullptr;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      const auto& pair = a.layers[l][p];
      if (!pair) continue;
      if (!first) first = &*pair;
      if (pair->rank != first->rank || pair->scale != first->scale) {
        return err(dir, ": modules with different ranks or scales; training starts from adapters with one rank and scale");
      }
      seen[p] = true;
      t.index_[l][p] = int(t.params_.params().size());
      t.params_.add(be, peft_name(int64_t(l), Proj(p), 'A'), {pair->rank, pair->in}, pair->A);
      t.params_.add(be, peft_name(int64_t(l), Proj(p), 'B'), {pair->out, pair->rank}, pair->B);
    }
  }
  t.spec_.rank = first->rank;
  t.spec_.alpha = double(first->scale) * double(first->rank);
  for (int p = 0; p < kNumProj; ++p)
    if (seen[p]) t.spec_.targets.push_back(Proj(p));
  HEARTH_CHECK(be.status());
  return t;
}

NetworkRefs LoraTraining::network(const Model& model) const {
  const Model::FrozenWeights w = model.frozen_weights();
  const auto vec = [](Buf b) { return TensorRef{b, WeightId{}, Buf{}}; };
  const auto mat = [](WeightId id) { return TensorRef{Buf{}, id, Buf{}}; };
  NetworkRefs net;
  net.embed = mat(w.embed);
  net.head = mat(w.lm_head);
  net.final_norm = vec(w.final_norm);
  const auto& ps = params_.params();
  for (size_t l = 0; l < w.layers.size(); ++l) {
    const Model::FrozenLayer& f = w.layers[l];
    LayerRefs L;
    L.attn_norm = vec(f.attn_norm);
    L.mlp_norm = vec(f.mlp_norm);
    L.q_norm = vec(f.q_norm);
    L.k_norm = vec(f.k_norm);
    for (int p = 0; p < kNumProj; ++p) {
      L.weight[p] = mat(f.weight[p]);
      L.bias[p] = vec(f.bias[p]);
      const int i = index_[l][p];
      if (i >= 0) L.lora[p] = LoraRef{ps[size_t(i)].value, ps[size_t(i) + 1].value, ps[size_t(i)].grad, ps[size_t(i) + 1].grad,
                                      spec_.rank, spec_.scale()};
    }
    net.layers.push_back(L);
  }
  return net;
}

LoraAdapter LoraTraining::to_adapter(Backend& be) const {
  LoraAdapter a;
  a.dir = "(trained)";
  a.format = "peft";
  a.layers.resize(index_.size());
  const auto& ps = params_.params();
  for (size_t l = 0; l < index_.size(); ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      const int i = index_[l][p];
      if (i < 0) continue;
      LoraPair pair;
      pair.rank = spec_.rank;
      pair.in = proj_in(cfg_, Proj(p));
      pair.out = proj_out(cfg_, Proj(p));
      pair.scale = spec_.scale();
      pair.A = ParamSet::read(be, ps[size_t(i)].value, ps[size_t(i)].numel);
      pair.B = ParamSet::read(be, ps[size_t(i) + 1].value, ps[size_t(i) + 1].numel);
      a.layers[l][p] = std::move(pair);
    }
  }
  return a;
}

Status LoraTraining::save_peft(Backend& be, const std::string& out_dir, const std::string& base_model) const {
  HEARTH_CHECK(make_dirs(out_dir));
  std::string targets;
  for (Proj p : spec_.targets) targets += std::string(targets.empty() ? "" : ", ") + "\"" + proj_short(p) + "\"";
  std::string base;
  for (char ch : base_model) {
    if (ch == '"' || ch == '\\') base += '\\';
    if (static_cast<unsigned char>(ch) >= 0x20) base += ch;
  }
  const std::string config = std::string("{\n") +
      "  \"peft_type\": \"LORA\",\n"
      "  \"task_type\": \"CAUSAL_LM\",\n"
      "  \"r\": " + std::to_string(spec_.rank) + ",\n"
      "  \"lora_alpha\": " + number_text(spec_.alpha) + ",\n"
      "  \"target_modules\": [" + targets + "],\n"
      "  \"lora_dropout\": 0.0,\n"
      "  \"bias\": \"none\",\n"
      "  \"use_rslora\": " + (spec_.rslora ? "true" : "false") + ",\n"
      "  \"fan_in_fan_out\": false,\n"
      "  \"inference_mode\": true,\n"
      "  \"base_model_name_or_path\": \"" + base + "\"\n}\n";
  HEARTH_CHECK(write_text_file(out_dir + "/adapter_config.json", config));
  std::vector<const Param*> ps;
  for (const Param& p : params_.params()) ps.push_back(&p);
  return write_tensors(be, out_dir + "/adapter_model.safetensors", ps, DType::F32);
}

}  // namespace hearth::train
