// Quantization accuracy, the sliding window's semantics and the RoPE scaling types (the per-op
// parity of every backend is tests/parity/, run by ops_parity_test.cpp).
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

TEST(Ops, SlidingWindowHidesOldKeys) {
  // With window 1 each query sees only its own key: the output is that position's value.
  const int64_t D = 8, T = 4;
  auto q = randn(size_t(T * D), 1), k = randn(size_t(T * D), 2), v = randn(size_t(T * D), 3);
  std::vector<float> out(q.size());
  ref::attention(q.data(), k.data(), v.data(), out.data(), T, 0, AttentionShape{1, 1, D, 1, 0.3f});
  for (size_t i = 0; i < out.size(); ++i) EXPECT_FLOAT_EQ(out[i], v[i]);
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
