// Token sampling: penalties, temperature, top-k, top-p, min-p and a seeded, platform-independent
// PRNG, so the same logits and seed give the same tokens natively and in wasm.
//
// Processing order (as in Hugging Face generate):
//   repetition penalty -> presence/frequency penalties -> temperature -> top-k -> top-p -> min-p
//   -> draw.
// Exact semantics (n = vocabulary size, l = logits after penalties):
//   - repetition_penalty r (HF): for every distinct token seen in prompt or generated text,
//     l = l > 0 ? l / r : l * r. 1 = off.
//   - presence_penalty a, frequency_penalty f (OpenAI): for every token generated so far
//     (prompt tokens do not count), l -= a + f * count. 0 = off.
//   - temperature T: probabilities are softmax(l / T). T <= 0 means greedy: the argmax of l,
//     ties going to the lowest id; top-k/top-p/min-p and the PRNG are then not used.
//   - top_k k > 0: keep the k highest logits (ties broken towards the lower id, so exactly
//     min(k, n) tokens remain; HF keeps every token tied with the k-th). k = 1 equals greedy.
//   - top_p p < 1: over the tokens left by top-k, sorted by probability (ties: lower id first),
//     keep the smallest prefix whose cumulative probability (renormalized over those tokens)
//     reaches >= p; the most likely token is always kept. p >= 1 = off.
//   - min_p m > 0: keep tokens whose probability is >= m * (probability of the most likely
//     token). Renormalization does not change that ratio, so this equals HF's MinP warper.
//   - The draw: one uniform double in [0, 1) from xoshiro256** (seeded through splitmix64),
//     scaled by the kept mass and walked over the kept tokens. Weights exp((l - max) / T) come
//     from a software exp in float arithmetic (relative error ~1e-7, no libm, no contraction),
//     so the token drawn is bit-identical on every platform for the same logits and seed.
//   - NaN logits are treated as -inf. If every logit is -inf the result is token 0.
// Cost per token (n = vocab): penalties O(distinct tokens seen); greedy one max pass plus a
// short scan; plain temperature two vectorizable passes; top-k one scan with a k-heap
// (k <= 256) or nth_element; top-p without top-k one pass that buckets tokens by probability
// (1/32 nat wide), so only the bucket holding the nucleus boundary is ever sorted.
#pragma once
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "ops/backend_types.h"

namespace hearth {


// Checks ranges: temperature >= 0, top_k >= 0, 0 < top_p <= 1, 0 <= min_p <= 1,
// repetition_penalty > 0, all finite. The message names the offending field.
Status validate_sampling_params(const SamplingParams& p);

// Index of the largest value; ties and NaNs resolve to the lowest index. Empty -> -1.
int32_t argmax(std::span<const float> values);

// splitmix64: the seed expander (also a fine PRNG on its own). `state` advances by one step.
uint64_t splitmix64_next(uint64_t& state);

// xoshiro256** (Blackman & Vigna), seeded by four splitmix64 outputs of `seed`.
class Xoshiro256 {
 public:
  explicit Xoshiro256(uint64_t seed = 0) { reseed(seed); }
  void reseed(uint64_t seed);
  uint64_t next();
  // Uniform in [0, 1) with 53 random bits.
  double uniform();

 private:
  uint64_t s_[4];
};

// Tokens seen so far: whether each appeared in the prompt and how often it was generated.
// Penalties cost O(distinct tokens) per step.
class TokenHistory {
 public:
  void clear();
  void add_prompt(std::span<const int32_t> ids);
  void add_generated(int32_t id);
  // Applies repetition / presence / frequency penalties to `logits` in place. Ids outside
  // [0, logits.size()) are ignored.
  void apply_penalties(std::span<float> logits, const SamplingParams& p) const;
  size_t distinct() const { return entries_.size(); }

 private:
  struct Entry {
    bool in_prompt = false;
    uint32_t generated = 0;
  };
  // Distinct tokens in first-seen order (flat, so the per-step loop is contiguous) and where
  // each one sits.
  std::vector<int32_t> ids_;
  std::vector<Entry> entries_;
  std::unordered_map<int32_t, uint32_t> slot_;
  Entry& entry(int32_t id);
};

// Use:
//   Sampler s(params);           // seeds the PRNG with params.seed
//   s.add_prompt(prompt_ids);    // only needed for repetition_penalty
//   loop { int32_t id = s.sample(logits); s.accept(id); ... }
// sample() does not record the token: call accept() for every token that goes into the
// sequence (also tokens the engine forces). reset() forgets the history and reseeds.
class Sampler {
 public:
  explicit Sampler(const SamplingParams& params = {});

  const SamplingParams& params() const { return params_; }
  void reset();                   // clears the history, reseeds with params().seed
  void reseed(uint64_t seed) { rng_.reseed(seed); }
  void add_prompt(std::span<const int32_t> ids) { history_.add_prompt(ids); }
  void accept(int32_t id) { history_.add_generated(id); }
  const TokenHistory& history() const { return history_; }
  // The next uniform of the PRNG, as a float in [0, 1) (device sampling draws with these, one per
  // token, in the same stream as sample()).
  float next_uniform() { return std::min(float(rng_.uniform()), 0x1.fffffep-1f); }

  // Picks the next token from `logits` ([vocab]), which are modified in place (penalties;
  // NaN -> -inf). Uses the history recorded through add_prompt/accept.
  int32_t sample(std::span<float> logits);
  // Same, with the history given explicitly (O(history) to count; the recorded history is
  // neither used nor changed). The PRNG advances as in sample().
  int32_t sample(std::span<float> logits, std::span<const int32_t> prompt_ids,
                 std::span<const int32_t> generated_ids);

 private:
  int32_t sample_with(std::span<float> logits, const TokenHistory& h);
  int32_t pick(std::span<float> logits);
  // Fills idx_/w_ with the top-k tokens (best first) and their weights; returns their mass.
  double select_top_k(std::span<const float> l, size_t k, float m, float inv_t);
  // Fills idx_/w_ with the top-p nucleus of the whole vocabulary; returns how many tokens.
  size_t select_nucleus(std::span<const float> l, float m, float inv_t);
  int32_t draw(size_t kept);

  SamplingParams params_;
  Xoshiro256 rng_;
  TokenHistory history_;
  // Scratch reused across calls (vocab-sized at most).
  std::vector<int32_t> idx_;     // candidate token ids (empty: the whole vocabulary in id order)
  std::vector<float> w_;         // their weights exp((logit - max) / T)
  std::vector<uint16_t> bucket_; // top-p: each token's bucket of (logit - max) / T
  std::vector<double> bucket_mass_;
  std::vector<int32_t> boundary_;
  std::vector<float> gathered_;
  std::vector<double> block_mass_;
};

}  // namespace hearth
