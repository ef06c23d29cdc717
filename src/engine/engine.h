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
#include "grammar/matcher.h"
#include "model/model.h"

namespace hearth {

class Engine;

// Speculative decoding: cheap guesses of the next tokens ("drafts"), checked by the model in one
// batched forward of the last token and the k drafts. Greedy output is exactly plain greedy
// decoding's; sampled output follows the target distribution (the standard acceptance rule:
// a draft d is kept with probability p(d) for a deterministic draft, else the step samples
// from p with d removed), drawn from the sampler's seeded stream.
struct SpeculativeOptions {
  enum class Draft { None, PromptLookup, Model };
  Draft draft = Draft::None;
  int64_t k = 4;                     // drafted tokens per verification
  int ngram_min = 1, ngram_max = 4;  // prompt lookup: n-gram sizes matched, longest first
  Engine* draft_engine = nullptr;    // Draft::Model: a model with the same vocabulary (greedy)
};

// Prompt lookup: the tokens that followed the latest earlier occurrence of the longest suffix
// n-gram (ngram_max down to ngram_min tokens) of `history`, at most k of them; empty when none.
std::vector<int32_t> prompt_lookup_draft(std::span<const int32_t> history, int64_t k, int ngram_min, int ngram_max);

// The acceptance rule for a deterministic draft: `draft` with probability probs[draft], else a
// token drawn from probs without it (probs is changed). The result is distributed as probs.
int32_t accept_or_resample(std::vector<float>& probs, int32_t draft, Sampler& sampler);

struct GenerateRequest {
  std::vector<int32_t> prompt;     // tokens to feed before generating
  int64_t max_new_tokens = 128;
  SamplingParams sampling;         // temperature 0 = greedy
  std::vector<int32_t> stop_ids;   // empty: the model's eos ids (generation_config.json, config.json)
  // With keep_cache the prompt continues after what the KV cache holds. Without it the prompt
  // is a whole sequence: the KV cache of the longest common prefix with the tokens the cache
  // holds (the previous requests' prompts and outputs) is reused, when reuse_prefix is on and
  // the same adapter and scale are active, and only the rest is prefilled. The output is that of
  // a fresh prefill (same tokens; logits may differ in the last bits where the prefill's batch
  // split differs).
  bool keep_cache = false;
  bool reuse_prefix = true;
  std::string adapter;             // a loaded adapter's name, "" = none
  float adapter_scale = 1.0f;      // multiplies the adapter's own scale
  // On a backend that picks tokens itself (WebGPU), decode this many tokens per submission with
  // one read-back of their ids; 0 = one token at a time with the logits read back and the CPU
  // sampler. Greedy tokens are the same either way; sampled ones follow the device sampler
  // (same distribution and filters, its own draw: ref::sample_device), reproducible per seed.
  int64_t device_greedy_steps = 8;
  // Structured output: the output must follow this matcher's grammar (structured_output.h). It is
  // reset at the start; each step picks among the tokens it allows (the logits of the others
  // masked out before sampling: on a GPU backend, on the device, one token per submission), a
  // stop token only where the text so far is a whole sentence, and generation ends when the
  // grammar allows nothing more.
  std::shared_ptr<GrammarMatcher> grammar;
  SpeculativeOptions speculative;  // with a grammar: an error
};

struct GenerateResult {
  std::vector<int32_t> ids;        // generated ids; a stop token that ended generation is last
  bool stopped_by_token = false;   // ended on a stop id (not fed to the model)
  bool stopped_by_caller = false;  // the callback asked to stop
  bool stopped_by_grammar = false; // the grammar was complete and allowed no further token
  int64_t drafted = 0, accepted = 0;  // speculative decoding: drafted tokens, and those kept
  int64_t n_prompt = 0;
  int64_t n_reused = 0;            // prompt tokens whose keys and values came from the cache
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

  // The tokens whose keys and values the KV cache holds, in order, as far as the engine knows
  // them (what its requests fed); forget_cache() drops them and empties the cache.
  const std::vector<int32_t>& cached_tokens() const { return cache_tokens_; }
  void forget_cache();

  // Runs a request. on_token(id) is called for each generated id (the ending stop id too);
  // returning false stops generation after that token.
  Result<GenerateResult> generate(const GenerateRequest& req,
                                  const std::function<bool(int32_t)>& on_token = nullptr);

 private:
  Status decode_on_device(const GenerateRequest& req, int64_t fed_base, std::span<float> logits,
                          const std::vector<int32_t>& stops, const std::function<bool(int32_t)>& on_token,
                          Sampler& sampler, bool argmax, GenerateResult* res);
  // The next token under req.grammar from `logits` (masked in place), or -1 when the grammar
  // allows nothing.
  int32_t pick_constrained(const GenerateRequest& req, const std::vector<int32_t>& stops, Sampler& sampler,
                           std::span<float> logits);
  // The decode loop under a grammar with the pick on the backend (masks uploaded per token).
  Status decode_constrained_on_device(const GenerateRequest& req, std::span<float> logits,
                                      const std::vector<int32_t>& stops, const std::function<bool(int32_t)>& on_token,
                                      Sampler& sampler, bool argmax, GenerateResult* res);
  std::vector<uint32_t> mask_words_;
  // The decode loop with drafts verified in batches (speculative.cpp).
  Status decode_speculative(const GenerateRequest& req, int64_t fed_base, std::span<float> logits,
                            const std::vector<int32_t>& stops, const std::function<bool(int32_t)>& on_token,
                            Sampler& sampler, GenerateResult* res);
  // Prefill of `feed` (the part of req.prompt not in the cache) and the decode loop.
  Result<GenerateResult> run(const GenerateRequest& req, std::span<const int32_t> feed,
                             const std::function<bool(int32_t)>& on_token);
  // Where a request starts: truncates the KV cache to the reusable prefix of req.prompt and
  // returns how many of its tokens are already there.
  Result<int64_t> reuse_cached_prefix(const GenerateRequest& req);
  std::unique_ptr<Model> model_;
  // What the KV cache holds (cache_tokens_ is valid while model_->n_past() equals its size) and
  // the weights it was computed with.
  std::vector<int32_t> cache_tokens_;
  std::string cache_adapter_;
  float cache_adapter_scale_ = 1.0f;
  uint64_t cache_adapter_epoch_ = 0;
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
