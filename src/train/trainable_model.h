// A model whose every tensor is trained (pretraining): f32 parameters on a backend, named by the
// Hugging Face layout (model/hf_layout.h), loaded from a checkpoint folder or initialised from
// a config, and saved as an ordinary Hugging Face folder.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "formats/config.h"
#include "ops/backend.h"
#include "train/network.h"
#include "train/params.h"

namespace hearth::train {

class TrainableModel {
 public:
  // config.json + model.safetensors (or shards) of `dir`, any float dtype, as f32.
  static Result<TrainableModel> load(Backend& be, const std::string& dir);
  // config.json of `dir` only: matrices and embeddings ~ normal(0, 0.02), norms 1, biases 0,
  // drawn from `seed` in hf_tensors() order.
  static Result<TrainableModel> init(Backend& be, const std::string& dir, uint64_t seed);
  // The same from a config (source_dir: where save() copies config.json and tokenizer files
  // from; empty: save() writes no config).
  static Result<TrainableModel> init(Backend& be, const ModelConfig& cfg, uint64_t seed, const std::string& source_dir = "");

  const ModelConfig& config() const { return cfg_; }
  const std::string& source_dir() const { return dir_; }
  ParamSet& params() { return params_; }
  const ParamSet& params() const { return params_; }
  // The step's view: every tensor trained; the head is the embedding when tied.
  NetworkRefs network() const;
  // Writes out_dir/config.json (the source's), model.safetensors (F32 or BF16) and the
  // source's tokenizer and generation files.
  Status save(Backend& be, const std::string& out_dir, DType dtype) const;

 private:
  static Result<TrainableModel> build(Backend& be, const std::string& dir, const ModelConfig& cfg,
                                      const std::function<Result<std::vector<float>>(const HfTensor&)>& values);
  ModelConfig cfg_;
  std::string dir_;
  ParamSet params_;
};

// Copies the tokenizer, its config and generation_config.json from src_dir when present.
Status copy_tokenizer_files(const std::string& src_dir, const std::string& out_dir);
// Writes the parameters' values (or gradients) as a safetensors file in F32 or BF16, under their
// names and shapes.
Status write_tensors(Backend& be, const std::string& path, const std::vector<const Param*>& params, DType dtype,
                     bool gradients = false);

}  // namespace hearth::train
