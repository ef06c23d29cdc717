// Quantization on load: f16 rounding, int8 per-row symmetric, int4 g128 asymmetric with a
// clipping search per group (quantize_int4.cpp).
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/dtype.h"
#include "ops/block_formats.h"
#include "core/thread_pool.h"
#include "ops/backend_types.h"
#include "ops/qmatrix.h"

namespace hearth {

const char* weight_format_name(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Int4: return "int4";
    case WeightFormat::Q8_0: return "q8_0";
    case WeightFormat::Q4_0: return "q4_0";
  }
  return "?";
}

size_t QMatrix::bytes() const {
  return f32.size() * 4 + f16.size() * 2 + q8.size() + q4.size() * 4 + scale.size() * 4 + minv.size() * 4 +
         nib.size() + d16.size() * 2;
}

void QMatrix::dequant_row(int64_t r, float* out) const {
  switch (format) {
    case WeightFormat::F32:
      std::copy(f32.begin() + r * cols, f32.begin() + (r + 1) * cols, out);
      return;
    case WeightFormat::F16:
      for (int64_t c = 0; c < cols; ++c) out[c] = f16_to_f32(f16[size_t(r * cols + c)]);
      return;
    case WeightFormat::Int8: {
      float s = scale[size_t(r)];
      for (int64_t c = 0; c < cols; ++c) out[c] = float(q8[size_t(r * cols + c)]) * s;
      return;
    }
    case WeightFormat::Int4: {
      const uint32_t* row = q4.data() + r * words_per_row();
      for (int64_t c = 0; c < cols; ++c) {
        int64_t g = c / kGroup, e = c % kGroup;
        uint32_t word = row[g * (kGroup / 8) + e % 16];
        float q = float((word >> (4 * (e / 16))) & 15u);
        out[c] = minv[size_t(r * groups() + g)] + q * scale[size_t(r * groups() + g)];
      }
      return;
    }
    case WeightFormat::Q8_0:
    case WeightFormat::Q4_0:
      dequant_block_row(*this, r, out);
      return;
  }
}

namespace {
const float kInt8Tiny = 7.88860905e-31f;  // 2^-100: rows whose largest value is below are 0
}  // namespace

int8_t quantize_int8_value(float w, float s, float inv_s) {
  const float a = std::fabs(w);
  int q = int(std::min(127.0f, a * inv_s + 0.5f));  // a guess; the thresholds decide
  while (q < 127 && a >= s * float(2 * q + 1) * 0.5f) ++q;
  while (q > 0 && a < s * float(2 * q - 1) * 0.5f) --q;
  return int8_t(w < 0 ? -q : q);
}

QMatrix quantize_raw(const RawMatrix& m, WeightFormat f, ThreadPool* pool, bool search) {
  const size_t n = size_t(m.rows * m.cols);
  std::vector<float> w(n);
  const auto* b = static_cast<const uint8_t*>(m.data);
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    switch (m.dtype) {
      case DType::BF16:
        std::memcpy(&h, b + 2 * i, 2);
        w[i] = bf16_to_f32(h);
        break;
      case DType::F16:
        std::memcpy(&h, b + 2 * i, 2);
        w[i] = f16_to_f32(h);
        break;
      default:
        std::memcpy(&w[i], b + 4 * i, 4);
        break;
    }
  }
  return quantize_matrix(w, m.rows, m.cols, f, pool, search);
}

QMatrix quantize_matrix(std::span<const float> w, int64_t rows, int64_t cols, WeightFormat f, ThreadPool* pool,
                        bool search) {
  QMatrix m;
  m.format = f;
  m.rows = rows;
  m.cols = cols;
  auto for_rows = [&](const std::function<void(int64_t, int64_t)>& fn) {
    if (pool) pool->parallel_for(rows, 1, fn); else fn(0, rows);
  };
  switch (f) {
    case WeightFormat::F32:
      m.f32.assign(w.begin(), w.end());
      break;
    case WeightFormat::F16:
      m.f16.resize(w.size());
      for_rows([&](int64_t b, int64_t e) {
        for (int64_t i = b * cols; i < e * cols; ++i) m.f16[size_t(i)] = f32_to_f16(w[size_t(i)]);
      });
      break;
    case WeightFormat::Int8:
      m.q8.resize(w.size());
      m.scale.resize(size_t(rows));
      for_rows([&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
          const float* row = w.data() + r * cols;
          float amax = 0;
          for (int64_t c = 0; c < cols; ++c) amax = std::max(amax, std::fabs(row[c]));
          // amax / 127 rounded once (a division by an integer: the GPU quantizer's as well).
          const float s = amax < kInt8Tiny ? 0.0f : amax / 127.0f;
          const float inv = s > 0 ? 1.0f / s : 0.0f;
          for (int64_t c = 0; c < cols; ++c) m.q8[size_t(r * cols + c)] = s > 0 ? quantize_int8_value(row[c], s, inv) : 0;
          m.scale[size_t(r)] = s;
        }
      });
      break;
    case WeightFormat::Int4: {
      const int64_t G = m.groups(), W = m.words_per_row();
      m.q4.assign(size_t(rows * W), 0u);
      m.scale.resize(size_t(rows * G));
      m.minv.resize(size_t(rows * G));
      for_rows([&](int64_t b, int64_t e) {
        uint8_t q[QMatrix::kGroup];
        for (int64_t r = b; r < e; ++r) {
          for (int64_t g = 0; g < G; ++g) {
            int64_t c0 = g * QMatrix::kGroup;
            int n = int(std::min<int64_t>(QMatrix::kGroup, cols - c0));
            quantize_int4_group(w.data() + r * cols + c0, n, q, &m.scale[size_t(r * G + g)], &m.minv[size_t(r * G + g)],
                                search);
            uint32_t* words = m.q4.data() + r * W + g * (QMatrix::kGroup / 8);
            for (int i = 0; i < n; ++i) words[i % 16] |= uint32_t(q[i]) << (4 * (i / 16));
          }
        }
      });
      break;
    }
    case WeightFormat::Q8_0:
    case WeightFormat::Q4_0:
      quantize_block_matrix(w, m, pool);
      break;
  }
  return m;
}

}  // namespace hearth
