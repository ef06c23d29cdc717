// Matrix products with Q8_0 / Q4_0 weights: x [T, in] is quantized to Q8_0 blocks once, then
// each task takes rows of W and, per row, unpacks a block once and takes its integer dot
// products with up to 4 tokens (AVX2: sign / maddubs / madd; wasm simd128: i16 dot products).
// The float accumulation is ref::matmul's (acc += float(dot) * (d_w * d_x), blocks in order),
// so the results equal the scalar reference bit for bit.
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
inline int32_t dot(Block w, const int8_t* xq) {
  const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
  // |w| (unsigned) times x with w's sign: pairs summed to i16, then to i32.
  const __m256i p16 = _mm256_maddubs_epi16(_mm256_sign_epi8(w, w), _mm256_sign_epi8(x, w));
  const __m256i p32 = _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(p32), _mm256_extracti128_si256(p32, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}
#elif defined(__wasm_simd128__)
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

// Row o of W against tokens t0..t0+n-1 (n <= kTokens).
template <bool kQ4>
void row_tokens(const QMatrix& W, const QuantizedRows& xq, int64_t o, int64_t t0, int n, float* acc) {
  const int64_t nb = W.blocks_per_row();
  for (int k = 0; k < n; ++k) acc[k] = 0.0f;
  for (int64_t b = 0; b < nb; ++b) {
    const int64_t at = o * nb + b;
    const Block w = kQ4 ? load_q4(W.nib.data() + at * (kB / 2)) : load_q8(W.q8.data() + at * kB);
    const float dw = f16_to_f32(W.d16[size_t(at)]);
    for (int k = 0; k < n; ++k) {
      const int64_t xb = (t0 + k) * nb + b;
      acc[k] += float(dot(w, xq.q.data() + xb * kB)) * (dw * xq.d[size_t(xb)]);
    }
  }
}

}  // namespace

void matmul_blocks(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T, ThreadPool& pool) {
  QuantizedRows xq;
  quantize_rows_q8_0(x, T, W.cols, xq);
  const bool q4 = W.format == WeightFormat::Q4_0;
  // Aim for >= ~32k multiply-adds per task.
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(1, W.cols * T));
  pool.parallel_for(W.rows, grain, [&](int64_t r0, int64_t r1) {
    float acc[kTokens];
    for (int64_t o = r0; o < r1; ++o) {
      const float b = bias ? bias[o] : 0.0f;
      for (int64_t t = 0; t < T; t += kTokens) {
        const int n = int(std::min<int64_t>(kTokens, T - t));
        if (q4) {
          row_tokens<true>(W, xq, o, t, n, acc);
        } else {
          row_tokens<false>(W, xq, o, t, n, acc);
        }
        for (int k = 0; k < n; ++k) out[(t + k) * W.rows + o] = acc[k] + b;
      }
    }
  });
}

}  // namespace hearth::cpu
