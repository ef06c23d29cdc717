// Engine: generation loop and perplexity.
#include "engine/engine.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <deque>

#include "core/warning.h"
#include "formats/gguf.h"

namespace hearth {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

Result<std::unique_ptr<Engine>> Engine::load(const std::string& dir, const LoadOptions& opt) {
  return load(dir, opt, make_cpu_backend(opt.threads));
}

Result<std::unique_ptr<Engine>> Engine::load(const std::string& dir, const LoadOptions& opt,
                                             std::unique_ptr<Backend> backend) {
  std::unique_ptr<Engine> e(new Engine());
  HEARTH_ASSIGN(e->model_, Model::load(dir, opt, std::move(backend)));
  HEARTH_ASSIGN(e->gen_, read_generation_config(dir));
  const bool from_gen = !e->gen_.eos_token_ids.empty();
  const auto& ids = from_gen ? e->gen_.eos_token_ids : e->model_->config().eos_token_ids;
  const int64_t vocab = e->model_->config().vocab_size;
  for (int64_t id : ids) {
    if (id >= 0 && id < vocab) {
      e->default_stops_.push_back(int32_t(id));
    } else {
      const std::string source = from_gen ? dir + "/generation_config.json"
                                 : is_gguf_file(dir) ? dir + " (metadata)" : dir + "/config.json";
      warn_of(source, ": eos_token_id ", id, " is outside the vocabulary [0, ", vocab, ") and can never end generation");
    }
  }
  return e;
}

SamplingParams Engine::default_sampling() const {
  SamplingParams p;
  p.temperature = 0.0f;
  if (gen_.do_sample.value_or(false)) {
    p.temperature = float(gen_.temperature.value_or(1.0));
    p.top_k = int(std::min<int64_t>(gen_.top_k.value_or(0), INT_MAX));  // beyond the vocabulary = off
    p.top_p = float(gen_.top_p.value_or(1.0));
    p.min_p = float(gen_.min_p.value_or(0.0));
  }
  p.repetition_penalty = float(gen_.repetition_penalty.value_or(1.0));
  return p;
}

Status Engine::load_adapter(const std::string& name, const std::string& dir) {
  HEARTH_ASSIGN(LoraAdapter a, load_lora_adapter(dir, model_->config()));
  return model_->add_adapter(name, std::move(a));
}

void Engine::forget_cache() {
  cache_tokens_.clear();
  model_->reset();
}

Result<int64_t> Engine::reuse_cached_prefix(const GenerateRequest& req) {
  Model& m = *model_;
  const bool known = m.n_past() == int64_t(cache_tokens_.size()) && cache_adapter_ == m.active_adapter() &&
                     cache_adapter_scale_ == req.adapter_scale && cache_adapter_epoch_ == m.adapter_epoch();
  if (req.keep_cache) {
    // The prompt continues the cache; whether its tokens are known stays as it was.
    if (!known) cache_tokens_.assign(size_t(m.n_past()) + 1, -1);  // never equal to n_past() again
    return int64_t(0);
  }
  size_t keep = 0;
  if (known && req.reuse_prefix) {
    while (keep < cache_tokens_.size() && keep < req.prompt.size() && cache_tokens_[keep] == req.prompt[keep]) ++keep;
    if (keep == req.prompt.size()) --keep;  // the last prompt token is fed again for its logits
  }
  HEARTH_CHECK(m.truncate(int64_t(keep)));
  cache_tokens_.resize(keep);
  return int64_t(keep);
}

Result<GenerateResult> Engine::generate(const GenerateRequest& req, const std::function<bool(int32_t)>& on_token) {
  HEARTH_CHECK(validate_sampling_params(req.sampling));
  HEARTH_CHECK(model_->set_adapter(req.adapter, req.adapter_scale));
  if (req.max_new_tokens < 0) return err("max_new_tokens must be >= 0, got ", req.max_new_tokens);
  if (req.prompt.empty()) return err("the prompt is empty: give at least one token");
  if (req.speculative.draft != SpeculativeOptions::Draft::None) {
    const SpeculativeOptions& so = req.speculative;
    if (req.grammar) return err("speculative decoding and structured output cannot be combined");
    if (so.k < 1 || so.k > 32) return err("speculative decoding: k must be in [1, 32], got ", so.k);
    if (so.ngram_min < 1 || so.ngram_max < so.ngram_min) return err("speculative decoding: need 1 <= ngram_min <= ngram_max");
    if (so.draft == SpeculativeOptions::Draft::Model &&
        (!so.draft_engine || so.draft_engine == this ||
         so.draft_engine->model().config().vocab_size != model_->config().vocab_size)) {
      return err("speculative decoding: the draft model must be another loaded model with the same vocabulary");
    }
  }
  // Check the context up front: prompt + generated tokens (the last one is never fed).
  const int64_t before = req.keep_cache ? model_->n_past() : 0;
  const int64_t need = before + int64_t(req.prompt.size()) + std::max<int64_t>(0, req.max_new_tokens - 1);
  if (need > model_->max_ctx()) {
    return err("the request needs ", need, " positions (", before, " cached + ", req.prompt.size(), " prompt + ",
               req.max_new_tokens, " new) but max_ctx is ", model_->max_ctx(), ": raise --max-ctx or ask for fewer tokens");
  }
  const int64_t trained = model_->config().max_position_embeddings;
  if (need > trained && !warned_past_trained_) {
    warned_past_trained_ = true;
    warn_of("the request needs ", need, " positions, more than the model's max_position_embeddings (", trained,
            "): output past position ", trained, " may degrade");
  }
  HEARTH_ASSIGN(const int64_t reused, reuse_cached_prefix(req));
  cache_adapter_ = model_->active_adapter();
  cache_adapter_scale_ = req.adapter_scale;
  cache_adapter_epoch_ = model_->adapter_epoch();
  const std::span<const int32_t> feed = std::span<const int32_t>(req.prompt).subspan(size_t(reused));
  auto r = run(req, feed, on_token);
  if (!r.ok()) {
    forget_cache();  // what the cache holds after a failed step is not known
    return r.error();
  }
  r->n_reused = reused;
  if (model_->n_past() == int64_t(cache_tokens_.size() + feed.size() + (r->ids.empty() ? 0 : r->ids.size() - 1))) {
    cache_tokens_.insert(cache_tokens_.end(), feed.begin(), feed.end());
    if (!r->ids.empty()) cache_tokens_.insert(cache_tokens_.end(), r->ids.begin(), r->ids.end() - 1);
  }
  return r;
}

Result<GenerateResult> Engine::run(const GenerateRequest& req, std::span<const int32_t> feed,
                                   const std::function<bool(int32_t)>& on_token) {
  const int64_t start = model_->n_past();
  GenerateResult res;
  res.n_prompt = int64_t(req.prompt.size());
  const std::vector<int32_t>& stops = req.stop_ids.empty() ? default_stops_ : req.stop_ids;
  Sampler sampler(req.sampling);
  sampler.add_prompt(req.prompt);
  std::vector<float> logits;
  auto t0 = std::chrono::steady_clock::now();
  HEARTH_CHECK(model_->forward(feed, &logits));
  res.prefill_seconds = seconds_since(t0);
  t0 = std::chrono::steady_clock::now();
  const SamplingParams& sp = req.sampling;
  const bool plain_greedy = sp.temperature <= 0 && sp.repetition_penalty == 1.0f && sp.presence_penalty == 0.0f &&
                            sp.frequency_penalty == 0.0f;
  const Backend& be = model_->backend();
  if (req.grammar) req.grammar->reset();
  if (req.speculative.draft != SpeculativeOptions::Draft::None) {
    HEARTH_CHECK(decode_speculative(req, start + int64_t(feed.size()), logits, stops, on_token, sampler, &res));
    res.decode_seconds = seconds_since(t0);
    return res;
  }
  if (req.device_greedy_steps > 0 && be.supports_device_greedy() && (plain_greedy || be.supports_device_sampling())) {
    if (req.grammar) {
      HEARTH_CHECK(decode_constrained_on_device(req, logits, stops, on_token, sampler, plain_greedy, &res));
    } else {
      HEARTH_CHECK(decode_on_device(req, start + int64_t(feed.size()), logits, stops, on_token, sampler, plain_greedy, &res));
    }
    res.decode_seconds = seconds_since(t0);
    return res;
  }
  for (int64_t i = 0; i < req.max_new_tokens; ++i) {
    const int32_t id = req.grammar ? pick_constrained(req, stops, sampler, logits) : sampler.sample(logits);
    if (id < 0) {
      res.stopped_by_grammar = true;
      break;
    }
    sampler.accept(id);
    res.ids.push_back(id);
    bool is_stop = std::find(stops.begin(), stops.end(), id) != stops.end();
    bool go_on = on_token ? on_token(id) : true;
    if (is_stop) { res.stopped_by_token = true; break; }
    if (!go_on) { res.stopped_by_caller = true; break; }
    if (i + 1 == req.max_new_tokens) break;  // the last token needs no forward pass
    HEARTH_CHECK(model_->forward(std::span<const int32_t>(&id, 1), &logits));
  }
  res.decode_seconds = seconds_since(t0);
  return res;
}

// The decode loop with the pick on the backend (the argmax, or with `argmax` false the device
// sampler: penalties, temperature, top-k/top-p/min-p, uniforms from `sampler`'s seeded stream):
// the first token comes from the prefill's logits, the rest in batches of device_greedy_steps
// per submission, Model::kDeviceSlots (3) batches under way at a time (the later ones are
// recorded and submitted while the GPU runs the first). Tokens computed past a stop (or past
// the caller's stop) are dropped and the KV cache is cut back to what the one-token-at-a-time
// loop would have fed.
Status Engine::decode_on_device(const GenerateRequest& req, int64_t fed_base, std::span<float> logits,
                                const std::vector<int32_t>& stops, const std::function<bool(int32_t)>& on_token,
                                Sampler& sampler, bool argmax, GenerateResult* res) {
  if (req.max_new_tokens <= 0) return {};
  const int32_t id0 = sampler.sample(logits);  // the same pick as the one-token loop's
  const SamplingParams& sp = req.sampling;
  SamplingParams ds;
  ds.temperature = sp.temperature;
  ds.top_k = sp.top_k;
  ds.top_p = sp.top_p;
  ds.min_p = sp.min_p;
  ds.repetition_penalty = sp.repetition_penalty;
  ds.presence_penalty = sp.presence_penalty;
  ds.frequency_penalty = sp.frequency_penalty;
  if (!argmax && ds.penalties()) model_->set_device_history(req.prompt, std::span<const int32_t>(&id0, 1));
  std::vector<float> uniforms;
  struct Batch {
    uint32_t ticket;
    int64_t k;
  };
  std::deque<Batch> flight;
  int64_t planned = 1;  // ids produced or under way (the first comes from the prefill)
  auto launch = [&]() -> Status {
    const int64_t k = std::min({req.device_greedy_steps, req.max_new_tokens - planned, Model::kMaxDeviceSteps});
    uniforms.clear();
    for (int64_t i = 0; !argmax && i < k; ++i) uniforms.push_back(ds.temperature > 0.0f ? sampler.next_uniform() : 0.0f);
    HEARTH_ASSIGN(uint32_t t, model_->start_device_batch(planned == 1 ? id0 : -1, k, argmax ? nullptr : &ds, uniforms));
    planned += k;
    flight.push_back({t, k});
    return {};
  };
  // Waits for what is still under way (its ids are not used).
  auto drain = [&]() -> Status {
    Status s;
    std::vector<int32_t> dropped;
    for (; !flight.empty(); flight.pop_front()) {
      Status f = model_->finish_device_batch(flight.front().ticket, flight.front().k, &dropped);
      if (s.ok() && !f.ok()) s = f;
    }
    return s;
  };
  std::vector<int32_t> batch = {id0};
  size_t next = 0;
  while (true) {
    while (int64_t(flight.size()) < Model::kDeviceSlots && planned < req.max_new_tokens) {
      Status s = launch();
      if (!s.ok()) {
        (void)drain();
        return s;
      }
    }
    const int32_t id = batch[next++];
    res->ids.push_back(id);
    const bool is_stop = std::find(stops.begin(), stops.end(), id) != stops.end();
    const bool go_on = on_token ? on_token(id) : true;
    const int64_t n = int64_t(res->ids.size());
    if (is_stop || !go_on || n == req.max_new_tokens) {
      res->stopped_by_token = is_stop;
      res->stopped_by_caller = !is_stop && !go_on;
      HEARTH_CHECK(drain());
      return model_->truncate(fed_base + n - 1);  // the last generated id is never fed
    }
    if (next == batch.size()) {
      batch.clear();
      next = 0;
      const Batch b = flight.front();
      flight.pop_front();
      Status s = model_->finish_device_batch(b.ticket, b.k, &batch);
      if (!s.ok()) {
        (void)drain();
        return s;
      }
    }
  }
}

Result<PerplexityResult> evaluate_perplexity(Model& model, std::span<const int32_t> windows, int64_t n, int64_t len,
                                             const std::function<void(int64_t)>& progress) {
  if (n <= 0) return err("perplexity: no windows to evaluate");
  if (len < 2) return err("perplexity windows must hold at least 2 tokens, got ", len);
  if (int64_t(windows.size()) != n * len) return err("perplexity: expected ", n * len, " ids, got ", windows.size());
  if (len > model.max_ctx()) return err("perplexity windows of ", len, " tokens exceed max_ctx ", model.max_ctx());
  const int64_t V = model.config().vocab_size;
  PerplexityResult r;
  std::vector<float> all;
  for (int64_t w = 0; w < n; ++w) {
    model.reset();
    auto win = windows.subspan(size_t(w * len), size_t(len));
    HEARTH_CHECK(model.forward(win, nullptr, &all));
    double sum = 0;
    for (int64_t t = 0; t + 1 < len; ++t) {
      const float* l = all.data() + t * V;
      float mx = *std::max_element(l, l + V);
      double z = 0;
      for (int64_t v = 0; v < V; ++v) z += std::exp(double(l[v] - mx));
      sum += (std::log(z) + mx) - l[win[size_t(t + 1)]];
    }
    if (!std::isfinite(sum)) return err("perplexity: window ", w, " gives a non-finite loss (the model's logits are not finite)");
    r.window_nll.push_back(sum / double(len - 1));
    if (progress) progress(w + 1);
  }
  model.reset();
  double tot = 0;
  for (double x : r.window_nll) tot += x;
  r.mean_nll = tot / double(n);
  r.ppl = std::exp(r.mean_nll);
  return r;
}

}  // namespace hearth
