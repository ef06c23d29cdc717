// Portable 8-lane f32 vectors (GCC/clang vector extensions): AVX2 natively, two simd128
// registers in wasm. Loads and stores are unaligned.
#pragma once
#include <cstdint>
#include <cstring>
#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace hearth::simd {

typedef float v8f __attribute__((vector_size(32)));
typedef uint32_t v8u __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
typedef int8_t v8i8 __attribute__((vector_size(8)));
typedef uint16_t v8u16 __attribute__((vector_size(16)));

inline v8f load(const float* p) { v8f v; std::memcpy(&v, p, sizeof v); return v; }
inline void store(float* p, v8f v) { std::memcpy(p, &v, sizeof v); }
inline v8f splat(float f) { return v8f{f, f, f, f, f, f, f, f}; }
inline v8f zero() { return splat(0.0f); }
inline float hsum(v8f v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}
// 8 int8 weights -> f32
inline v8f load_i8(const int8_t* p) {
#if defined(__AVX2__)
  __m128i b = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  __m256 f = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b));
  v8f v;
  std::memcpy(&v, &f, sizeof v);
  return v;
#else
  v8i8 q;
  std::memcpy(&q, p, sizeof q);
  return __builtin_convertvector(__builtin_convertvector(q, v8i), v8f);
#endif
}
// 8 IEEE half values -> f32 (finite inputs; subnormals exact through the 2^112 multiply)
inline v8f load_f16(const uint16_t* p) {
#if defined(__F16C__)
  __m256 wide = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  v8f v;
  std::memcpy(&v, &wide, sizeof v);
  return v;
#else
  v8u16 h;
  std::memcpy(&h, p, sizeof h);
  v8u u = __builtin_convertvector(h, v8u);
  v8u mag = (u & 0x7fffu) << 13;
  v8f f;
  std::memcpy(&f, &mag, sizeof f);
  f = f * splat(5.192296858534828e33f);  // 2^112
  v8u bits;
  std::memcpy(&bits, &f, sizeof bits);
  bits |= (u & 0x8000u) << 16;
  std::memcpy(&f, &bits, sizeof f);
  return f;
#endif
}
inline v8u load_u32(const uint32_t* p) { v8u v; std::memcpy(&v, p, sizeof v); return v; }
// Nibble j of 8 packed int4 words -> f32 values 0..15 (see QMatrix's int4 layout)
inline v8f nibble(v8u words, int j) {
  v8i q = (v8i)((words >> uint32_t(4 * j)) & 15u);
  return __builtin_convertvector(q, v8f);
}

}  // namespace hearth::simd
