// Token sampling (see sampler.h for the exact semantics). Weights use a software exp with
// floating-point contraction disabled, so results are bit-identical natively and in wasm.
#include "engine/sampler.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

namespace hearth {

namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// exp(z) for z <= 0 in float arithmetic only (branch-free, so loops over it vectorize):
// z = k ln2 + r, |r| <= ln2/2, exp(r) by its degree-6 Taylor polynomial (relative error
// ~1.2e-7), times 2^k built from the exponent bits. z <= -87 (and -inf) gives 0; exp(0) == 1.
inline float exp_weight(float z) {
  const float kLog2e = 1.44269504f;
  const float kMagic = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  const float kLn2Hi = 0.693145751953125f;  // few mantissa bits: k * kLn2Hi is exact
  const float kLn2Lo = 1.428606765330187e-06f;
  const bool live = z > -87.0f;
  float x = live ? z : -87.0f;
  float kf = x * kLog2e + kMagic;
  int32_t kbits, mbits;
  std::memcpy(&kbits, &kf, 4);
  std::memcpy(&mbits, &kMagic, 4);
  const int32_t k = kbits - mbits;  // round(x * log2e), in [-126, 0]
  kf = kf - kMagic;
  float r = x - kf * kLn2Hi;
  r = r - kf * kLn2Lo;
  float p = 1.0f / 720.0f;
  p = p * r + 1.0f / 120.0f;
  p = p * r + 1.0f / 24.0f;
  p = p * r + 1.0f / 6.0f;
  p = p * r + 0.5f;
  p = p * r + 1.0f;
  p = p * r + 1.0f;
  const int32_t sbits = (k + 127) << 23;
  float scale;
  std::memcpy(&scale, &sbits, 4);
  return live ? p * scale : 0.0f;
}

bool finite_positive(float v) { return std::isfinite(v) && v > 0.0f; }

// Max of n values ignoring NaNs, in 8 independent lanes (vectorizes).
inline float block_max(const float* v, size_t n) {
  float lane[8];
  for (float& x : lane) x = kNegInf;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (size_t j = 0; j < 8; ++j) {
      const float x = v[i + j];
      lane[j] = lane[j] < x ? x : lane[j];
    }
  }
  for (; i < n; ++i) lane[0] = lane[0] < v[i] ? v[i] : lane[0];
  float m = lane[0];
  for (size_t j = 1; j < 8; ++j) m = m < lane[j] ? lane[j] : m;
  return m;
}

// Sum of w in a fixed order (8 lanes, then the lanes in order): deterministic everywhere.
double sum_fixed_order(const float* w, size_t n) {
  double lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; ++j) lane[j] += double(w[i + size_t(j)]);
  for (; i < n; ++i) lane[0] += double(w[i]);
  double s = 0;
  for (double x : lane) s += x;
  return s;
}

}  // namespace

Status validate_sampling_params(const SamplingParams& p) {
  if (!std::isfinite(p.temperature) || p.temperature < 0.0f)
    return err("sampling: temperature must be >= 0 (0 = greedy), got ", p.temperature);
  if (p.top_k < 0) return err("sampling: top_k must be >= 0 (0 = off), got ", p.top_k);
  if (!finite_positive(p.top_p) || p.top_p > 1.0f)
    return err("sampling: top_p must be in (0, 1] (1 = off), got ", p.top_p);
  if (!std::isfinite(p.min_p) || p.min_p < 0.0f || p.min_p > 1.0f)
    return err("sampling: min_p must be in [0, 1] (0 = off), got ", p.min_p);
  if (!finite_positive(p.repetition_penalty))
    return err("sampling: repetition_penalty must be > 0 (1 = off), got ", p.repetition_penalty);
  if (!std::isfinite(p.presence_penalty))
    return err("sampling: presence_penalty must be finite, got ", p.presence_penalty);
  if (!std::isfinite(p.frequency_penalty))
    return err("sampling: frequency_penalty must be finite, got ", p.frequency_penalty);
  return {};
}

int32_t argmax(std::span<const float> values) {
  // Block maxima (vectorized), then the first hit inside the first block holding the maximum.
  constexpr size_t kBlock = 1024;
  const size_t n = values.size();
  if (n == 0) return -1;
  float best = kNegInf;
  size_t best_block = 0;
  for (size_t b = 0; b < n; b += kBlock) {
    const float m = block_max(values.data() + b, std::min(kBlock, n - b));
    if (m > best) {
      best = m;
      best_block = b;
    }
  }
  for (size_t i = best_block; i < std::min(n, best_block + kBlock); ++i)
    if (values[i] == best) return int32_t(i);
  return 0;  // only NaNs and -inf
}

