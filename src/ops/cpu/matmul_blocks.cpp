// Matrix products with Q8_0 / Q4_0 weights: x [T, in] is quantized to Q8_0 blocks once, then
// each task takes rows of W and, per row, unpacks 8 blocks at a time and takes their integer dot
// products with up to 4 tokens (AVX2: sign / maddubs / madd and a horizontal-add tree; wasm
// simd128: i16 dot products). The scaled block sums go into 8 double lanes (block b into lane
// b % 8) summed at the end as ref::matmul states, so the results equal the scalar reference bit
// for bit.
#include <algorithm>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "ops/block_formats.h"
#include "ops/cpu/kernels.h"

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

namespace hearth::cpu {

namespace {

constexpr int64_t kB = QMatrix::kBlock;
constexpr int kTokens = 4;

#if defined(__AVX2__)
using Block = __m256i;  // 32 int8 weights

inline Block load_q8(const int8_t* q) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)); }
// 16 bytes of nibbles -> elements 0..15 (low nibbles) then 16..31 (high), minus 8.
inline Block load_q4(const uint8_t* nib) {
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(nib));
  const __m128i lo = _mm_and_si128(b, _mm_set1_epi8(15));
  const __m128i hi = _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(15));
  return _mm256_sub_epi8(_mm256_set_m128i(hi, lo), _mm256_set1_epi8(8));
}
// |w| (unsigned) times x with w's sign: pairs summed to i16, then to 8 lanes of i32.
inline __m256i dot_lanes(Block w, const int8_t* xq) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
  return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w)), _mm256_set1_epi16(1));
}
#if defined(__F16C__)
inline float half_to_float(uint16_t h) { return _cvtsh_ss(h); }
#else
inline float half_to_float(uint16_t h) { return f16_to_f32(h); }
#endif

// Block sums in 8 lanes and the lanes' double accumulators.
struct Acc {
  __m256d lo = _mm256_setzero_pd(), hi = _mm256_setzero_pd();  // lanes 0..3, 4..7
};
// acc lane j += sum(w[j] * x[j]) * scale[j] for j < n (n <= 8; the other lanes get exact zeros).
inline void accumulate(Acc& a, const Block* w, const int8_t* x, int n, const float* scale) {
  __m256i p[8];
  for (int j = 0; j < 8; ++j) p[j] = j < n ? dot_lanes(w[j], x + j * kB) : _mm256_setzero_si256();
  // Pairwise sums until lane j holds block j's total.
  const __m256i u0 = _mm256_hadd_epi32(_mm256_hadd_epi32(p[0], p[1]), _mm256_hadd_epi32(p[2], p[3]));
  const __m256i u1 = _mm256_hadd_epi32(_mm256_hadd_epi32(p[4], p[5]), _mm256_hadd_epi32(p[6], p[7]));
  const __m256i s = _mm256_add_epi32(_mm256_permute2x128_si256(u0, u1, 0x20), _mm256_permute2x128_si256(u0, u1, 0x31));
  const __m256 f = _mm256_loadu_ps(scale);
  a.lo = _mm256_add_pd(a.lo, _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(s)), _mm256_cvtps_pd(_mm256_castps256_ps128(f))));
  a.hi = _mm256_add_pd(a.hi, _mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(s, 1)), _mm256_cvtps_pd(_mm256_extractf128_ps(f, 1))));
}
// ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))
inline double total(const Acc& a) {
  const __m256d r = _mm256_add_pd(a.lo, a.hi);
  const __m128d s = _mm_add_pd(_mm256_castpd256_pd128(r), _mm256_extractf128_pd(r, 1));
  return _mm_cvtsd_f64(s) + _mm_cvtsd_f64(_mm_unpackhi_pd(s, s));
}
#else
#if defined(__wasm_simd128__)
struct Block {
  v128_t w[4];  // 32 weights as i16x8 x 4
};
inline Block widen(v128_t a, v128_t b) {
  return Block{{wasm_i16x8_extend_low_i8x16(a), wasm_i16x8_extend_high_i8x16(a), wasm_i16x8_extend_low_i8x16(b),
                wasm_i16x8_extend_high_i8x16(b)}};
}
inline Block load_q8(const int8_t* q) { return widen(wasm_v128_load(q), wasm_v128_load(q + 16)); }
inline Block load_q4(const uint8_t* nib) {
  const v128_t b = wasm_v128_load(nib), m = wasm_i8x16_splat(15), eight = wasm_i8x16_splat(8);
  return widen(wasm_i8x16_sub(wasm_v128_and(b, m), eight), wasm_i8x16_sub(wasm_u8x16_shr(b, 4), eight));
}
inline int32_t dot(const Block& w, const int8_t* xq) {
  const v128_t a = wasm_v128_load(xq), b = wasm_v128_load(xq + 16);
  v128_t s = wasm_i32x4_dot_i16x8(w.w[0], wasm_i16x8_extend_low_i8x16(a));
  s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(w.w[1], wasm_i16x8_extend_high_i8x16(a)));
  s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(w.w[2], wasm_i16x8_extend_low_i8x16(b)));
  s = wasm_i32x4_add(s, wasm_i32x4_dot_i16x8(w.w[3], wasm_i16x8_extend_high_i8x16(b)));
  return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1) + wasm_i32x4_extract_lane(s, 2) +
         wasm_i32x4_extract_lane(s, 3);
}
#else
struct Block {
  int8_t w[kB];
};
inline Block load_q8(const int8_t* q) {
  Block b;
  std::memcpy(b.w, q, kB);
  return b;
}
inline Block load_q4(const uint8_t* nib) {
  Block b;
  for (int j = 0; j < 16; ++j) {
    b.w[j] = int8_t((nib[j] & 15) - 8);
    b.w[j + 16] = int8_t((nib[j] >> 4) - 8);
  }
  return b;
}
inline int32_t dot(const Block& w, const int8_t* xq) {
  int32_t s = 0;
  for (int j = 0; j < kB; ++j) s += int32_t(w.w[j]) * int32_t(xq[j]);
  return s;
}
#endif
inline float half_to_float(uint16_t h) { return f16_to_f32(h); }

