// Q8_0 / Q4_0 weights: the SIMD kernel equals the scalar reference bit for bit, the reference
// states ggml's arithmetic (checked against an independent double-precision computation of the
// same quantized values), embedding rows and dequantization agree with ggml's block decoding,
// and conversions between ggml's block bytes and QMatrix's layout are lossless.
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "formats/ggml_quants.h"
#include "ops/block_formats.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/ref_ops.h"
#include "random_data.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::randn;

TEST(BlockOps, KernelEqualsReferenceBitForBit) {
  ThreadPool pool(3);
  // rows x cols x T, cols multiples of 32; block counts below, at and above the kernel's 8.
  const int64_t shapes[][3] = {{1, 32, 1}, {7, 64, 3}, {33, 256, 5}, {5, 288, 9}, {130, 768, 2}, {9, 1024, 17}, {3, 96, 64}};
  for (auto f : {WeightFormat::Q8_0, WeightFormat::Q4_0}) {
    for (const auto& sh : shapes) {
      const int64_t rows = sh[0], cols = sh[1], T = sh[2];
      SCOPED_TRACE(std::string(weight_format_name(f)) + " " + std::to_string(rows) + "x" + std::to_string(cols) + " T=" + std::to_string(T));
      auto w = randn(size_t(rows * cols), uint32_t(rows * 31 + cols), 0.05f);
      auto x = randn(size_t(T * cols), uint32_t(T + 7));
      auto bias = randn(size_t(rows), 5);
      QMatrix m = quantize_matrix(w, rows, cols, f, &pool);
      std::vector<float> got(size_t(T * rows)), want(size_t(T * rows));
      cpu::matmul(x.data(), m, bias.data(), got.data(), T, pool);
      ref::matmul(x.data(), m, bias.data(), want.data(), T);
      ASSERT_EQ(std::memcmp(got.data(), want.data(), got.size() * 4), 0);
    }
  }
}

// The reference against the same product computed independently in double: quantize x with the
// Q8_0 reference quantizer, dequantize both sides, sum. Only float rounding may differ.
TEST(BlockOps, ReferenceIsTheProductOfTheQuantizedValues) {
  const int64_t rows = 11, cols = 320, T = 3;
  for (auto f : {WeightFormat::Q8_0, WeightFormat::Q4_0}) {
    auto w = randn(size_t(rows * cols), 3, 0.1f);
    auto x = randn(size_t(T * cols), 4);
    QMatrix m = quantize_matrix(w, rows, cols, f, nullptr);
    std::vector<float> got(size_t(T * rows));
    ref::matmul(x.data(), m, nullptr, got.data(), T);
    std::vector<uint8_t> xb(size_t(cols / 32 * kQ8_0Bytes));
    std::vector<float> xd(static_cast<size_t>(cols)), wd(static_cast<size_t>(cols));
    for (int64_t t = 0; t < T; ++t) {
      quantize_row_q8_0(x.data() + t * cols, cols, xb.data());
      dequantize_row(GgmlType::Q8_0, xb.data(), cols, xd.data());
      for (int64_t o = 0; o < rows; ++o) {
        m.dequant_row(o, wd.data());
        double s = 0, mag = 0;
        for (int64_t i = 0; i < cols; ++i) {
          s += double(wd[size_t(i)]) * xd[size_t(i)];
          mag += std::fabs(double(wd[size_t(i)]) * xd[size_t(i)]);
        }
        EXPECT_NEAR(got[size_t(t * rows + o)], s, 1e-6 * mag + 1e-7) << weight_format_name(f);
      }
    }
  }
}

TEST(BlockOps, BlockBytesRoundTripAndDequantizeLikeGgml) {
  const int64_t rows = 5, cols = 96;
  auto w = randn(size_t(rows * cols), 9, 0.2f);
  for (auto [f, g, bb] : {std::tuple{WeightFormat::Q8_0, GgmlType::Q8_0, kQ8_0Bytes}, {WeightFormat::Q4_0, GgmlType::Q4_0, kQ4_0Bytes}}) {
    std::vector<uint8_t> blocks(size_t(rows * cols / 32 * bb));
    for (int64_t r = 0; r < rows; ++r) {
      uint8_t* dst = blocks.data() + r * (cols / 32) * bb;
      if (f == WeightFormat::Q8_0) quantize_row_q8_0(w.data() + r * cols, cols, dst);
      else quantize_row_q4_0(w.data() + r * cols, cols, dst);
    }
    QMatrix m = make_block_matrix(f, rows, cols);
    set_block_rows(m, 0, rows, blocks.data());
    QMatrix q = quantize_matrix(w, rows, cols, f, nullptr);
    EXPECT_EQ(m.d16, q.d16);
    EXPECT_EQ(m.q8, q.q8);
    EXPECT_EQ(m.nib, q.nib);
    std::vector<uint8_t> back(size_t(cols / 32 * bb));
    std::vector<float> a(static_cast<size_t>(cols)), b(static_cast<size_t>(cols));
    for (int64_t r = 0; r < rows; ++r) {
      get_block_row(m, r, back.data());
      EXPECT_EQ(std::memcmp(back.data(), blocks.data() + r * (cols / 32) * bb, back.size()), 0);
      m.dequant_row(r, a.data());
      dequantize_row(g, back.data(), cols, b.data());
      EXPECT_EQ(a, b);
      // Dequantized values stay close to the originals (Q8_0: 1/254 of a block's range).
      for (int64_t c = 0; c < cols; ++c) EXPECT_NEAR(a[size_t(c)], w[size_t(r * cols + c)], f == WeightFormat::Q8_0 ? 4e-3 : 0.12);
    }
    // Embedding rows are the dequantized rows.
    const int32_t ids[2] = {3, 1};
    std::vector<float> e(size_t(2 * cols));
    ref::embed(m, ids, e.data());
    m.dequant_row(3, a.data());
    EXPECT_EQ(std::vector<float>(e.begin(), e.begin() + cols), a);
  }
}

// Hand-made blocks: the decoded values follow the layout of the specification.
TEST(BlockOps, GgmlBlockLayouts) {
  uint8_t q4[18] = {};
  const uint16_t half_two = f32_to_f16(2.0f);
  std::memcpy(q4, &half_two, 2);
  q4[2] = 0x1F;  // element 0: 15 -> (15 - 8) * 2 = 14; element 16: 1 -> -14
  float y[32];
  dequantize_row(GgmlType::Q4_0, q4, 32, y);
  EXPECT_EQ(y[0], 14.0f);
  EXPECT_EQ(y[16], -14.0f);
  EXPECT_EQ(y[1], -16.0f);  // nibble 0 -> -8 * 2
  uint8_t q8[34] = {};
  std::memcpy(q8, &half_two, 2);
  q8[2 + 5] = uint8_t(int8_t(-3));
  dequantize_row(GgmlType::Q8_0, q8, 32, y);
  EXPECT_EQ(y[5], -6.0f);
  EXPECT_EQ(y[4], 0.0f);
}

}  // namespace
}  // namespace hearth