uint64_t splitmix64_next(uint64_t& state) {
  state += 0x9e3779b97f4a7c15ull;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

void Xoshiro256::reseed(uint64_t seed) {
  uint64_t sm = seed;
  for (auto& s : s_) s = splitmix64_next(sm);
}

uint64_t Xoshiro256::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Xoshiro256::uniform() { return double(next() >> 11) * 0x1.0p-53; }

void TokenHistory::clear() {
  ids_.clear();
  entries_.clear();
  slot_.clear();
}

TokenHistory::Entry& TokenHistory::entry(int32_t id) {
  auto [it, inserted] = slot_.try_emplace(id, uint32_t(ids_.size()));
  if (inserted) {
    ids_.push_back(id);
    entries_.emplace_back();
  }
  return entries_[it->second];
}

void TokenHistory::add_prompt(std::span<const int32_t> ids) {
  for (int32_t id : ids) entry(id).in_prompt = true;
}

void TokenHistory::add_generated(int32_t id) { entry(id).generated++; }

void TokenHistory::apply_penalties(std::span<float> logits, const SamplingParams& p) const {
  const bool rep = p.repetition_penalty != 1.0f;
  const bool add = p.presence_penalty != 0.0f || p.frequency_penalty != 0.0f;
  if (!rep && !add) return;
  const int64_t n = int64_t(logits.size());
  for (size_t s = 0; s < ids_.size(); ++s) {
    const int32_t id = ids_[s];
    const Entry& e = entries_[s];
    if (id < 0 || id >= n) continue;
    float& l = logits[size_t(id)];
    if (rep) l = l > 0.0f ? l / p.repetition_penalty : l * p.repetition_penalty;
    if (add && e.generated > 0)
      l -= p.presence_penalty + p.frequency_penalty * float(e.generated);
  }
}

Sampler::Sampler(const SamplingParams& params) : params_(params), rng_(params.seed) {}

void Sampler::reset() {
  history_.clear();
  rng_.reseed(params_.seed);
}

int32_t Sampler::sample(std::span<float> logits) { return sample_with(logits, history_); }

int32_t Sampler::sample(std::span<float> logits, std::span<const int32_t> prompt_ids,
                        std::span<const int32_t> generated_ids) {
  TokenHistory h;
  if (params_.repetition_penalty != 1.0f) h.add_prompt(prompt_ids);
  for (int32_t id : generated_ids) h.add_generated(id);
  return sample_with(logits, h);
}

int32_t Sampler::sample_with(std::span<float> logits, const TokenHistory& h) {
  if (logits.empty()) return -1;
  h.apply_penalties(logits, params_);
  return pick(logits);
}

int32_t Sampler::pick(std::span<float> l) {
  const size_t n = l.size();
  const int32_t best = argmax(l);
  const float m = l[size_t(best)];
  const SamplingParams& p = params_;
  if (!(p.temperature > 0.0f) || p.top_k == 1 || !std::isfinite(m) || n == 1) return best;
  for (float& x : l) x = x != x ? kNegInf : x;  // NaN -> -inf: keeps the orderings below strict

  const int32_t id = draw(select(l, m));
  return id < 0 ? best : id;
}

size_t Sampler::select(std::span<float> l, float m) {
  const size_t n = l.size();
  const SamplingParams& p = params_;
  const float inv_t = 1.0f / p.temperature;
  size_t kept = 0;  // candidates: idx_[0, kept) (or ids 0..kept-1 when idx_ is empty), weights w_
  if (p.top_k > 0 && size_t(p.top_k) < n) {
    const double total = select_top_k(l, size_t(p.top_k), m, inv_t);
    kept = idx_.size();
    if (p.top_p < 1.0f) {
      const double target = double(p.top_p) * total;
      double before = 0;
      size_t c = 0;
      while (c < kept && !(c > 0 && before >= target)) before += double(w_[c++]);
      kept = c;
    }
  } else if (p.top_p < 1.0f) {
    kept = select_nucleus(l, m, inv_t);
  } else {
    idx_.clear();
    w_.resize(n);
    for (size_t i = 0; i < n; ++i) w_[i] = exp_weight((l[i] - m) * inv_t);
    kept = n;
  }
  // min-p: the most likely token has weight exactly 1, so prob / max_prob == weight.
  if (p.min_p > 0.0f) {
    const float min_w = p.min_p;
    for (size_t c = 0; c < kept; ++c) w_[c] = w_[c] < min_w ? 0.0f : w_[c];
  }
  return kept;
}

void Sampler::distribution(std::span<float> logits, std::span<const int32_t> prompt_ids,
                           std::span<const int32_t> generated_ids, std::vector<float>& probs) {
  probs.assign(logits.size(), 0.0f);
  if (logits.empty()) return;
  TokenHistory h;
  if (params_.repetition_penalty != 1.0f) h.add_prompt(prompt_ids);
  for (int32_t id : generated_ids) h.add_generated(id);
  h.apply_penalties(logits, params_);
  const int32_t best = argmax(logits);
  const float m = logits[size_t(best)];
  const SamplingParams& p = params_;
  if (!(p.temperature > 0.0f) || p.top_k == 1 || !std::isfinite(m) || logits.size() == 1) {
    probs[size_t(best)] = 1.0f;
    return;
  }
  for (float& x : logits) x = x != x ? kNegInf : x;
  const size_t kept = select(logits, m);
  double total = 0;
  for (size_t c = 0; c < kept; ++c) total += double(w_[c]);
  if (!(total > 0.0)) {
    probs[size_t(best)] = 1.0f;
    return;
  }
  for (size_t c = 0; c < kept; ++c) probs[size_t(idx_.empty() ? int32_t(c) : idx_[c])] = float(double(w_[c]) / total);
}

int32_t Sampler::draw_from(std::span<const float> weights) {
  double total = 0;
  for (float w : weights) total += double(w);
  if (!(total > 0.0)) return -1;
  const double u = rng_.uniform() * total;
  double acc = 0;
  int32_t last = -1;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (!(weights[i] > 0.0f)) continue;
    acc += double(weights[i]);
    last = int32_t(i);
    if (u < acc) return last;
  }
  return last;
}

