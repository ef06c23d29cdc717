// KV cache precision: the row formats against their definition, attention over f16 / int8
// caches on the CPU backend equal to the scalar reference, greedy ids of the fixtures with an
// f16 cache equal to the references, and the perplexity cost of an int8 cache on pycoder-6m.
#include <cstring>
#include <random>

#include "engine/engine.h"
#include "ops/cpu/ref_ops.h"
#include "ops/kv_cache.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;
using test::ids_of;

TEST(KvRows, RoundTripWithinTheFormatsPrecision) {
  std::mt19937 rng(1);
  std::normal_distribution<float> nd(0.0f, 2.0f);
  const int64_t D = 64;
  std::vector<float> x(D), back(D), row(D);
  for (float& v : x) v = nd(rng);
  float amax = 0;
  for (float v : x) amax = std::max(amax, std::fabs(v));
  for (KvDType t : {KvDType::F32, KvDType::F16, KvDType::Int8}) {
    encode_kv_row(x.data(), D, t, row.data());
    decode_kv_row(row.data(), D, t, back.data());
    for (int64_t i = 0; i < D; ++i) {
      const float tol = t == KvDType::F32 ? 0.0f : t == KvDType::F16 ? std::fabs(x[i]) * 0x1p-11f : amax / 127.0f * 0.5f * 1.0001f;
      EXPECT_LE(std::fabs(back[i] - x[i]), tol) << kv_dtype_name(t) << " " << i;
    }
  }
  EXPECT_EQ(kv_row_elements(KvDType::F16, D), 32);
  EXPECT_EQ(kv_row_elements(KvDType::Int8, D), 17);
}

TEST(KvAttention, CpuBackendEqualsTheReference) {
  auto be = make_cpu_backend(2);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd(0.0f, 1.0f);
  for (KvDType t : {KvDType::F16, KvDType::Int8}) {
    AttentionShape s{4, 2, 32, 0, 0.17f, t};
    const int64_t T = 5, pos0 = 7, ctx = 16, row = kv_row_elements(t, s.head_dim);
    std::vector<float> k((pos0 + T) * 2 * 32), v(k.size()), q(T * 4 * 32), kc(ctx * 2 * row, 0.0f), vc(kc.size(), 0.0f);
    for (auto* a : {&k, &v, &q})
      for (float& x : *a) x = nd(rng);
    ref::store_kv(k.data(), kc.data(), pos0 + T, 0, s);
    ref::store_kv(v.data(), vc.data(), pos0 + T, 0, s);
    std::vector<float> want(q.size()), got(q.size());
    ref::attention(q.data(), kc.data(), vc.data(), want.data(), T, pos0, s);
    // The backend stores the same rows (from its own buffers) and attends over them.
    Buf bq = be->alloc(int64_t(q.size())), bk = be->alloc(int64_t(k.size())), bv = be->alloc(int64_t(v.size()));
    Buf ck = be->alloc(int64_t(kc.size())), cv = be->alloc(int64_t(vc.size())), out = be->alloc(int64_t(q.size()));
    be->write(bq, q);
    be->write(bk, k);
    be->write(bv, v);
    be->store_kv(bk, ck, pos0 + T, 0, s);
    be->store_kv(bv, cv, pos0 + T, 0, s);
    be->attention(bq, ck, cv, out, T, pos0, s);
    be->read(out, got);
    ASSERT_TRUE(be->status().ok()) << be->status().message();
    EXPECT_LT(test::max_abs_diff(want.data(), got.data(), want.size()), 1e-5f) << kv_dtype_name(t);
  }
}

std::unique_ptr<Engine> load(const std::string& dir, KvDType kv, int64_t max_ctx) {
  LoadOptions opt;
  opt.kv_dtype = kv;
  opt.max_ctx = max_ctx;
  auto e = Engine::load(dir, opt);
  EXPECT_TRUE(e.ok()) << e.message();
  return std::move(*e);
}

TEST(KvCache, F16GivesTheReferenceGreedyIds) {
  for (const char* name : {"qwen2-tiny", "qwen3-tiny"}) {
    auto e = load(fixture(name), KvDType::F16, 1100);
    auto ref = read_json_file(fixture(std::string(name) + "/reference.json"));
    for (const Json& c : ref->find("cases")->as_array()) {
      if (!c.find("adapter")->is_null() || c.find("prompt")->size() > 64) continue;
      GenerateRequest r;
      r.prompt = ids_of(*c.find("prompt"));
      r.max_new_tokens = int64_t(c.find("greedy")->size());
      r.sampling.temperature = 0;
      r.stop_ids = {-1};
      auto out = e->generate(r);
      ASSERT_TRUE(out.ok()) << out.message();
      EXPECT_EQ(out->ids, ids_of(*c.find("greedy"))) << name << ", prompt of " << r.prompt.size();
    }
  }
  auto e = load(fixture("pycoder-6m"), KvDType::F16, 256);
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  for (const Json& g : ref->find("greedy")->as_array()) {
    GenerateRequest r;
    r.prompt = ids_of(*g.find("prompt_ids"));
    r.max_new_tokens = 64;
    r.sampling.temperature = 0;
    r.stop_ids = {-1};
    auto out = e->generate(r);
    ASSERT_TRUE(out.ok()) << out.message();
    EXPECT_EQ(out->ids, ids_of(*g.find("greedy")));
  }
}

TEST(KvCache, Int8PerplexityCostOnPycoder) {
  auto st = SafetensorsFile::open(fixture("pycoder-6m/eval_windows.safetensors"));
  ASSERT_TRUE(st.ok()) << st.message();
  const TensorInfo* t = &st->tensors().at(0);
#ifdef __EMSCRIPTEN__
  const int64_t n = 1, len = t->shape[1];  // wasm: one window (the measurement is the native run's)
#else
  const int64_t n = 4, len = t->shape[1];  // 4 of the 32 windows (hearth perplexity --kv-dtype: all)
#endif
  std::vector<int32_t> ids(size_t(n * len));
  std::memcpy(ids.data(), t->data, ids.size() * 4);
  double ppl[3];
  for (KvDType kv : {KvDType::F32, KvDType::F16, KvDType::Int8}) {
    LoadOptions opt;
    opt.kv_dtype = kv;
    opt.max_ctx = len;
    opt.max_prefill_t = len;
    auto m = Model::load(fixture("pycoder-6m"), opt);
    ASSERT_TRUE(m.ok()) << m.message();
    auto r = evaluate_perplexity(**m, ids, n, len);
    ASSERT_TRUE(r.ok()) << r.message();
    ppl[int(kv)] = r->ppl;
  }
  std::printf("pycoder-6m, %lld windows: ppl f32 KV %.4f, f16 KV %.4f (%+.3f %%), int8 KV %.4f (%+.3f %%)\n", (long long)n, ppl[0],
              ppl[1], 100 * (ppl[1] / ppl[0] - 1), ppl[2], 100 * (ppl[2] / ppl[0] - 1));
  EXPECT_LT(std::fabs(ppl[1] / ppl[0] - 1), 0.001);
  EXPECT_LT(std::fabs(ppl[2] / ppl[0] - 1), 0.01);
}

TEST(KvCache, BadChoicesAreNamed) {
  auto k = parse_kv_dtype("q4");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.message().find("not one of f32, f16, int8"), std::string::npos);
}

}  // namespace
}  // namespace hearth
