// Parity cases of quantization on upload (Backend::upload_quantized, which a GPU backend runs on
// the device) against quantize_matrix on the host: the same bytes, read back with download(),
// for BF16 and F16 checkpoint data, int8 and int4 with and without the clipping search, odd
// widths (short last groups), constant rows and groups, and tiny values.
#include <cstring>

#include "core/dtype.h"
#include "parity/parity.h"
#include "random_data.h"

namespace hearth::parity {

using test::randn;

namespace {

// "" when a and b hold the same bytes, else where they first differ.
std::string first_difference(const QMatrix& a, const QMatrix& b) {
  if (a.format != b.format || a.rows != b.rows || a.cols != b.cols) return "format or shape";
  std::string where;
  auto cmp = [&](const char* name, const auto& x, const auto& y) {
    if (!where.empty()) return;
    if (x.size() != y.size()) {
      where = std::string(name) + " sizes";
      return;
    }
    for (size_t i = 0; i < x.size(); ++i) {
      if (std::memcmp(&x[i], &y[i], sizeof(x[i])) != 0) {
        where = std::string(name) + "[" + std::to_string(i) + "]: " + std::to_string(double(x[i])) + " against " +
                std::to_string(double(y[i]));
        return;
      }
    }
  };
  cmp("q8", a.q8, b.q8);
  cmp("q4", a.q4, b.q4);
  cmp("scale", a.scale, b.scale);
  cmp("minv", a.minv, b.minv);
  cmp("f32", a.f32, b.f32);
  cmp("f16", a.f16, b.f16);
  return where;
}

// [rows, cols] of checkpoint data in `dtype` with a few special rows: a constant row, a row with
// a constant first group, values far below the rest, and a row of zeros.
std::vector<uint16_t> checkpoint_data(int64_t rows, int64_t cols, DType dtype, uint32_t seed) {
  auto w = randn(size_t(rows * cols), seed, 0.05f);
  if (rows > 3) {
    for (int64_t c = 0; c < cols; ++c) w[size_t(c)] = 0.25f;                               // row 0 constant
    for (int64_t c = 0; c < std::min<int64_t>(cols, 128); ++c) w[size_t(cols + c)] = -1.5f;  // row 1, group 0
    for (int64_t c = 0; c < cols; c += 7) w[size_t(2 * cols + c)] = 1e-35f;                // row 2: tiny values
    for (int64_t c = 0; c < cols; ++c) w[size_t(3 * cols + c)] = 0.0f;                     // row 3 zeros
  }
  std::vector<uint16_t> h(w.size());
  for (size_t i = 0; i < w.size(); ++i) h[i] = dtype == DType::BF16 ? f32_to_bf16(w[i]) : f32_to_f16(w[i]);
  return h;
}

}  // namespace

void quantize_cases(Ctx& c) {
  const int64_t shapes[][2] = {{5, 128}, {9, 300}, {6, 1000}, {33, 64}, {1, 2049}};
  for (DType dt : {DType::BF16, DType::F16}) {
    for (const auto& sh : shapes) {
      const int64_t rows = sh[0], cols = sh[1];
      const auto data = checkpoint_data(rows, cols, dt, uint32_t(rows * 7 + cols));
      const RawMatrix raw{data.data(), dt, rows, cols};
      for (auto [f, search] : {std::pair{WeightFormat::Int4, true}, {WeightFormat::Int4, false}, {WeightFormat::Int8, true}}) {
        const QMatrix want = quantize_raw(raw, f, nullptr, search);
        const auto ids = c.be->upload_quantized(std::span<const RawMatrix>(&raw, 1), f, search, nullptr);
        auto got = c.be->download(ids.at(0));
        const std::string what = std::string("quantize ") + dtype_name(dt) + " -> " + weight_format_name(f) +
                                 (f == WeightFormat::Int4 && !search ? " (no search) " : " ") + std::to_string(rows) + "x" +
                                 std::to_string(cols);
        const std::string diff = got.ok() ? first_difference(*got, want) : got.message();
        c.expect(diff.empty(), what + ": " + diff);
        c.be->release(ids[0]);
      }
    }
  }
}

}  // namespace hearth::parity
