// LoRA adapters: PEFT (adapter_config.json + adapter_model.safetensors, lora_A (r, in) and
// lora_B (out, r)) and MLX-LM (adapter_config.json + adapters.safetensors, lora_a (in, r) and
// lora_b (r, out)), read into one host-side form and checked against the model's projections.
// The forward pass adds scale * B (A x) to a projection's output; base weights are untouched.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/config.h"
#include "formats/json.h"
#include "formats/safetensors.h"
#include "model/hf_layout.h"

namespace hearth {

struct LoraPair {
  int64_t rank = 0, in = 0, out = 0;
  float scale = 1.0f;      // lora_alpha / r (PEFT), alpha / sqrt(r) (rslora), scale (MLX)
  std::vector<float> A;    // [rank, in]
  std::vector<float> B;    // [out, rank]
};

struct LoraAdapter {
  std::string dir, format;  // format: "peft" or "mlx"
  // layers[l][p]: the pair for projection p of layer l, if the adapter has one.
  std::vector<std::array<std::optional<LoraPair>, kNumProj>> layers;
  int64_t max_rank() const;
  int64_t n_pairs() const;
};

// Reads the adapter in `dir` (or a llama.cpp GGUF adapter file, gguf_lora.h) and checks every
// tensor against the model's shapes. Errors name the file and tensor; nothing is applied to any
// model here.
Result<LoraAdapter> load_lora_adapter(const std::string& dir, const ModelConfig& cfg);
// The same from a parsed adapter_config.json (`cfg_path` names it in errors) and the adapter's
// safetensors file, PEFT or (mlx) MLX-LM layout.
Result<LoraAdapter> parse_lora_adapter(const Json& adapter_config, const std::string& cfg_path,
                                       const SafetensorsFile& st, bool mlx, const ModelConfig& cfg);

}  // namespace hearth
