// The small trained model: greedy ids of its reference prompts, fp32 perplexity equal to the
// reference, and the quantized formats' perplexity within the bounds we promise.
#include <cmath>
#include <cstring>
#include <map>

#include "engine/engine.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

struct Windows {
  std::vector<int32_t> ids;
  int64_t n = 0, len = 0;
};

Windows eval_windows() {
  auto f = SafetensorsFile::open(fixture("pycoder-6m/eval_windows.safetensors"));
  EXPECT_TRUE(f.ok()) << f.message();
  const TensorInfo& t = f->tensors().at(0);
  EXPECT_EQ(t.dtype, DType::I32);
  Windows w;
  w.n = t.shape[0];
  w.len = t.shape[1];
  w.ids.resize(size_t(w.n * w.len));
  std::memcpy(w.ids.data(), t.data, w.ids.size() * 4);
  return w;
}

double reference_ppl() {
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  EXPECT_TRUE(ref.ok());
  return ref->find("eval_ppl_fp32")->as_double();
}

double ppl_for(ModelDType dt) {
  static std::map<ModelDType, double> cache;
  auto it = cache.find(dt);
  if (it != cache.end()) return it->second;
  Windows w = eval_windows();
  LoadOptions opt;
  opt.dtype = dt;
  opt.max_ctx = w.len;
  opt.max_prefill_t = w.len;
  auto m = Model::load(fixture("pycoder-6m"), opt);
  EXPECT_TRUE(m.ok()) << m.message();
  auto r = evaluate_perplexity(**m, w.ids, w.n, w.len);
  EXPECT_TRUE(r.ok()) << r.message();
  std::printf("[ perplexity ] %s: %.4f\n", model_dtype_name(dt), r->ppl);
  return cache[dt] = r->ppl;
}

// Greedy generation on the reference prompts at `dt`; returns how many of the 4 match exactly.
int reference_greedy_matches(ModelDType dt) {
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  EXPECT_TRUE(ref.ok());
  LoadOptions opt;
  opt.dtype = dt;
  auto e = Engine::load(fixture("pycoder-6m"), opt);
  EXPECT_TRUE(e.ok()) << e.message();
  const Json* greedy = ref->find("greedy");
  EXPECT_EQ(greedy->size(), 4u);
  int same = 0;
  for (const auto& g : greedy->as_array()) {
    GenerateRequest req;
    req.prompt = test::ids_of(*g.find("prompt_ids"));
    std::vector<int32_t> want = test::ids_of(*g.find("greedy"));
    req.max_new_tokens = int64_t(want.size());
    req.sampling.temperature = 0;
    auto r = (*e)->generate(req);
    EXPECT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->ids, want) << model_dtype_name(dt) << ", prompt: " << g.find("prompt")->as_string();
    same += r->ids == want;
  }
  return same;
}

TEST(Pycoder, GreedyMatchesReference) { EXPECT_EQ(reference_greedy_matches(ModelDType::F32), 4); }

TEST(Pycoder, Fp32PerplexityMatchesReference) {
  EXPECT_NEAR(ppl_for(ModelDType::F32), reference_ppl(), 1e-3);
}

TEST(Pycoder, Int8PerplexityWithinHalfPercent) {
  EXPECT_LE(ppl_for(ModelDType::Int8), ppl_for(ModelDType::F32) * 1.005);
}

TEST(Pycoder, Int4PerplexityWithinBound) {
  const double f32 = ppl_for(ModelDType::F32), q4 = ppl_for(ModelDType::Int4);
  std::printf("[ perplexity ] int4 / f32 = %.4f\n", q4 / f32);
  EXPECT_LE(q4, f32 * 1.045);
}

TEST(Pycoder, Int8GreedyTextMatchesFp32) { EXPECT_EQ(reference_greedy_matches(ModelDType::Int8), 4); }

}  // namespace
}  // namespace hearth
