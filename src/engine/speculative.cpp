// Engine: speculative decoding (engine.h, SpeculativeOptions). Each round feeds the last emitted
// token c and the drafts d1..dk in one forward with the logits of every position, so row i
// holds the model's distribution after c, d1..di. Drafts are accepted left to right; the first
// rejected one is replaced by a token drawn from what is left of that row, and when all are
// accepted the last row gives one more. The KV cache then keeps c and the accepted drafts.
#include <algorithm>
#include <chrono>

#include "engine/engine.h"

namespace hearth {

std::vector<int32_t> prompt_lookup_draft(std::span<const int32_t> history, int64_t k, int ngram_min, int ngram_max) {
  const int64_t n = int64_t(history.size());
  for (int64_t g = std::min<int64_t>(ngram_max, n - 1); g >= ngram_min; --g) {
    const std::span<const int32_t> tail = history.subspan(size_t(n - g));
    // The latest earlier occurrence (it ends before the suffix itself).
    for (int64_t s = n - g - 1; s >= 0; --s) {
      if (!std::equal(tail.begin(), tail.end(), history.begin() + s)) continue;
      const int64_t from = s + g, to = std::min(n, from + k);
      if (to > from) return std::vector<int32_t>(history.begin() + from, history.begin() + to);
    }
  }
  return {};
}

int32_t accept_or_resample(std::vector<float>& probs, int32_t draft, Sampler& sampler) {
  if (sampler.uniform() < double(probs[size_t(draft)])) return draft;
  probs[size_t(draft)] = 0.0f;  // the residual max(0, p - onehot(draft)), renormalized by the draw
  const int32_t t = sampler.draw_from(probs);
  return t < 0 ? draft : t;  // all of p was on the draft (rounding)
}

Status Engine::decode_speculative(const GenerateRequest& req, int64_t fed_base, std::span<float> logits,
                                  const std::vector<int32_t>& stops, const std::function<bool(int32_t)>& on_token,
                                  Sampler& sampler, GenerateResult* res) {
  if (req.max_new_tokens <= 0) return {};
  const SpeculativeOptions& so = req.speculative;
  const SamplingParams& sp = req.sampling;
  const bool greedy = sp.greedy();
  std::vector<int32_t>& out = res->ids;
  // Emits one token; false when generation ends with it.
  auto emit = [&](int32_t id) {
    out.push_back(id);
    const bool stop = std::find(stops.begin(), stops.end(), id) != stops.end();
    const bool go_on = on_token ? on_token(id) : true;
    res->stopped_by_token = stop;
    res->stopped_by_caller = !stop && !go_on;
    return !stop && go_on && int64_t(out.size()) < req.max_new_tokens;
  };
  std::vector<float> probs, all;
  std::vector<int32_t> history(req.prompt), draft, step;
  // The first token, from the prefill's logits, as plain decoding picks it.
  int32_t c = greedy ? sampler.sample(logits, req.prompt, {}) : -1;
  if (!greedy) {
    sampler.distribution(logits, req.prompt, {}, probs);
    c = sampler.draw_from(probs);
  }
  bool go = emit(c);
  history.push_back(c);
  while (go) {
    const int64_t room = req.max_new_tokens - int64_t(out.size());  // tokens still allowed (>= 1)
    const int64_t k = std::min(so.k, room - 1);
    draft.clear();
    if (k > 0 && so.draft == SpeculativeOptions::Draft::PromptLookup) {
      draft = prompt_lookup_draft(history, k, so.ngram_min, so.ngram_max);
    } else if (k > 0) {
      GenerateRequest dr;
      dr.prompt = history;
      dr.max_new_tokens = k;
      dr.sampling.temperature = 0;
      dr.stop_ids = {-1};
      HEARTH_ASSIGN(GenerateResult d, so.draft_engine->generate(dr));
      draft = d.ids;
    }
    step.assign(1, c);
    step.insert(step.end(), draft.begin(), draft.end());
    HEARTH_CHECK(model_->forward(step, nullptr, &all));
    const int64_t V = model_->config().vocab_size;
    res->drafted += int64_t(draft.size());
    size_t i = 0;
    for (; i <= draft.size() && go; ++i) {
      std::span<float> row(all.data() + int64_t(i) * V, size_t(V));
      const std::span<const int32_t> gen(history.data() + req.prompt.size(), history.size() - req.prompt.size());
      int32_t t;
      if (greedy) {
        t = sampler.sample(row, req.prompt, gen);
      } else {
        sampler.distribution(row, req.prompt, gen, probs);
        t = i < draft.size() ? accept_or_resample(probs, draft[i], sampler) : sampler.draw_from(probs);
      }
      const bool accepted = i < draft.size() && t == draft[i];
      res->accepted += accepted;
      go = emit(t);
      history.push_back(t);
      c = t;
      if (!accepted) break;
    }
    // Keep c and the accepted drafts; the newest token is fed in the next round.
    HEARTH_CHECK(model_->truncate(fed_base + int64_t(out.size()) - 1));
  }
  return model_->truncate(fed_base + int64_t(out.size()) - 1);
}

}  // namespace hearth
