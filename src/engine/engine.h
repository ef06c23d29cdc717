// Engine: a loaded model plus its generation defaults, running generation requests (prefill,
// then sampled or greedy decode with stop tokens) and perplexity evaluation.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/sampler.h"
#include "formats/config.h"
#include "model/model.h"

namespace hearth {

struct GenerateRequest {
  std::vector<int32_t> prompt;     // tokens to feed before generating
  int64_t max_new_tokens = 128;
  SamplingParams sampling;         // temperature 0 = greedy
  std::vector<int32_t> stop_ids;   // empty: the model's eos ids (generation_config.json, config.json)
  bool keep_cache = false;         // continue after what the KV cache holds (multi-turn chat)
  std::string adapter;             // a loaded adapter's name, "" = none
  float adapter_scale = 1.0f;      // multiplies the adapter's own scale
  // On a backend that picks tokens itself (WebGPU), decode this many tokens per submission with
  // one read-back of their ids; 0 = one token at a time with the logits read back and the CPU
  // sampler. Greedy tokens are the same either way; sampled ones follow the device sampler
  // (same distribution and filters, its own draw: ref::sample_device), reproducible per seed.
  int64_t device_greedy_steps = 8;
};

struct GenerateResult {
  std::vector<int32_t> ids;        // generated ids; a stop token that ended generation is last
  bool stopped_by_token = false;   // ended on a stop id (not fed to the model)
  bool stopped_by_caller = false;  // the callback asked to stop
  int64_t n_prompt = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

class Engine {
 public:
  static Result<std::unique_ptr<Engine>> load(const std::string& dir, const LoadOptions& opt);
  // Same, with the model on `backend` (e.g. WebGPU) instead of a CPU backend.
  static Result<std::unique_ptr<Engine>> load(const std::string& dir, const LoadOptions& opt,
                                              std::unique_ptr<Backend> backend);

  Model& model() { return *model_; }
  const GenerationConfig& generation_config() const { return gen_; }
  // The stop ids used when a request names none.
  const std::vector<int32_t>& default_stop_ids() const { return default_stops_; }
  // Sampling defaults from generation_config.json (greedy when do_sample is false or absent).
  SamplingParams default_sampling() const;

  // Reads a LoRA adapter folder (PEFT or MLX-LM) and keeps it resident under `name`. On error
  // nothing changes.
  Status load_adapter(const std::string& name, const std::string& dir);
  Status unload_adapter(const std::string& name) { return model_->remove_adapter(name); }
  // Keeps an adapter given in host form (e.g. one just trained by src/train) resident under
  // `name`, ready for requests at once; on error nothing changes.
  Status add_adapter(const std::string& name, LoraAdapter adapter) { return model_->add_adapter(name, std::move(adapter)); }

  // Runs a request. on_token(id) is called for each generated id (the ending stop id too);
  // returning false stops generation after that token.
  Result<GenerateResult> generate(const GenerateRequest& req,
                                  const std::function<bool(int32_t)>& on_token = nullptr);

 private:
  Status decode_on_device(const GenerateRequest& req, int64_t start, std::span<float> logits,
                                 const std::vector<int32_t>& stops, const std::function<bool(int32_t)>& on_token,
                                 Sampler& sampler, bool argmax, GenerateResult* res);
  std::unique_ptr<Model> model_;
  GenerationConfig gen_;
  std::vector<int32_t> default_stops_;
  bool warned_past_trained_ = false;  // said once that a request runs past max_position_embeddings
};

// Mean negative log-likelihood of windows[w][1..] given the prefix, averaged per window then
// over windows; perplexity = exp(mean). windows: [n, len] token ids.
struct PerplexityResult {
  double mean_nll = 0, ppl = 0;
  std::vector<double> window_nll;
};
Result<PerplexityResult> evaluate_perplexity(Model& model, std::span<const int32_t> windows, int64_t n, int64_t len,
                                             const std::function<void(int64_t)>& progress = nullptr);

}  // namespace hearth