double Sampler::select_top_k(std::span<const float> l, size_t k, float m, float inv_t) {
  const size_t n = l.size();
  // Strict order: higher logit first, ties towards the lower id.
  auto better = [&](int32_t a, int32_t b) {
    return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b);
  };
  idx_.resize(k);
  for (size_t i = 0; i < k; ++i) idx_[i] = int32_t(i);
  if (k <= 256) {
    // A heap whose front is the worst of the k best so far. A later id that merely ties the
    // front is not better, so `<=` rejects it.
    // Blocks whose maximum does not beat the front are skipped whole (the common case).
    std::make_heap(idx_.begin(), idx_.end(), better);
    float thr = l[size_t(idx_.front())];
    constexpr size_t kBlock = 64;
    for (size_t b = k; b < n; b += kBlock) {
      const size_t e = std::min(n, b + kBlock);
      if (block_max(l.data() + b, e - b) <= thr) continue;
      for (size_t i = b; i < e; ++i) {
        if (l[i] <= thr) continue;
        std::pop_heap(idx_.begin(), idx_.end(), better);
        idx_.back() = int32_t(i);
        std::push_heap(idx_.begin(), idx_.end(), better);
        thr = l[size_t(idx_.front())];
      }
    }
    std::sort_heap(idx_.begin(), idx_.end(), better);
  } else {
    idx_.resize(n);
    for (size_t i = 0; i < n; ++i) idx_[i] = int32_t(i);
    std::nth_element(idx_.begin(), idx_.begin() + ptrdiff_t(k), idx_.end(), better);
    idx_.resize(k);
    std::sort(idx_.begin(), idx_.end(), better);
  }
  w_.resize(k);
  for (size_t c = 0; c < k; ++c) w_[c] = exp_weight((l[size_t(idx_[c])] - m) * inv_t);
  return sum_fixed_order(w_.data(), k);
}

