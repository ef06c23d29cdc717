// What the training step reads: every tensor of a Llama-family model as a backend handle, either
// trained (an f32 Buf with its gradient Buf) or frozen (an uploaded matrix of any format, or an
// f32 vector with no gradient), plus optional LoRA pairs on the seven projections. Pretraining
// fills it from a ParamSet; LoRA fine-tuning from the loaded Model and the adapter's ParamSet.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "model/hf_layout.h"
#include "ops/backend.h"

namespace hearth::train {

// A matrix or vector: `value` (f32) or, for frozen matrices, `frozen`. grad.id == 0: not trained.
struct TensorRef {
  Buf value;
  WeightId frozen;
  Buf grad;
  bool present() const { return value.id != 0 || frozen.id != 0; }
  bool trained() const { return grad.id != 0; }
};

// out += scale * B (A x): A [rank, in], B [out, rank], both trained.
struct LoraRef {
  Buf A, B, dA, dB;
  int64_t rank = 0;
  float scale = 1.0f;
};

struct LayerRefs {
  TensorRef attn_norm, mlp_norm, q_norm, k_norm;  // q_norm, k_norm only with qk_norm
  std::array<TensorRef, kNumProj> weight, bias;    // bias absent where the config has none
  std::array<std::optional<LoraRef>, kNumProj> lora;
};

struct NetworkRefs {
  TensorRef embed, head, final_norm;  // head is embed with tied embeddings
  std::vector<LayerRefs> layers;
  bool tied() const { return head.value.id == embed.value.id && head.frozen.id == embed.frozen.id; }
};

}  // namespace hearth::train
