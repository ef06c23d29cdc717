// Engine: decoding under a grammar (GenerateRequest::grammar). Each step masks the logits to the
// tokens the grammar allows (a stop token only where the text is complete) and feeds the pick
// to the grammar. Greedy picks first try the unmasked argmax: when the grammar allows it, it is
// also the masked argmax, and no mask is computed.
#include <algorithm>
#include <cmath>
#include <limits>

#include "engine/engine.h"

namespace hearth {

namespace {
bool is_stop(const std::vector<int32_t>& stops, int32_t id) { return std::find(stops.begin(), stops.end(), id) != stops.end(); }
}  // namespace

int32_t Engine::pick_constrained(const GenerateRequest& req, const std::vector<int32_t>& stops, Sampler& sampler,
                                 std::span<float> logits) {
  GrammarMatcher& g = *req.grammar;
  const bool complete = g.is_complete();
  auto allowed = [&](int32_t id) { return is_stop(stops, id) ? complete : g.token_allowed(id); };
  const SamplingParams& p = sampler.params();
  int32_t id = -1;
  if (p.greedy() && !p.penalties()) {
    const int32_t best = argmax(logits);
    if (best >= 0 && std::isfinite(logits[size_t(best)]) && allowed(best)) id = best;
  }
  if (id < 0) {
    g.token_mask(mask_words_);
    if (complete) {
      for (int32_t s : stops)
        if (s >= 0 && size_t(s) < logits.size()) mask_words_[size_t(s) >> 5] |= uint32_t(1) << (s & 31);
    }
    bool any = false;
    const float kNegInf = -std::numeric_limits<float>::infinity();
    for (size_t v = 0; v < logits.size(); ++v) {
      const bool ok = v < mask_words_.size() * 32 && ((mask_words_[v >> 5] >> (v & 31)) & 1);
      any = any || ok;
      if (!ok) logits[v] = kNegInf;
    }
    if (!any) return -1;
    id = sampler.sample(logits);
    if (!((mask_words_[size_t(id) >> 5] >> (id & 31)) & 1)) return -1;  // only -inf left after penalties
  }
  if (!is_stop(stops, id)) g.accept_token(id);
  return id;
}

}  // namespace hearth

namespace hearth {

// One token per submission: the mask of the next step is known only once this one's pick is.
// The first pick comes from the prefill's logits (read back anyway); later logits stay on the
// device, masked there, and only the picked id comes back.
Status Engine::decode_constrained_on_device(const GenerateRequest& req, std::span<float> logits,
                                            const std::vector<int32_t>& stops,
                                            const std::function<bool(int32_t)>& on_token, Sampler& sampler,
                                            bool argmax, GenerateResult* res) {
  if (req.max_new_tokens <= 0) return {};
  GrammarMatcher& g = *req.grammar;
  int32_t id = pick_constrained(req, stops, sampler, logits);
  const SamplingParams& ds = req.sampling;
  bool history_set = false;
  while (true) {
    if (id < 0) {
      res->stopped_by_grammar = true;
      return {};
    }
    res->ids.push_back(id);
    const bool stop = is_stop(stops, id);
    const bool go_on = on_token ? on_token(id) : true;
    if (stop || !go_on || int64_t(res->ids.size()) == req.max_new_tokens) {
      res->stopped_by_token = stop;
      res->stopped_by_caller = !stop && !go_on;
      return {};
    }
    const bool complete = g.is_complete();
    g.token_mask(mask_words_);
    if (complete) {
      for (int32_t s : stops)
        if (s >= 0 && s < model_->config().vocab_size) mask_words_[size_t(s) >> 5] |= uint32_t(1) << (s & 31);
    }
    if (std::all_of(mask_words_.begin(), mask_words_.end(), [](uint32_t w) { return w == 0; })) {
      res->stopped_by_grammar = true;
      return {};
    }
    HEARTH_CHECK(model_->set_device_logit_mask(mask_words_));
    if (!argmax && ds.penalties() && !history_set) {
      model_->set_device_history(req.prompt, res->ids);  // the device adds each later pick itself
      history_set = true;
    }
    const float u = !argmax && ds.temperature > 0.0f ? sampler.next_uniform() : 0.0f;
    HEARTH_ASSIGN(uint32_t ticket, model_->start_device_batch(id, 1, argmax ? nullptr : &ds,
                                                              std::span<const float>(&u, 1), true));
    std::vector<int32_t> picked;
    HEARTH_CHECK(model_->finish_device_batch(ticket, 1, &picked));
    id = picked[0];
    const bool allowed = is_stop(stops, id) ? complete : g.accept_token(id);
    if (!allowed) return err("decode on device: the backend picked token ", id, ", which the grammar does not allow here");
  }
}

}  // namespace hearth
