// The Hugging Face checkpoint layout of a Llama-family model, stated once: every tensor's name,
// shape and role for a config. Loading, `random-checkpoint`, LoRA targeting and saving all visit
// this list instead of spelling the names themselves.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "formats/config.h"

namespace hearth {

// The seven projections of a decoder layer (the LoRA targets).
enum class Proj { Q, K, V, O, Gate, Up, Down };
constexpr int kNumProj = 7;
const char* proj_name(Proj p);    // "self_attn.q_proj", ..., "mlp.down_proj"
const char* proj_short(Proj p);   // "q_proj", ..., "down_proj" (PEFT target_modules)
std::optional<Proj> proj_from_short(const std::string& s);
// Input and output width of projection p.
int64_t proj_in(const ModelConfig& c, Proj p);
int64_t proj_out(const ModelConfig& c, Proj p);
bool proj_has_bias(const ModelConfig& c, Proj p);

// What a tensor is to the model.
enum class TensorRole {
  Embed,       // model.embed_tokens.weight [vocab, d]
  LmHead,      // lm_head.weight [vocab, d] (absent with tied embeddings)
  FinalNorm,   // model.norm.weight [d]
  AttnNorm,    // layers.N.input_layernorm.weight [d]
  MlpNorm,     // layers.N.post_attention_layernorm.weight [d]
  QNorm,       // layers.N.self_attn.q_norm.weight [head_dim] (Qwen3)
  KNorm,       // layers.N.self_attn.k_norm.weight [head_dim] (Qwen3)
  Weight,      // layers.N.<proj>.weight [out, in]
  Bias,        // layers.N.<proj>.bias [out]
};

struct HfTensor {
  std::string name;
  std::vector<int64_t> shape;
  TensorRole role = TensorRole::Embed;
  int64_t layer = -1;    // -1 for tensors outside the layers
  Proj proj = Proj::Q;   // Weight and Bias only
  bool matrix() const { return shape.size() == 2; }
};

// Every tensor of a checkpoint of this config, in the order checkpoints usually hold them
// (embeddings, then each layer, then the final norm and the untied head).
std::vector<HfTensor> hf_tensors(const ModelConfig& c);

// The name of one tensor ("model.layers.3.mlp.up_proj.weight"); layer and proj where they apply.
std::string hf_tensor_name(TensorRole role, int64_t layer = -1, Proj proj = Proj::Q);

}  // namespace hearth
