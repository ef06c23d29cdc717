// Per-op parity: the SIMD/threaded CPU kernels against the scalar references, on random odd
// shapes, for every weight format; and quantization accuracy checks.
#include <cmath>

#include "core/thread_pool.h"
#include "model/rope.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/ref_ops.h"
#include "random_data.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::randn;
using test::rel_err;

TEST(Ops, MatmulMatchesReferenceForEveryFormat) {
  ThreadPool pool(3);
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 1}, {33, 129, 3}, {64, 256, 5}, {5, 300, 17}, {130, 384, 2}, {9, 1000, 64}};
  for (auto f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4}) {
    for (const auto& sh : shapes) {
      const int64_t rows = sh[0], cols = sh[1], T = sh[2];
      SCOPED_TRACE(std::string(weight_format_name(f)) + " " + std::to_string(rows) + "x" + std::to_string(cols) + " T=" + std::to_string(T));
      auto w = randn(size_t(rows * cols), uint32_t(rows * 31 + cols));
      auto x = randn(size_t(T * cols), uint32_t(T + 7));
      auto bias = randn(size_t(rows), 5);
      QMatrix m = quantize_matrix(w, rows, cols, f, &pool);
      std::vector<float> got(size_t(T * rows)), want(size_t(T * rows));
      cpu::matmul(x.data(), m, bias.data(), got.data(), T, pool);
      ref::matmul(x.data(), m, bias.data(), want.data(), T);
      EXPECT_LT(rel_err(got, want), 2e-5f);
    }
  }
}

TEST(Ops, QuantizedMatricesApproximateTheOriginal) {
  const int64_t rows = 64, cols = 384;
  auto w = randn(size_t(rows * cols), 11, 0.05f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (auto [f, bound] : {std::pair{WeightFormat::F16, 1e-3}, {WeightFormat::Int8, 0.02}, {WeightFormat::Int4, 0.12}}) {
    QMatrix m = quantize_matrix(w, rows, cols, f, nullptr);
    double err = 0, ref = 0;
    for (int64_t r = 0; r < rows; ++r) {
      m.dequant_row(r, row.data());
      for (int64_t c = 0; c < cols; ++c) {
        double d = row[size_t(c)] - w[size_t(r * cols + c)];
        err += d * d;
        ref += double(w[size_t(r * cols + c)]) * w[size_t(r * cols + c)];
      }
    }
    EXPECT_LT(std::sqrt(err / ref), bound) << weight_format_name(f);
  }
}

TEST(Ops, Int4ClippingSearchBeatsPlainRounding) {
  auto w = randn(128 * 200, 3);
  double searched = 0, plain = 0;
  uint8_t q[128];
  for (int g = 0; g < 200; ++g) {
    const float* gw = w.data() + g * 128;
    float s, m;
    quantize_int4_group(gw, 128, q, &s, &m);
    float lo = *std::min_element(gw, gw + 128), hi = *std::max_element(gw, gw + 128);
    float ps = (hi - lo) / 15;
    for (int i = 0; i < 128; ++i) {
      searched += std::pow(gw[i] - (m + s * q[i]), 2);
      float pq = std::clamp(std::round((gw[i] - lo) / ps), 0.0f, 15.0f);
      plain += std::pow(gw[i] - (lo + ps * pq), 2);
      ASSERT_LE(q[i], 15);
    }
  }
  EXPECT_LT(searched, plain * 0.9);
}

TEST(Ops, AttentionMatchesReference) {
  ThreadPool pool(3);
  struct { int64_t H, KV, D, T, pos0, window; } cases[] = {
      {4, 2, 64, 1, 0, 0}, {4, 2, 64, 9, 0, 0}, {8, 4, 64, 1, 37, 0}, {6, 3, 20, 5, 11, 0}, {4, 1, 16, 13, 40, 7}, {2, 2, 12, 3, 2, 1}};
  for (const auto& c : cases) {
    const int64_t ctx = c.pos0 + c.T;
    auto q = randn(size_t(c.T * c.H * c.D), 1), k = randn(size_t(ctx * c.KV * c.D), 2), v = randn(size_t(ctx * c.KV * c.D), 3);
    AttentionShape s{c.H, c.KV, c.D, c.window, 1.0f / std::sqrt(float(c.D))};
    std::vector<float> got(q.size()), want(q.size());
    cpu::attention(q.data(), k.data(), v.data(), got.data(), c.T, c.pos0, s, pool);
    ref::attention(q.data(), k.data(), v.data(), want.data(), c.T, c.pos0, s);
    EXPECT_LT(rel_err(got, want), 1e-5f) << "H=" << c.H << " T=" << c.T << " window=" << c.window;
  }
}

TEST(Ops, SlidingWindowHidesOldKeys) {
  // With window 1 each query sees only its own key: the output is that position's value.
  const int64_t D = 8, T = 4;
  auto q = randn(size_t(T * D), 1), k = randn(size_t(T * D), 2), v = randn(size_t(T * D), 3);
  std::vector<float> out(q.size());
  ref::attention(q.data(), k.data(), v.data(), out.data(), T, 0, AttentionShape{1, 1, D, 1, 0.3f});
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], v[i]);
}

