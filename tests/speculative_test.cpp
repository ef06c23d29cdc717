// Speculative decoding: prompt-lookup drafts, greedy output equal to the reference greedy ids
// (prompt lookup and a draft model), the acceptance rule's output distribution, and sampled
// speculative output that is reproducible per seed and equals greedy at top_k 1.
#include <cmath>

#include "engine/engine.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;
using test::ids_of;

TEST(PromptLookup, LongestSuffixNgramLatestOccurrence) {
  const std::vector<int32_t> h = {1, 2, 3, 9, 1, 2, 3, 7, 8, 5, 2, 3};
  // Suffix {2, 3} (longest with an earlier occurrence: {5, 2, 3} has none): latest earlier hit
  // at index 5, followed by 7, 8, 5.
  EXPECT_EQ(prompt_lookup_draft(h, 3, 1, 3), (std::vector<int32_t>{7, 8, 5}));
  EXPECT_EQ(prompt_lookup_draft(h, 10, 1, 3), (std::vector<int32_t>{7, 8, 5, 2, 3}));
  EXPECT_TRUE(prompt_lookup_draft(h, 3, 3, 3).empty());
  EXPECT_TRUE(prompt_lookup_draft(std::vector<int32_t>{4}, 3, 1, 3).empty());
  EXPECT_EQ(prompt_lookup_draft(std::vector<int32_t>{4, 4}, 3, 1, 3), (std::vector<int32_t>{4}));
}

TEST(Acceptance, OutputIsDistributedAsTheTarget) {
  const std::vector<float> p = {0.5f, 0.3f, 0.15f, 0.05f, 0.0f};
  SamplingParams sp;
  sp.seed = 9;
  Sampler s(sp);
  for (int32_t draft : {1, 3, 4}) {
    std::vector<int> count(p.size(), 0);
    const int n = 40000;
    for (int i = 0; i < n; ++i) {
      std::vector<float> probs = p;
      ++count[size_t(accept_or_resample(probs, draft, s))];
    }
    for (size_t t = 0; t < p.size(); ++t) {
      const double f = double(count[t]) / n, sd = std::sqrt(p[t] * (1 - p[t]) / n);
      EXPECT_NEAR(f, p[t], 5 * sd + 1e-9) << "draft " << draft << " token " << t;
    }
  }
}

std::unique_ptr<Engine> load(ModelDType dtype = ModelDType::F32) {
  LoadOptions opt;
  opt.max_ctx = 512;
  opt.dtype = dtype;
  auto e = Engine::load(fixture("pycoder-6m"), opt);
  EXPECT_TRUE(e.ok()) << e.message();
  return std::move(*e);
}

TEST(Speculative, GreedyEqualsTheReference) {
  auto target = load();
  auto draft = load(ModelDType::Int8);
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  ASSERT_TRUE(ref.ok());
  int64_t drafted = 0, accepted = 0;
  for (const Json& g : ref->find("greedy")->as_array()) {
    const std::vector<int32_t> prompt = ids_of(*g.find("prompt_ids")), want = ids_of(*g.find("greedy"));
    for (auto kind : {SpeculativeOptions::Draft::PromptLookup, SpeculativeOptions::Draft::Model}) {
      GenerateRequest r;
      r.prompt = prompt;
      r.max_new_tokens = int64_t(want.size());
      r.sampling.temperature = 0;
      r.stop_ids = {-1};
      r.speculative.draft = kind;
      r.speculative.k = 5;
      r.speculative.draft_engine = draft.get();
      r.reuse_prefix = false;
      auto out = target->generate(r);
      ASSERT_TRUE(out.ok()) << out.message();
      EXPECT_EQ(out->ids, want) << (kind == SpeculativeOptions::Draft::Model ? "draft model" : "prompt lookup");
      EXPECT_EQ(target->model().n_past(), int64_t(prompt.size() + want.size()) - 1);
      drafted += out->drafted;
      accepted += out->accepted;
      if (kind == SpeculativeOptions::Draft::Model) EXPECT_GT(out->accepted, int64_t(want.size()) / 2);
    }
  }
  EXPECT_GT(drafted, 0);
  EXPECT_GT(accepted, 0);
  // The cache is right afterwards: a plain continuation equals the reference.
  const Json& g0 = ref->find("greedy")->as_array()[0];
  GenerateRequest r;
  r.prompt = ids_of(*g0.find("prompt_ids"));
  const std::vector<int32_t> want = ids_of(*g0.find("greedy"));
  r.prompt.insert(r.prompt.end(), want.begin(), want.begin() + 30);
  r.max_new_tokens = 20;
  r.sampling.temperature = 0;
  r.stop_ids = {-1};
  auto out = target->generate(r);
  ASSERT_TRUE(out.ok());
  EXPECT_EQ(out->ids, std::vector<int32_t>(want.begin() + 30, want.begin() + 50));
}

TEST(Speculative, SampledIsReproducibleAndTopK1IsGreedy) {
  auto e = load();
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  const Json& g = ref->find("greedy")->as_array()[1];
  GenerateRequest r;
  r.prompt = ids_of(*g.find("prompt_ids"));
  r.max_new_tokens = 48;
  r.sampling.temperature = 0.8f;
  r.sampling.top_p = 0.9f;
  r.sampling.seed = 5;
  r.stop_ids = {-1};
  r.speculative.draft = SpeculativeOptions::Draft::PromptLookup;
  auto a = e->generate(r);
  auto b = e->generate(r);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->ids, b->ids);
  EXPECT_EQ(int64_t(a->ids.size()), 48);
  r.sampling.top_k = 1;
  r.max_new_tokens = 64;
  auto k1 = e->generate(r);
  ASSERT_TRUE(k1.ok());
  EXPECT_EQ(k1->ids, ids_of(*g.find("greedy")));
}

TEST(Speculative, BadOptionsAreNamed) {
  auto e = load();
  GenerateRequest r;
  r.prompt = {1, 2};
  r.speculative.draft = SpeculativeOptions::Draft::Model;
  auto x = e->generate(r);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.message().find("draft model"), std::string::npos) << x.message();
  r.speculative.draft = SpeculativeOptions::Draft::PromptLookup;
  r.speculative.k = 0;
  x = e->generate(r);
  ASSERT_FALSE(x.ok());
  EXPECT_NE(x.message().find("k must be"), std::string::npos) << x.message();
}

}  // namespace
}  // namespace hearth
