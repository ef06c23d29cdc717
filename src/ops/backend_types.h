// The values the op interface (backend.h) and the fused steps (plan.h) are written in: handles
// to backend memory, RoPE tables, attention shapes and sampling parameters.
#pragma once
#include <cstdint>
#include <vector>

#include "core/dtype.h"

namespace hearth {

// A range of f32 elements in backend memory: buffer id + element offset.
struct Buf {
  uint32_t id = 0;
  int64_t offset = 0;
  Buf at(int64_t elements) const { return Buf{id, offset + elements}; }
};

// An uploaded weight matrix.
struct WeightId {
  uint32_t id = 0;
};

// Rotary tables: the model computes inverse frequencies (HF semantics, all scaling types).
struct RopeTable {
  int64_t rot_dim = 0;                // rotated dims per head (even); the rest pass through
  std::vector<float> inv_freq;        // [rot_dim / 2]
  float attention_scaling = 1.0f;     // multiplies cos and sin (yarn)
};

struct AttentionShape {
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int64_t window = 0;  // 0 = full causal; else keys with q_pos - k_pos < window
  float scale = 1.0f;  // usually 1/sqrt(head_dim)
};

// A matrix as a checkpoint stores it: [rows, cols] row-major values of `dtype` (BF16, F16 or
// F32) at `data`, before quantization (Backend::upload_quantized).
struct RawMatrix {
  const void* data = nullptr;
  DType dtype = DType::F32;
  int64_t rows = 0, cols = 0;
};

// How the next token is picked from logits; one struct for the CPU sampler (engine/sampler.h,
// which states the exact semantics) and a backend's own sampler (Backend::sample, scalar
// semantics in ref::sample_device), which takes its uniforms from the caller instead of seed.
struct SamplingParams {
  float temperature = 1.0f;         // 0 => greedy (argmax; ties -> lowest id)
  int top_k = 0;                    // 0 => off
  float top_p = 1.0f;               // 1 => off
  float min_p = 0.0f;               // 0 => off
  float repetition_penalty = 1.0f;  // HF: logit>0 ? logit/p : logit*p, over prompt + generated
  float presence_penalty = 0.0f;    // OpenAI: subtract once if the token was generated
  float frequency_penalty = 0.0f;   // OpenAI: subtract count * f over generated tokens
  uint64_t seed = 0;
  bool greedy() const { return !(temperature > 0.0f) || top_k == 1; }
  bool penalties() const {
    return repetition_penalty != 1.0f || presence_penalty != 0.0f || frequency_penalty != 0.0f;
  }
};

}  // namespace hearth
