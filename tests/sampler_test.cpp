// Sampler tests: PRNG reference values, greedy/argmax, seeding, the empirical distribution
// against softmax, top-k / top-p / min-p supports, penalties and temperature.
#include "engine/sampler.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <vector>

namespace hearth {
namespace {

std::vector<float> softmax(const std::vector<float>& l, double t = 1.0) {
  double m = *std::max_element(l.begin(), l.end());
  std::vector<double> e(l.size());
  double s = 0;
  for (size_t i = 0; i < l.size(); ++i) s += (e[i] = std::exp((l[i] - m) / t));
  std::vector<float> p(l.size());
  for (size_t i = 0; i < l.size(); ++i) p[i] = float(e[i] / s);
  return p;
}

// Draws `n` samples (logits copied each time, as the sampler may modify them).
std::vector<int> histogram(Sampler& s, const std::vector<float>& logits, int n) {
  std::vector<int> h(logits.size(), 0);
  for (int i = 0; i < n; ++i) {
    std::vector<float> l = logits;
    int32_t id = s.sample(l);
    EXPECT_GE(id, 0);
    EXPECT_LT(id, int32_t(logits.size()));
    h[size_t(id)]++;
  }
  return h;
}

// Pearson chi-square of counts against expected probabilities (entries with p == 0 must have
// no counts at all).
double chi_square(const std::vector<int>& h, const std::vector<double>& p, int n) {
  double chi = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(h[i], 0) << "token " << i << " is outside the support";
      continue;
    }
    double e = p[i] * n;
    chi += (h[i] - e) * (h[i] - e) / e;
  }
  return chi;
}

std::vector<float> log_probs(const std::vector<double>& p) {
  std::vector<float> l;
  for (double x : p) l.push_back(float(std::log(x)));
  return l;
}

std::vector<float> pseudo_random_logits(size_t n, uint64_t seed) {
  Xoshiro256 r(seed);
  std::vector<float> l(n);
  for (auto& x : l) x = float(r.uniform() * 10.0 - 5.0);
  return l;
}

