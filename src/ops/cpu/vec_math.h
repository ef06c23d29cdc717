// Vector math for the CPU kernels: exp over 8 lanes (range reduction by ln 2 split in two
// parts, a degree-6 polynomial on [-ln2/2, ln2/2], the power of two put in the exponent bits),
// within 2 ulp of expf for inputs in [-87, 88]; below -87 it gives 0, above 88 exp(88). Plain C++ vector
// extensions: AVX2 natively, simd128 in wasm.
#pragma once
#include <cstdint>
#include <cstring>

#include "ops/cpu/simd.h"

namespace hearth::simd {

inline v8f exp8(v8f x) {
  const v8i too_small = (v8i)(x < splat(-87.0f));
  const v8i too_big = (v8i)(x > splat(88.0f));
  x = (v8f)((too_big & (v8i)splat(88.0f)) | (~too_big & (v8i)x));
  // n = round(x / ln2) through the 1.5 * 2^23 trick (round to nearest, any sign).
  const v8f shifter = splat(12582912.0f);
  const v8f n = (x * splat(1.44269504088896341f) + shifter) - shifter;
  v8f r = x - n * splat(0.693359375f);
  r = r - n * splat(-2.12194440e-4f);
  v8f p = splat(1.9875691500e-4f);
  p = p * r + splat(1.3981999507e-3f);
  p = p * r + splat(8.3334519073e-3f);
  p = p * r + splat(4.1665795894e-2f);
  p = p * r + splat(1.6666665459e-1f);
  p = p * r + splat(5.0000001201e-1f);
  p = p * (r * r) + r + splat(1.0f);
  const v8i bits = (__builtin_convertvector(n, v8i) + 127) << 23;
  v8f scale;
  std::memcpy(&scale, &bits, sizeof scale);
  const v8f out = p * scale;
  return (v8f)((v8i)out & ~too_small);
}

// out[i] = exp(x[i] - shift) for i < n; returns the sum of out (lanes summed in a fixed order).
inline float exp_shifted(const float* x, float shift, float* out, int64_t n) {
  const int64_t n8 = n & ~int64_t(7);
  v8f acc = zero();
  const v8f s = splat(shift);
  for (int64_t i = 0; i < n8; i += 8) {
    const v8f e = exp8(load(x + i) - s);
    store(out + i, e);
    acc += e;
  }
  float sum = hsum(acc);
  if (n8 < n) {
    float tail[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    for (int64_t i = n8; i < n; ++i) tail[i - n8] = x[i] - shift;
    float e[8];
    store(e, exp8(load(tail)));
    for (int64_t i = n8; i < n; ++i) {
      out[i] = e[i - n8];
      sum += e[i - n8];
    }
  }
  return sum;
}

}  // namespace hearth::simd
