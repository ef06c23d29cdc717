// Matrix products for every weight format: out[T, out] = x[T, in] . W[out, in]^T (+ bias).
// Rows of W are split over threads; each task computes 4 rows x 2 tokens at a time so a
// dequantized weight vector is reused across tokens. Int4 folds the per-group minimum in as
// minv * sum(x over the group), precomputed once per token.
#include <algorithm>
#include <vector>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd.h"

namespace hearth::cpu {

using namespace simd;

namespace {

constexpr int kRows = 4;

// Dense formats (f32, f16, int8): per-element loader, per-row scale applied at the end.
template <int nrows, class Load>
void dense_block_n(const float* x, int64_t in, int64_t T, int64_t o0, Load load,
                   const float* row_scale, const float* bias, float* out, int64_t out_stride) {
  const int64_t in8 = in & ~int64_t(7);
  int64_t t = 0;
  for (; t + 2 <= T; t += 2) {
    v8f a0[nrows], a1[nrows];
    for (int r = 0; r < nrows; ++r) { a0[r] = zero(); a1[r] = zero(); }
    const float* x0 = x + t * in;
    const float* x1 = x0 + in;
    for (int64_t i = 0; i < in8; i += 8) {
      v8f xv0 = load(x0 + i), xv1 = load(x1 + i);
      for (int r = 0; r < nrows; ++r) {
        v8f w = load(o0 + r, i);
        a0[r] += w * xv0;
        a1[r] += w * xv1;
      }
    }
    for (int r = 0; r < nrows; ++r) {
      float s0 = hsum(a0[r]), s1 = hsum(a1[r]);
      for (int64_t i = in8; i < in; ++i) {
        float w = load.scalar(o0 + r, i);
        s0 += w * x0[i];
        s1 += w * x1[i];
      }
      float sc = row_scale ? row_scale[o0 + r] : 1.0f;
      float b = bias ? bias[o0 + r] : 0.0f;
      out[t * out_stride + o0 + r] = s0 * sc + b;
      out[(t + 1) * out_stride + o0 + r] = s1 * sc + b;
    }
  }
  for (; t < T; ++t) {
    v8f a[nrows];
    for (int r = 0; r < nrows; ++r) a[r] = zero();
    const float* x0 = x + t * in;
    for (int64_t i = 0; i < in8; i += 8) {
      v8f xv = load(x0 + i);
      for (int r = 0; r < nrows; ++r) a[r] += load(o0 + r, i) * xv;
    }
    for (int r = 0; r < nrows; ++r) {
      float s = hsum(a[r]);
      for (int64_t i = in8; i < in; ++i) s += load.scalar(o0 + r, i) * x0[i];
      float sc = row_scale ? row_scale[o0 + r] : 1.0f;
      out[t * out_stride + o0 + r] = s * sc + (bias ? bias[o0 + r] : 0.0f);
    }
  }
}

// Dispatches to a kernel with the row count fixed at compile time (accumulators in registers).
template <class Load>
void dense_block(const float* x, int64_t in, int64_t T, int64_t o0, int64_t nrows, Load load,
                 const float* row_scale, const float* bias, float* out, int64_t out_stride) {
  switch (nrows) {
    case 4: dense_block_n<4>(x, in, T, o0, load, row_scale, bias, out, out_stride); break;
    case 3: dense_block_n<3>(x, in, T, o0, load, row_scale, bias, out, out_stride); break;
    case 2: dense_block_n<2>(x, in, T, o0, load, row_scale, bias, out, out_stride); break;
    default: dense_block_n<1>(x, in, T, o0, load, row_scale, bias, out, out_stride); break;
  }
}

struct LoadF32 {
  const float* w;
  int64_t in;
  v8f operator()(const float* p) const { return simd::load(p); }
  v8f operator()(int64_t row, int64_t i) const { return simd::load(w + row * in + i); }
  float scalar(int64_t row, int64_t i) const { return w[row * in + i]; }
};
struct LoadF16 {
  const uint16_t* w;
  int64_t in;
  v8f operator()(const float* p) const { return simd::load(p); }
  v8f operator()(int64_t row, int64_t i) const { return load_f16(w + row * in + i); }
  float scalar(int64_t row, int64_t i) const { return f16_to_f32_fast(w[row * in + i]); }
  static float f16_to_f32_fast(uint16_t h) { uint16_t a[8] = {h}; return load_f16(a)[0]; }
};
struct LoadI8 {
  const int8_t* w;
  int64_t in;
  v8f operator()(const float* p) const { return simd::load(p); }
  v8f operator()(int64_t row, int64_t i) const { return load_i8(w + row * in + i); }
  float scalar(int64_t row, int64_t i) const { return float(w[row * in + i]); }
};

// Int4: xs holds per-token group sums of x: [T, groups]. Each group is unpacked once into 128
// floats and used for every token; acc: [T] scratch.
void int4_block(const float* x, const float* xs, const QMatrix& W, int64_t T, int64_t o0, int64_t nrows,
                const float* bias, float* out, float* acc) {
  const int64_t in = W.cols, G = W.groups(), WPR = W.words_per_row();
  alignas(32) float deq[QMatrix::kGroup];
  for (int64_t r = 0; r < nrows; ++r) {
    const int64_t o = o0 + r;
    const uint32_t* words = W.q4.data() + o * WPR;
    const float* sc = W.scale.data() + o * G;
    const float* mn = W.minv.data() + o * G;
    for (int64_t t = 0; t < T; ++t) acc[t] = bias ? bias[o] : 0.0f;
    for (int64_t g = 0; g < G; ++g) {
      const int64_t c0 = g * QMatrix::kGroup;
      const int64_t n = std::min<int64_t>(QMatrix::kGroup, in - c0);
      const uint32_t* gw = words + g * (QMatrix::kGroup / 8);
      const v8u w0 = load_u32(gw), w1 = load_u32(gw + 8);
      for (int j = 0; j < 8; ++j) {
        store(deq + 16 * j, nibble(w0, j));
        store(deq + 16 * j + 8, nibble(w1, j));
      }
      const float s = sc[g], m = mn[g];
      const int64_t n8 = n & ~int64_t(7);
      for (int64_t t = 0; t < T; ++t) {
        const float* xt = x + t * in + c0;
        v8f a0 = zero(), a1 = zero();
        int64_t k = 0;
        for (; k + 16 <= n8; k += 16) {
          a0 += load(deq + k) * load(xt + k);
          a1 += load(deq + k + 8) * load(xt + k + 8);
        }
        for (; k < n8; k += 8) a0 += load(deq + k) * load(xt + k);
        float d = hsum(a0 + a1);
        for (; k < n; ++k) d += deq[k] * xt[k];
        acc[t] += s * d + m * xs[t * G + g];
      }
    }
    for (int64_t t = 0; t < T; ++t) out[t * W.rows + o] = acc[t];
  }
}

}  // namespace

void matmul(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T, ThreadPool& pool) {
  if (is_block_format(W.format)) return matmul_blocks(x, W, bias, out, T, pool);
  const int64_t in = W.cols;
  std::vector<float> xs;
  if (W.format == WeightFormat::Int4) {
    const int64_t G = W.groups();
    xs.resize(size_t(T * G));
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t g = 0; g < G; ++g) {
        float s = 0;
        for (int64_t i = g * QMatrix::kGroup; i < std::min(in, (g + 1) * QMatrix::kGroup); ++i) s += x[t * in + i];
        xs[size_t(t * G + g)] = s;
      }
    }
  }
  const int64_t blocks = (W.rows + kRows - 1) / kRows;
  // Enough work per task to amortize the hand-off: aim for >= ~32k multiply-adds.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, in * T * kRows));
  pool.parallel_for(blocks, grain, [&](int64_t b0, int64_t b1) {
    std::vector<float> acc(W.format == WeightFormat::Int4 ? size_t(T) : 0);
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t o0 = b * kRows;
      const int64_t nrows = std::min<int64_t>(kRows, W.rows - o0);
      switch (W.format) {
        case WeightFormat::F32:
          dense_block(x, in, T, o0, nrows, LoadF32{W.f32.data(), in}, nullptr, bias, out, W.rows);
          break;
        case WeightFormat::F16:
          dense_block(x, in, T, o0, nrows, LoadF16{W.f16.data(), in}, nullptr, bias, out, W.rows);
          break;
        case WeightFormat::Int8:
          dense_block(x, in, T, o0, nrows, LoadI8{W.q8.data(), in}, W.scale.data(), bias, out, W.rows);
          break;
        case WeightFormat::Int4:
          int4_block(x, xs.data(), W, T, o0, nrows, bias, out, acc.data());
          break;
        default:  // Q8_0, Q4_0: matmul_blocks
          break;
      }
    }
  });
}

}  // namespace hearth::cpu