TEST(Prng, SplitMix64ReferenceValues) {
  // First outputs of splitmix64 seeded with 0 (the published reference sequence).
  uint64_t s = 0;
  EXPECT_EQ(splitmix64_next(s), 0xe220a8397b1dcdafull);
  EXPECT_EQ(splitmix64_next(s), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(splitmix64_next(s), 0x06c45d188009454full);
  EXPECT_EQ(splitmix64_next(s), 0xf88bb8a8724c81ecull);
}

TEST(Prng, Xoshiro256StarStarReferenceValues) {
  // From an independent Python transcription of xoshiro256** seeded by splitmix64.
  Xoshiro256 a(0);
  EXPECT_EQ(a.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(a.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(a.next(), 0x1a5f849d4933e6e0ull);
  Xoshiro256 b(42);
  EXPECT_EQ(b.next(), 0x15780b2e0c2ec716ull);
  EXPECT_EQ(b.next(), 0x6104d9866d113a7eull);
  EXPECT_EQ(b.next(), 0xae17533239e499a1ull);
  Xoshiro256 c(7);
  for (int i = 0; i < 1000; ++i) {
    double u = c.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(Argmax, TiesAndNaN) {
  EXPECT_EQ(argmax(std::vector<float>{}), -1);
  EXPECT_EQ(argmax(std::vector<float>{1, 3, 2}), 1);
  EXPECT_EQ(argmax(std::vector<float>{5, 1, 5}), 0);
  EXPECT_EQ(argmax(std::vector<float>{NAN, 1, NAN, 2}), 3);
  EXPECT_EQ(argmax(std::vector<float>{-INFINITY, -INFINITY}), 0);
}

TEST(Sampler, GreedyIsArgmax) {
  SamplingParams p;
  p.temperature = 0;
  Sampler s(p);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto l = pseudo_random_logits(1000, seed);
    int32_t want = argmax(l);
    EXPECT_EQ(s.sample(l), want);
  }
  std::vector<float> tie = {0.5f, 2.0f, 1.0f, 2.0f};
  EXPECT_EQ(s.sample(tie), 1);
}

TEST(Sampler, TopK1IsGreedy) {
  SamplingParams p;
  p.top_k = 1;
  p.seed = 3;
  Sampler s(p);
  for (uint64_t seed = 0; seed < 50; ++seed) {
    auto l = pseudo_random_logits(500, seed + 100);
    int32_t want = argmax(l);
    EXPECT_EQ(s.sample(l), want);
  }
}

TEST(Sampler, SameSeedSameSequenceDifferentSeedsDiffer) {
  auto logits = pseudo_random_logits(64, 9);
  for (auto& x : logits) x *= 0.3f;  // flat enough that many tokens are likely
  auto run = [&](uint64_t seed) {
    SamplingParams p;
    p.seed = seed;
    Sampler s(p);
    std::vector<int32_t> out;
    for (int i = 0; i < 200; ++i) {
      auto l = logits;
      out.push_back(s.sample(l));
    }
    return out;
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
  // reset() reseeds: the sequence starts over.
  SamplingParams p;
  p.seed = 1;
  Sampler s(p);
  auto first = run(1);
  for (int i = 0; i < 10; ++i) {
    auto l = logits;
    s.sample(l);
  }
  s.reset();
  for (int i = 0; i < 200; ++i) {
    auto l = logits;
    ASSERT_EQ(s.sample(l), first[size_t(i)]);
  }
}

TEST(Sampler, CrossPlatformGoldenSequence) {
  // Recorded once natively; the wasm build must produce the same tokens (the PRNG and the
  // software exp are platform-independent). One case per selection path.
  std::vector<float> logits(97);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = float(i % 7) * 0.5f - float(i % 3);
  auto run = [&](SamplingParams p) {
    Sampler s(p);
    std::vector<int32_t> got;
    for (int i = 0; i < 12; ++i) {
      auto l = logits;
      got.push_back(s.sample(l));
    }
    return got;
  };
  SamplingParams nucleus;
  nucleus.seed = 1234;
  nucleus.temperature = 0.8f;
  nucleus.top_p = 0.9f;
  SamplingParams plain;
  plain.seed = 99;
  plain.temperature = 1.3f;
  SamplingParams topk;
  topk.seed = 7;
  topk.temperature = 0.7f;
  topk.top_k = 10;
  topk.min_p = 0.05f;
  const std::vector<int32_t> g1 = {6, 90, 75, 90, 12, 96, 48, 24, 61, 69, 54, 27};
  const std::vector<int32_t> g2 = {33, 54, 36, 83, 76, 19, 27, 6, 82, 55, 72, 18};
  const std::vector<int32_t> g3 = {12, 48, 54, 96, 96, 75, 6, 6, 69, 27, 90, 12};
  EXPECT_EQ(run(nucleus), g1);
  EXPECT_EQ(run(plain), g2);
  EXPECT_EQ(run(topk), g3);
}

TEST(Sampler, DistributionMatchesSoftmax) {
  const std::vector<float> logits = {1.0f, 2.0f, 0.5f, -1.0f, 3.0f, 0.0f};
  const int n = 20000;
  // Critical chi-square value for 5 degrees of freedom at p = 0.001 is 20.5.
  for (float t : {1.0f, 0.7f, 1.5f}) {
    SamplingParams p;
    p.temperature = t;
    p.seed = 11;
    Sampler s(p);
    auto h = histogram(s, logits, n);
    auto sm = softmax(logits, t);
    std::vector<double> pd(sm.begin(), sm.end());
    EXPECT_LT(chi_square(h, pd, n), 20.5) << "temperature " << t;
  }
}

TEST(Sampler, TopKRestrictsSupport) {
  for (int k : {5, 300}) {  // heap path and nth_element path
    auto logits = pseudo_random_logits(1000, 77);
    std::vector<int32_t> order(logits.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = int32_t(i);
    std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
    std::set<int32_t> top(order.begin(), order.begin() + k);
    SamplingParams p;
    p.top_k = k;
    p.seed = 5;
    Sampler s(p);
    auto h = histogram(s, logits, 20000);
    for (size_t i = 0; i < h.size(); ++i) {
      if (!top.count(int32_t(i))) {
        EXPECT_EQ(h[i], 0) << "k=" << k << " token " << i;
      }
    }
    if (k == 5) {
      // Renormalized softmax over the 5 kept tokens.
      std::vector<double> pd(logits.size(), 0.0);
      double z = 0;
      for (int32_t id : top) z += std::exp(double(logits[size_t(id)]));
      for (int32_t id : top) pd[size_t(id)] = std::exp(double(logits[size_t(id)])) / z;
      EXPECT_LT(chi_square(h, pd, 20000), 18.5);  // 4 dof, p = 0.001
    }
  }
}

TEST(Sampler, TopPKeepsTheNucleus) {
  const std::vector<float> logits = log_probs({0.5, 0.3, 0.15, 0.05});
  struct Case {
    float top_p;
    std::vector<double> expect;  // renormalized probabilities of the nucleus
  };
  const std::vector<Case> cases = {
      {0.4f, {1, 0, 0, 0}},                          // the top token alone reaches 0.4
      {0.75f, {0.5 / 0.8, 0.3 / 0.8, 0, 0}},         // 0.5 < 0.75 <= 0.8
      {0.85f, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}},
      {0.99f, {0.5, 0.3, 0.15, 0.05}},
  };
  for (const auto& c : cases) {
    SamplingParams p;
    p.top_p = c.top_p;
    p.seed = 8;
    Sampler s(p);
    auto h = histogram(s, logits, 20000);
    EXPECT_LT(chi_square(h, c.expect, 20000), 16.3) << "top_p " << c.top_p;  // 3 dof
  }
}

TEST(Sampler, TopPLargeVocabularyNeedsMoreThanOneChunk) {
  // 200 equally likely tokens scattered over 5000, the rest nearly impossible. top_p = 0.9875
  // needs 198 of the 200 (ties go to the lower ids), more than the first sorted chunk.
  std::vector<float> logits(5000, -20.0f);
  std::vector<int32_t> heavy;
  for (int i = 0; i < 200; ++i) heavy.push_back(int32_t((i * 37 + 11) % 5000));
  std::sort(heavy.begin(), heavy.end());
  for (int32_t id : heavy) logits[size_t(id)] = 0.0f;
  std::set<int32_t> nucleus(heavy.begin(), heavy.begin() + 198);
  SamplingParams p;
  p.top_p = 0.9875f;
  p.seed = 21;
  Sampler s(p);
  auto h = histogram(s, logits, 20000);
  int distinct = 0;
  for (size_t i = 0; i < h.size(); ++i) {
    if (h[i] > 0) distinct++;
    if (!nucleus.count(int32_t(i))) {
      EXPECT_EQ(h[i], 0) << "token " << i;
    }
  }
  EXPECT_EQ(distinct, 198);
  // With top_k in front, the nucleus is taken within the top-k set.
  p.top_k = 100;
  Sampler s2(p);
  auto h2 = histogram(s2, logits, 5000);
  for (size_t i = 0; i < h2.size(); ++i) {
    bool in_first_99 = std::find(heavy.begin(), heavy.begin() + 99, int32_t(i)) != heavy.begin() + 99;
    if (!in_first_99) {
      EXPECT_EQ(h2[i], 0) << "token " << i;  // 0.9875 of 100 equal -> 99
    }
  }
}

TEST(Sampler, MinP) {
  const std::vector<float> logits = log_probs({0.5, 0.3, 0.15, 0.05});
  SamplingParams p;
  p.min_p = 0.25f;  // threshold 0.125: keeps 0.5, 0.3, 0.15
  p.seed = 4;
  Sampler s(p);
  auto h = histogram(s, logits, 20000);
  EXPECT_LT(chi_square(h, {0.5 / 0.95, 0.3 / 0.95, 0.15 / 0.95, 0}, 20000), 16.3);
  p.min_p = 0.5f;  // threshold 0.25: keeps 0.5, 0.3
  Sampler s2(p);
  h = histogram(s2, logits, 20000);
  EXPECT_LT(chi_square(h, {0.5 / 0.8, 0.3 / 0.8, 0, 0}, 20000), 16.3);
  // Combined with top_p over a large vocabulary (the filtered walk).
  p.top_p = 0.97f;
  p.min_p = 0.5f;
  Sampler s3(p);
  h = histogram(s3, logits, 5000);
  EXPECT_EQ(h[2] + h[3], 0);
}

TEST(Sampler, RepetitionPenaltyDividesPositiveMultipliesNegative) {
  SamplingParams p;
  p.temperature = 0;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  const std::vector<int32_t> prompt = {0, 1, 1, 0};
  s.add_prompt(prompt);
  s.accept(3);
  std::vector<float> l = {2.0f, -2.0f, 1.5f, 0.5f, 1.2f};
  // Penalized: 2 -> 1, -2 -> -4, 0.5 -> 0.25; untouched: 1.5, 1.2. Greedy picks token 2.
  EXPECT_EQ(s.sample(l), 2);
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  EXPECT_FLOAT_EQ(l[1], -4.0f);
  EXPECT_FLOAT_EQ(l[2], 1.5f);
  EXPECT_FLOAT_EQ(l[3], 0.25f);
  EXPECT_FLOAT_EQ(l[4], 1.2f);
  // Without the penalty token 0 wins.
  std::vector<float> l2 = {2.0f, -2.0f, 1.5f, 0.5f, 1.2f};
  SamplingParams q;
  q.temperature = 0;
  EXPECT_EQ(Sampler(q).sample(l2, prompt, {}), 0);
}

TEST(Sampler, PresenceAndFrequencyPenalties) {
  SamplingParams p;
  p.temperature = 0;
  p.presence_penalty = 0.5f;
  p.frequency_penalty = 0.25f;
  Sampler s(p);
  const std::vector<int32_t> prompt = {0};
  s.add_prompt(prompt);  // prompt tokens do not count for these penalties
  s.accept(2);
  s.accept(2);
  s.accept(3);
  std::vector<float> l = {1.0f, 1.0f, 1.0f, 1.0f, 0.9f};
  EXPECT_EQ(s.sample(l), 0);
  EXPECT_FLOAT_EQ(l[0], 1.0f);
  EXPECT_FLOAT_EQ(l[1], 1.0f);
  EXPECT_FLOAT_EQ(l[2], 0.0f);   // 1 - 0.5 - 2 * 0.25
  EXPECT_FLOAT_EQ(l[3], 0.25f);  // 1 - 0.5 - 1 * 0.25
  EXPECT_FLOAT_EQ(l[4], 0.9f);
  // The explicit-history overload gives the same numbers.
  std::vector<float> l2 = {1.0f, 1.0f, 1.0f, 1.0f, 0.9f};
  const std::vector<int32_t> gen = {2, 3, 2};
  Sampler(p).sample(l2, prompt, gen);
  EXPECT_EQ(l, l2);
}

TEST(Sampler, IncrementalHistoryEqualsExplicitHistory) {
  SamplingParams p;
  p.seed = 99;
  p.repetition_penalty = 1.3f;
  p.frequency_penalty = 0.2f;
  p.presence_penalty = 0.1f;
  p.top_k = 20;
  p.top_p = 0.95f;
  Sampler a(p), b(p);
  const std::vector<int32_t> prompt = {1, 5, 9};
  a.add_prompt(prompt);
  std::vector<int32_t> gen;
  for (int step = 0; step < 100; ++step) {
    auto l = pseudo_random_logits(50, uint64_t(step % 5));
    auto l2 = l;
    int32_t x = a.sample(l);
    int32_t y = b.sample(l2, prompt, gen);
    ASSERT_EQ(x, y) << "step " << step;
    a.accept(x);
    gen.push_back(x);
  }
}

TEST(Sampler, SmallTemperatureIsNearGreedy) {
  SamplingParams p;
  p.temperature = 0.01f;
  p.seed = 6;
  Sampler s(p);
  auto logits = pseudo_random_logits(300, 12);
  int32_t want = argmax(logits);
  // Make sure the runner-up is at least 0.5 below.
  for (size_t i = 0; i < logits.size(); ++i)
    if (int32_t(i) != want) logits[i] = std::min(logits[i], logits[size_t(want)] - 0.5f);
  for (int i = 0; i < 500; ++i) {
    auto l = logits;
    ASSERT_EQ(s.sample(l), want);
  }
}

TEST(Sampler, DegenerateLogits) {
  SamplingParams p;
  p.seed = 1;
  Sampler s(p);
  std::vector<float> all_neg_inf(10, -INFINITY);
  EXPECT_EQ(s.sample(all_neg_inf), 0);
  std::vector<float> with_nan = {NAN, 0.0f, -INFINITY, NAN};
  EXPECT_EQ(s.sample(with_nan), 1);  // the only token with mass
  std::vector<float> empty;
  EXPECT_EQ(s.sample(empty), -1);
}

TEST(SamplingParams, Validate) {
  EXPECT_TRUE(validate_sampling_params({}).ok());
  SamplingParams p;
  p.top_p = 0;
  auto st = validate_sampling_params(p);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("top_p"), std::string::npos);
  p = {};
  p.temperature = -1;
  EXPECT_FALSE(validate_sampling_params(p).ok());
  p = {};
  p.repetition_penalty = 0;
  EXPECT_FALSE(validate_sampling_params(p).ok());
  p = {};
  p.min_p = 1.5f;
  EXPECT_FALSE(validate_sampling_params(p).ok());
}

}  // namespace
}  // namespace hearth
