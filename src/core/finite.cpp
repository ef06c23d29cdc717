// Finiteness scans (see finite.h).
#include "core/finite.h"

#include <algorithm>
#include <cstring>

namespace hearth {

namespace {

constexpr size_t kBlock = 1024;

// Whether x[0, n) (n <= kBlock) holds a NaN or Inf: the largest |x| bit pattern reaches the
// all-ones exponent exactly then. No branch in the loop, so it vectorizes.
bool block_has_non_finite(const float* x, size_t n) {
  uint32_t mx = 0;
  for (size_t i = 0; i < n; ++i) {
    uint32_t u;
    std::memcpy(&u, x + i, 4);
    mx = std::max(mx, u & 0x7fffffffu);
  }
  return mx >= 0x7f800000u;
}

}  // namespace

size_t first_non_finite(const float* x, size_t n) {
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    if (!block_has_non_finite(x + b, m)) continue;
    for (size_t i = 0; i < m; ++i) {
      uint32_t u;
      std::memcpy(&u, x + b + i, 4);
      if ((u & 0x7f800000u) == 0x7f800000u) return b + i;
    }
  }
  return n;
}

size_t first_non_finite_f16(const uint8_t* p, size_t n, size_t stride) {
  uint16_t mx = 0;
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + i * stride, 2);
    mx = std::max<uint16_t>(mx, uint16_t(h & 0x7fff));
  }
  if (mx < 0x7c00) return n;
  for (size_t i = 0; i < n; ++i) {
    uint16_t h;
    std::memcpy(&h, p + i * stride, 2);
    if ((h & 0x7c00) == 0x7c00) return i;
  }
  return n;
}

}  // namespace hearth
