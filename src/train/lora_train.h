// LoRA fine-tuning on a frozen base: trainable pairs (A [rank, in], B [out, rank]) on any subset
// of the seven projections of every layer, the step's view of the loaded Model with them, the
// trained adapter in the host form the Model takes for generation at once (Model::add_adapter),
// and saving in PEFT layout (adapter_config.json + adapter_model.safetensors).
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/config.h"
#include "model/lora.h"
#include "model/model.h"
#include "train/network.h"
#include "train/params.h"

namespace hearth::train {

struct LoraSpec {
  int64_t rank = 8;
  double alpha = 16;
  bool rslora = false;        // scale alpha / sqrt(rank) instead of alpha / rank
  std::vector<Proj> targets;  // in Proj order
  float scale() const;
};

// "q_proj,k_proj,v_proj" -> projections in Proj order (each once; "all-linear": all seven);
// errors name the option.
Result<std::vector<Proj>> parse_lora_targets(const std::string& text);

class LoraTraining {
 public:
  // New pairs as PEFT initialises them: A kaiming-uniform with a = sqrt(5) (uniform in
  // +-1/sqrt(in)), drawn from `seed` pair by pair; B zero.
  static Result<LoraTraining> create(Backend& be, const ModelConfig& cfg, const LoraSpec& spec, uint64_t seed);
  // The pairs of an adapter folder (PEFT or MLX-LM), to continue from; one rank and scale for all.
  static Result<LoraTraining> from_adapter(Backend& be, const ModelConfig& cfg, const std::string& dir);

  const LoraSpec& spec() const { return spec_; }
  ParamSet& params() { return params_; }
  const ParamSet& params() const { return params_; }
  // The step's view: the model's frozen weights (any format) plus these pairs.
  NetworkRefs network(const Model& model) const;
  // The trained pairs as a host adapter (for Model::add_adapter).
  LoraAdapter to_adapter(Backend& be) const;
  // out_dir/adapter_config.json + adapter_model.safetensors (F32, PEFT names).
  Status save_peft(Backend& be, const std::string& out_dir, const std::string& base_model) const;

 private:
  ModelConfig cfg_;
  LoraSpec spec_;
  ParamSet params_;
  std::vector<std::array<int, kNumProj>> index_;  // [layer][proj]: A's index in params_ (B follows), -1 if none
};

}  // namespace hearth::train