size_t Sampler::select_nucleus(std::span<const float> l, float m, float inv_t) {
  // Buckets of z = (l - max) / T, 1/32 nat wide over [-32, 0], plus one tail bucket. Bucket
  // order is probability order, so whole buckets above the boundary are kept without sorting.
  // (The tail holds < n * e^-32 of the mass and can only be the boundary when top_p is within
  // float rounding of 1; it is then sorted like any other bucket.)
  constexpr int kPerNat = 32;
  constexpr int kBuckets = 32 * kPerNat + 1;
  const size_t n = l.size();
  w_.resize(n);
  bucket_.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const float z = (l[i] - m) * inv_t;
    w_[i] = exp_weight(z);
    const float fb = -z * float(kPerNat);
    bucket_[i] = uint16_t(fb < float(kBuckets - 1) ? int32_t(fb) : kBuckets - 1);
  }
  // Four interleaved histograms break the store-to-load chains of repeated buckets.
  bucket_mass_.assign(4 * kBuckets, 0.0);
  double* hist = bucket_mass_.data();
  size_t i4 = 0;
  for (; i4 + 4 <= n; i4 += 4)
    for (size_t j = 0; j < 4; ++j) hist[j * kBuckets + bucket_[i4 + j]] += double(w_[i4 + j]);
  for (; i4 < n; ++i4) hist[bucket_[i4]] += double(w_[i4]);
  for (int b = 0; b < kBuckets; ++b)
    for (size_t j = 1; j < 4; ++j) hist[b] += hist[j * kBuckets + size_t(b)];
  double total = 0;
  for (int b = 0; b < kBuckets; ++b) total += hist[b];
  const double target = double(params_.top_p) * total;
  double before = 0;
  int boundary = kBuckets - 1;
  for (int b = 0; b < kBuckets; ++b) {
    if (hist[b] > 0.0 && before + hist[b] >= target) {
      boundary = b;
      break;
    }
    before += hist[b];
  }
  // Kept buckets into idx_, the boundary bucket into boundary_. Buckets only grow as logits
  // fall, so a block whose best token lies past the boundary is skipped whole.
  idx_.clear();
  boundary_.clear();
  constexpr size_t kBlock = 64;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t e = std::min(n, b + kBlock);
    const float fb = -((block_max(l.data() + b, e - b) - m) * inv_t) * float(kPerNat);
    if (!(fb < float(kBuckets - 1)) || int32_t(fb) > boundary) continue;
    for (size_t i = b; i < e; ++i) {
      if (bucket_[i] < boundary) idx_.push_back(int32_t(i));
      else if (bucket_[i] == boundary) boundary_.push_back(int32_t(i));
    }
  }
  // Walk the boundary bucket best-first, sorting it in growing chunks (usually one).
  auto better = [&](int32_t a, int32_t b) {
    return l[size_t(a)] > l[size_t(b)] || (l[size_t(a)] == l[size_t(b)] && a < b);
  };
  const size_t cand = boundary_.size();
  size_t sorted = 0;
  bool done = false;
  while (!done && sorted < cand) {
    const size_t next = std::min(cand, std::max<size_t>(64, sorted * 4));
    auto first = boundary_.begin() + ptrdiff_t(sorted), mid = boundary_.begin() + ptrdiff_t(next);
    if (next < cand) std::nth_element(first, mid, boundary_.end(), better);
    std::sort(first, mid, better);
    for (size_t c = sorted; c < next; ++c) {
      if (!idx_.empty() && before >= target) {
        done = true;
        break;
      }
      before += double(w_[size_t(boundary_[c])]);
      idx_.push_back(boundary_[c]);
    }
    sorted = next;
  }
  gathered_.resize(idx_.size());
  for (size_t c = 0; c < idx_.size(); ++c) gathered_[c] = w_[size_t(idx_[c])];
  w_.swap(gathered_);
  return idx_.size();
}

int32_t Sampler::draw(size_t kept) {
  // Block sums let the walk skip whole blocks; every sum is in a fixed order.
  constexpr size_t kBlock = 1024;
  block_mass_.clear();
  double total = 0;
  for (size_t b = 0; b < kept; b += kBlock) {
    const double s = sum_fixed_order(w_.data() + b, std::min(kBlock, kept - b));
    block_mass_.push_back(s);
    total += s;
  }
  if (!(total > 0.0)) return -1;
  auto token_at = [&](size_t c) { return idx_.empty() ? int32_t(c) : idx_[c]; };
  const double u = rng_.uniform() * total;
  double acc = 0;
  size_t last = kept;  // last token with weight, for u landing on the very end by rounding
  for (size_t b = 0; b < block_mass_.size(); ++b) {
    if (block_mass_[b] == 0.0) continue;
    const size_t lo = b * kBlock, hi = std::min(kept, lo + kBlock);
    if (!(u < acc + block_mass_[b])) {
      acc += block_mass_[b];
      for (size_t c = hi; c-- > lo;)
        if (w_[c] > 0.0f) {
          last = c;
          break;
        }
      continue;
    }
    for (size_t c = lo; c < hi; ++c) {
      if (w_[c] == 0.0f) continue;
      acc += double(w_[c]);
      last = c;
      if (u < acc) return token_at(c);
    }
    break;
  }
  return last < kept ? token_at(last) : -1;
}

}  // namespace hearth
