// The Hugging Face layout (see hf_layout.h).
#include "model/hf_layout.h"

namespace hearth {

namespace {
constexpr const char* kProjNames[kNumProj] = {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj",
                                              "self_attn.o_proj", "mlp.gate_proj",    "mlp.up_proj",
                                              "mlp.down_proj"};
constexpr const char* kProjShort[kNumProj] = {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
}  // namespace

const char* proj_name(Proj p) { return kProjNames[int(p)]; }
const char* proj_short(Proj p) { return kProjShort[int(p)]; }

std::optional<Proj> proj_from_short(const std::string& s) {
  for (int p = 0; p < kNumProj; ++p) {
    if (s == kProjShort[p]) return Proj(p);
  }
  return std::nullopt;
}

int64_t proj_in(const ModelConfig& c, Proj p) {
  switch (p) {
    case Proj::O: return c.q_dim();
    case Proj::Down: return c.intermediate_size;
    default: return c.hidden_size;
  }
}

int64_t proj_out(const ModelConfig& c, Proj p) {
  switch (p) {
    case Proj::Q: return c.q_dim();
    case Proj::K: case Proj::V: return c.kv_dim();
    case Proj::Gate: case Proj::Up: return c.intermediate_size;
    default: return c.hidden_size;
  }
}

bool proj_has_bias(const ModelConfig& c, Proj p) {
  switch (p) {
    case Proj::Q: case Proj::K: case Proj::V: return c.qkv_bias;
    case Proj::O: return c.o_bias;
    default: return c.mlp_bias;
  }
}

std::string hf_tensor_name(TensorRole role, int64_t layer, Proj proj) {
  const std::string p = "model.layers." + std::to_string(layer) + ".";
  switch (role) {
    case TensorRole::Embed: return "model.embed_tokens.weight";
    case TensorRole::LmHead: return "lm_head.weight";
    case TensorRole::FinalNorm: return "model.norm.weight";
    case TensorRole::AttnNorm: return p + "input_layernorm.weight";
    case TensorRole::MlpNorm: return p + "post_attention_layernorm.weight";
    case TensorRole::QNorm: return p + "self_attn.q_norm.weight";
    case TensorRole::KNorm: return p + "self_attn.k_norm.weight";
    case TensorRole::Weight: return p + proj_name(proj) + ".weight";
    case TensorRole::Bias: return p + proj_name(proj) + ".bias";
  }
  return "";
}

std::vector<HfTensor> hf_tensors(const ModelConfig& c) {
  std::vector<HfTensor> v;
  auto add = [&](TensorRole role, std::vector<int64_t> shape, int64_t layer = -1, Proj proj = Proj::Q) {
    v.push_back(HfTensor{hf_tensor_name(role, layer, proj), std::move(shape), role, layer, proj});
  };
  add(TensorRole::Embed, {c.vocab_size, c.hidden_size});
  for (int64_t l = 0; l < c.n_layers; ++l) {
    add(TensorRole::AttnNorm, {c.hidden_size}, l);
    add(TensorRole::MlpNorm, {c.hidden_size}, l);
    for (int p = 0; p < kNumProj; ++p) {
      const Proj pr = Proj(p);
      add(TensorRole::Weight, {proj_out(c, pr), proj_in(c, pr)}, l, pr);
      if (proj_has_bias(c, pr)) add(TensorRole::Bias, {proj_out(c, pr)}, l, pr);
      if (pr == Proj::V && c.qk_norm) {
        add(TensorRole::QNorm, {c.head_dim}, l);
        add(TensorRole::KNorm, {c.head_dim}, l);
      }
    }
  }
  add(TensorRole::FinalNorm, {c.hidden_size});
  if (!c.tie_word_embeddings) add(TensorRole::LmHead, {c.vocab_size, c.hidden_size});
  return v;
}

}  // namespace hearth