struct Acc {
  double l[8] = {};
};
inline void accumulate(Acc& a, const Block* w, const int8_t* x, int n, const float* scale) {
  for (int j = 0; j < n; ++j) a.l[j] += double(dot(w[j], x + j * kB)) * double(scale[j]);
}
inline double total(const Acc& a) {
  return ((a.l[0] + a.l[4]) + (a.l[2] + a.l[6])) + ((a.l[1] + a.l[5]) + (a.l[3] + a.l[7]));
}
#endif

// Row o of W against tokens t0..t0+n-1 (n <= kTokens): each chunk of 8 blocks is unpacked once
// and used for every token.
template <bool kQ4>
void row_tokens(const QMatrix& W, const QuantizedRows& xq, int64_t o, int64_t t0, int n, double* out) {
  const int64_t nb = W.blocks_per_row();
  Acc acc[kTokens];
  Block w[8];
  float dw[8], scale[8];
  for (int64_t b0 = 0; b0 < nb; b0 += 8) {
    const int m = int(std::min<int64_t>(8, nb - b0));
    for (int j = 0; j < m; ++j) {
      const int64_t at = o * nb + b0 + j;
      w[j] = kQ4 ? load_q4(W.nib.data() + at * (kB / 2)) : load_q8(W.q8.data() + at * kB);
      dw[j] = half_to_float(W.d16[size_t(at)]);
    }
    for (int k = 0; k < n; ++k) {
      const int64_t xb = (t0 + k) * nb + b0;
      for (int j = 0; j < 8; ++j) scale[j] = j < m ? dw[j] * xq.d[size_t(xb + j)] : 0.0f;
      accumulate(acc[k], w, xq.q.data() + xb * kB, m, scale);
    }
  }
  for (int k = 0; k < n; ++k) out[k] = total(acc[k]);
}

}  // namespace

void matmul_blocks(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T, ThreadPool& pool) {
  QuantizedRows xq;
  quantize_rows_q8_0(x, T, W.cols, xq);
  const bool q4 = W.format == WeightFormat::Q4_0;
  // Aim for >= ~32k multiply-adds per task.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, W.cols * T));
  pool.parallel_for(W.rows, grain, [&](int64_t r0, int64_t r1) {
    double acc[kTokens];
    for (int64_t o = r0; o < r1; ++o) {
      const float b = bias ? bias[o] : 0.0f;
      for (int64_t t = 0; t < T; t += kTokens) {
        const int n = int(std::min<int64_t>(kTokens, T - t));
        if (q4) {
          row_tokens<true>(W, xq, o, t, n, acc);
        } else {
          row_tokens<false>(W, xq, o, t, n, acc);
        }
        for (int k = 0; k < n; ++k) out[(t + k) * W.rows + o] = float(acc[k]) + b;
      }
    }
  });
}

}  // namespace hearth::cpu
