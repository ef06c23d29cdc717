// Quantization on load: f16 rounding, int8 per-row symmetric, int4 g128 asymmetric with a
// clipping search. Each candidate range [lo, hi] gives nibble assignments; scale and minimum
// are then refit by least squares for those assignments, and the candidate with the smallest
// squared error wins.
#include <algorithm>
#include <cmath>

#include "core/dtype.h"
#include "ops/block_formats.h"
#include "core/thread_pool.h"
#include "ops/cpu/simd.h"
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

// Squared error of the group for a given scale/min with fresh nibble assignments, and the
// least-squares (scale, min) for those assignments.
struct Fit {
  double err;
  float scale, minv;
};

// Nibbles for range [lo, lo + 15 s], then the least-squares (scale, min) for them. The error
// comes from the sums (no second pass): E = sum (w - m - s q)^2 expanded; sw, sww are the
// group's sum of w and of w^2.
Fit fit_range(const float* w, int n, float lo, float hi, double sw, double sww, uint8_t* q) {
  const float s = (hi - lo) / 15.0f;
  if (!(s > 0)) {
    for (int i = 0; i < n; ++i) q[i] = 0;
    return {sww - 2 * lo * sw + double(n) * lo * lo, 0.0f, lo};
  }
  const float inv = 1.0f / s;
  // 8 lanes at a time (vectorizes without reassociating a single sum).
  using namespace simd;
  const int n8 = n & ~7;
  v8f fq = zero(), fqq = zero(), fqw = zero();
  const v8f vlo = splat(lo), vinv = splat(inv), half = splat(0.5f), top = splat(15.0f);
  for (int i = 0; i < n8; i += 8) {
    v8f x = load(w + i);
    v8f t = (x - vlo) * vinv + half;
    t = t < zero() ? zero() : t;
    t = t > top ? top : t;
    v8i vi = __builtin_convertvector(t, v8i);  // truncation = round half up for t >= 0
    v8f v = __builtin_convertvector(vi, v8f);
    for (int k = 0; k < 8; ++k) q[i + k] = uint8_t(vi[k]);
    fq += v;
    fqq += v * v;
    fqw += v * x;
  }
  float sq = hsum(fq), sqq = hsum(fqq), sqw = hsum(fqw);
  for (int i = n8; i < n; ++i) {
    int v = int((w[i] - lo) * inv + 0.5f);  // round half up; negatives clamp to 0 below
    v = v < 0 ? 0 : (v > 15 ? 15 : v);
    q[i] = uint8_t(v);
    sq += float(v);
    sqq += float(v * v);
    sqw += float(v) * w[i];
  }
  double ls_s = s, ls_m = lo;
  const double det = double(n) * sqq - double(sq) * sq;
  if (det > 0.5) {  // integers: det >= 1 unless all q are equal
    ls_s = (double(n) * sqw - double(sq) * sw) / det;
    ls_m = (sw - ls_s * sq) / n;
  }
  const double e = sww - 2 * ls_s * sqw - 2 * ls_m * sw + ls_s * ls_s * sqq + 2 * ls_s * ls_m * sq + double(n) * ls_m * ls_m;
  return {e < 0 ? 0 : e, float(ls_s), float(ls_m)};
}

}  // namespace

void quantize_int4_group(const float* w, int n, uint8_t* q, float* scale, float* minv, bool search) {
  float lo = w[0], hi = w[0];
  for (int i = 1; i < n; ++i) {
    lo = std::min(lo, w[i]);
    hi = std::max(hi, w[i]);
  }
  uint8_t cand[QMatrix::kGroup];
  double sw = 0, sww = 0;
  for (int i = 0; i < n; ++i) {
    sw += w[i];
    sww += double(w[i]) * w[i];
  }
  Fit best = fit_range(w, n, lo, hi, sw, sww, q);
  // Shrink the range from either side in steps of 2 % (up to 30 %), on a thinned grid; the
  // Lloyd steps below refine the winner.
  const float span = hi - lo;
  for (int a = 0; a <= 15 && span > 0 && search; ++a) {
    for (int b = 0; b <= 15; ++b) {
      if ((a == 0 && b == 0) || ((a + b) % 3 != 0 && a != 0 && b != 0)) continue;
      float clo = lo + span * 0.02f * float(a);
      float chi = hi - span * 0.02f * float(b);
      if (chi <= clo) continue;
      Fit f = fit_range(w, n, clo, chi, sw, sww, cand);
      if (f.err < best.err) {
        best = f;
        std::copy(cand, cand + n, q);
      }
    }
  }
  // Alternate nibble assignment and least-squares refit while the error drops (Lloyd steps).
  for (int iter = 0; iter < 8 && best.scale > 0; ++iter) {
    double sq = 0, sqq = 0, sw = 0, sqw = 0;
    for (int i = 0; i < n; ++i) {
      int v = std::clamp(int(std::lround((w[i] - best.minv) / best.scale)), 0, 15);
      cand[i] = uint8_t(v);
      sq += v;
      sqq += double(v) * v;
      sw += w[i];
      sqw += double(v) * w[i];
    }
    double det = n * sqq - sq * sq;
    if (det <= 1e-12) break;
    double ls = (n * sqw - sq * sw) / det, lm = (sw - ls * sq) / n;
    double e = 0;
    for (int i = 0; i < n; ++i) {
      double d = w[i] - (lm + ls * cand[i]);
      e += d * d;
    }
    if (!(e < best.err * (1 - 1e-9))) break;
    best = Fit{e, float(ls), float(lm)};
    std::copy(cand, cand + n, q);
  }
  *scale = best.scale;
  *minv = best.minv;
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
          float s = amax / 127.0f;
          float inv = s > 0 ? 1.0f / s : 0.0f;
          for (int64_t c = 0; c < cols; ++c) m.q8[size_t(r * cols + c)] = int8_t(std::clamp(std::lround(row[c] * inv), -127L, 127L));
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
