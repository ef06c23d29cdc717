// TrainableModel (see trainable_model.h).
#include "train/trainable_model.h"

#include <cstring>
#include <functional>

#include "formats/json.h"
#include "formats/safetensors.h"
#include "model/hf_layout.h"
#include "train/files.h"
#include "train/rng.h"

namespace hearth::train {

Result<TrainableModel> TrainableModel::build(Backend& be, const std::string& dir, const ModelConfig& cfg,
                                             const std::function<Result<std::vector<float>>(const HfTensor&)>& values) {
  TrainableModel m;
  m.cfg_ = cfg;
  m.dir_ = dir;
  for (const HfTensor& t : hf_tensors(cfg)) {
    HEARTH_ASSIGN(std::vector<float> v, values(t));
    m.params_.add(be, t.name, t.shape, v);
  }
  HEARTH_CHECK(be.status());
  return m;
}

Result<TrainableModel> TrainableModel::load(Backend& be, const std::string& dir) {
  HEARTH_ASSIGN(ModelConfig cfg, read_model_config(dir));
  HEARTH_ASSIGN(TensorStore store, TensorStore::open_dir(dir));
  return build(be, dir, cfg, [&](const HfTensor& t) { return store.load_f32(t.name, t.shape); });
}

Result<TrainableModel> TrainableModel::init(Backend& be, const std::string& dir, uint64_t seed) {
  HEARTH_ASSIGN(ModelConfig cfg, read_model_config(dir));
  return init(be, cfg, seed, dir);
}

Result<TrainableModel> TrainableModel::init(Backend& be, const ModelConfig& cfg, uint64_t seed, const std::string& dir) {
  Rng rng(seed);
  return build(be, dir, cfg, [&](const HfTensor& t) -> Result<std::vector<float>> {
    int64_t n = 1;
    for (int64_t s : t.shape) n *= s;
    std::vector<float> v(static_cast<size_t>(n), 0.0f);
    if (t.matrix()) {
      for (float& x : v) x = float(0.02 * rng.normal());
    } else if (t.role != TensorRole::Bias) {
      std::fill(v.begin(), v.end(), 1.0f);  // norm weights
    }
    return v;
  });
}

NetworkRefs TrainableModel::network() const {
  NetworkRefs net;
  net.layers.resize(size_t(cfg_.n_layers));
  const auto& ps = params_.params();
  const std::vector<HfTensor> layout = hf_tensors(cfg_);
  for (size_t i = 0; i < layout.size(); ++i) {
    const HfTensor& t = layout[i];
    const TensorRef ref{ps[i].value, WeightId{}, ps[i].grad};
    LayerRefs* L = t.layer >= 0 ? &net.layers[size_t(t.layer)] : nullptr;
    switch (t.role) {
      case TensorRole::Embed: net.embed = ref; break;
      case TensorRole::LmHead: net.head = ref; break;
      case TensorRole::FinalNorm: net.final_norm = ref; break;
      case TensorRole::AttnNorm: L->attn_norm = ref; break;
      case TensorRole::MlpNorm: L->mlp_norm = ref; break;
      case TensorRole::QNorm: L->q_norm = ref; break;
      case TensorRole::KNorm: L->k_norm = ref; break;
      case TensorRole::Weight: L->weight[int(t.proj)] = ref; break;
      case TensorRole::Bias: L->bias[int(t.proj)] = ref; break;
    }
  }
  if (cfg_.tie_word_embeddings) net.head = net.embed;
  return net;
}

Status copy_tokenizer_files(const std::string& src_dir, const std::string& out_dir) {
  for (const char* name : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.json",
                           "merges.txt", "tokenizer.model", "generation_config.json"}) {
    const std::string from = src_dir + "/" + name;
    if (file_exists(from)) HEARTH_CHECK(copy_file(from, out_dir + "/" + name));
  }
  return {};
}

Status write_tensors(Backend& be, const std::string& path, const std::vector<const Param*>& params, DType dtype,
                     bool gradients) {
  if (dtype != DType::F32 && dtype != DType::BF16) return err("tensors are written as F32 or BF16, not ", dtype_name(dtype));
  std::vector<TensorToWrite> metas;
  for (const Param* p : params) metas.push_back(TensorToWrite{p->name, dtype, p->shape, {}});
  Status st = write_safetensors_generated(path, metas, [&](size_t i, std::vector<uint8_t>& bytes) {
    const Param& p = *params[i];
    const std::vector<float> v = ParamSet::read(be, gradients ? p.grad : p.value, p.numel);
    if (dtype == DType::F32) {
      std::memcpy(bytes.data(), v.data(), v.size() * 4);
    } else {
      for (size_t k = 0; k < v.size(); ++k) {
        const uint16_t h = f32_to_bf16(v[k]);
        std::memcpy(bytes.data() + 2 * k, &h, 2);
      }
    }
  });
  HEARTH_CHECK(st);
  return be.status();
}

Status TrainableModel::save(Backend& be, const std::string& out_dir, DType dtype) const {
  if (dir_.empty()) return err("this model was made from a config alone: there is no config.json to save with it");
  HEARTH_CHECK(make_dirs(out_dir));
  if (same_dir(out_dir, dir_)) return err("--out ", out_dir, " is the model folder itself; write the trained model elsewhere");
  HEARTH_CHECK(copy_file(dir_ + "/config.json", out_dir + "/config.json"));
  HEARTH_CHECK(copy_tokenizer_files(dir_, out_dir));
  std::vector<const Param*> ps;
  for (const Param& p : params_.params()) ps.push_back(&p);
  return write_tensors(be, out_dir + "/model.safetensors", ps, dtype);
}

}  // namespace hearth::train