TEST(Ops, RmsnormMatchesReference) {
  ThreadPool pool(2);
  for (int64_t d : {1, 7, 64, 257}) {
    auto x = randn(size_t(d * 300), 4), w = randn(size_t(d), 5);
    std::vector<float> got(x.size()), want(x.size());
    cpu::rmsnorm(x.data(), w.data(), got.data(), 300, d, 1e-6f, pool);
    ref::rmsnorm(x.data(), w.data(), want.data(), 300, d, 1e-6f);
    EXPECT_LT(rel_err(got, want), 1e-5f);
  }
}

ModelConfig rope_config(const std::string& scaling) {
  std::string text = R"({"model_type":"llama","vocab_size":10,"hidden_size":256,"intermediate_size":8,
    "num_hidden_layers":1,"num_attention_heads":2,"max_position_embeddings":4096,"rope_theta":10000.0)" + scaling + "}";
  auto j = parse_json(text, "config.json");
  auto c = parse_model_config(*j, "config.json");
  EXPECT_TRUE(c.ok()) << c.message();
  return *c;
}

TEST(Rope, ScalingTypesFollowTheirDefinitions) {
  RopeTable base = make_rope_table(rope_config(""));
  ASSERT_EQ(base.inv_freq.size(), 64u);
  EXPECT_FLOAT_EQ(base.inv_freq[0], 1.0f);
  EXPECT_NEAR(base.inv_freq[32], 1.0f / std::pow(10000.0f, 0.5f), 1e-9);
  RopeTable lin = make_rope_table(rope_config(R"(,"rope_scaling":{"type":"linear","factor":4.0})"));
  for (size_t i = 0; i < 64; ++i) EXPECT_FLOAT_EQ(lin.inv_freq[i], base.inv_freq[i] / 4.0f);
  // llama3: high frequencies (short wavelengths) unchanged, low ones divided by the factor.
  RopeTable l3 = make_rope_table(rope_config(R"(,"rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":1024})"));
  EXPECT_FLOAT_EQ(l3.inv_freq[0], base.inv_freq[0]);
  EXPECT_FLOAT_EQ(l3.inv_freq[63], base.inv_freq[63] / 8.0f);
  for (size_t i = 0; i < 64; ++i) {
    EXPECT_LE(l3.inv_freq[i], base.inv_freq[i] * 1.000001f);
    EXPECT_GE(l3.inv_freq[i], base.inv_freq[i] / 8.000001f);
  }
  // yarn: extrapolated (unchanged) at high frequency, interpolated (/factor) at low, with the
  // default attention factor 0.1 ln(factor) + 1.
  RopeTable y = make_rope_table(rope_config(R"(,"rope_scaling":{"rope_type":"yarn","factor":4.0,"original_max_position_embeddings":1024})"));
  EXPECT_FLOAT_EQ(y.inv_freq[0], base.inv_freq[0]);
  EXPECT_FLOAT_EQ(y.inv_freq[63], base.inv_freq[63] / 4.0f);
  EXPECT_NEAR(y.attention_scaling, 0.1 * std::log(4.0) + 1.0, 1e-6);
}

}  // namespace
}  // namespace hearth
