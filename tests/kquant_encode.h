// Simple encoders for ggml's k-quant blocks (Q2_K .. Q6_K, 256 values), written from the block
// layouts of the specification in the encoding direction: per-sub-block min / max (or absolute
// maximum) ranges, the super-block scales as f16, the sub-block scales packed into their 6-bit
// (or 4 / 8-bit) fields, and the quants rounded to nearest. No search: they are for testing the
// decoders and for making k-quant files, not for llama.cpp's quality.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "formats/ggml_types.h"

namespace hearth::test {

inline void put_f16(uint8_t* p, float f) {
  const uint16_t h = f32_to_f16(f);
  std::memcpy(p, &h, 2);
}
inline float rounded_f16(float f) { return f16_to_f32(f32_to_f16(f)); }
inline int nearest(float v, int lo, int hi) { return std::clamp(int(std::lround(v)), lo, hi); }

// Asymmetric sub-blocks (Q2_K, Q4_K, Q5_K): per sub-block a scale and a min with
// v = d * sc * q - dmin * m; returns the codes sc, m (bits wide) and the quants (0..qmax).
struct AsymBlock {
  float d = 0, dmin = 0;
  std::vector<int> sc, m, q;
};
inline AsymBlock asym_quantize(const float* x, int subs, int sub_len, int qmax, int code_max) {
  AsymBlock b;
  std::vector<float> scale(static_cast<size_t>(subs)), minv(static_cast<size_t>(subs));
  for (int s = 0; s < subs; ++s) {
    const float* v = x + s * sub_len;
    float lo = std::min(0.0f, *std::min_element(v, v + sub_len)), hi = *std::max_element(v, v + sub_len);
    scale[size_t(s)] = (hi - lo) / float(qmax);
    minv[size_t(s)] = -lo;
  }
  b.d = rounded_f16(*std::max_element(scale.begin(), scale.end()) / float(code_max));
  b.dmin = rounded_f16(*std::max_element(minv.begin(), minv.end()) / float(code_max));
  for (int s = 0; s < subs; ++s) {
    const int sc = b.d > 0 ? nearest(scale[size_t(s)] / b.d, 0, code_max) : 0;
    const int m = b.dmin > 0 ? nearest(minv[size_t(s)] / b.dmin, 0, code_max) : 0;
    b.sc.push_back(sc);
    b.m.push_back(m);
    const float step = b.d * float(sc), off = b.dmin * float(m);
    for (int i = 0; i < sub_len; ++i) b.q.push_back(step > 0 ? nearest((x[s * sub_len + i] + off) / step, 0, qmax) : 0);
  }
  return b;
}

// Q4_K / Q5_K scale bytes: 8 six-bit scales and mins in 12 bytes.
inline void pack_scales_k4(const std::vector<int>& sc, const std::vector<int>& m, uint8_t* s) {
  for (int j = 0; j < 4; ++j) {
    s[j] = uint8_t((sc[size_t(j)] & 63) | ((sc[size_t(j + 4)] >> 4) << 6));
    s[j + 4] = uint8_t((m[size_t(j)] & 63) | ((m[size_t(j + 4)] >> 4) << 6));
    s[j + 8] = uint8_t((sc[size_t(j + 4)] & 15) | ((m[size_t(j + 4)] & 15) << 4));
  }
}

inline void encode_q45_k(const float* x, uint8_t* out, bool five) {
  const AsymBlock b = asym_quantize(x, 8, 32, five ? 31 : 15, 63);
  std::memset(out, 0, five ? 176 : 144);
  put_f16(out, b.d);
  put_f16(out + 2, b.dmin);
  pack_scales_k4(b.sc, b.m, out + 4);
  uint8_t* qh = out + 16;
  uint8_t* qs = out + (five ? 48 : 16);
  for (int j = 0; j < 4; ++j) {          // pairs of sub-blocks share 32 bytes
    for (int h = 0; h < 2; ++h) {        // low nibble: sub-block 2j, high: 2j + 1
      for (int l = 0; l < 32; ++l) {
        const int q = b.q[size_t(64 * j + 32 * h + l)];
        qs[32 * j + l] |= uint8_t((q & 15) << (4 * h));
        if (five && (q & 16)) qh[l] |= uint8_t(1 << (2 * j + h));
      }
    }
  }
}

inline void encode_q2_k(const float* x, uint8_t* out) {
  const AsymBlock b = asym_quantize(x, 16, 16, 3, 15);
  std::memset(out, 0, 84);
  for (int s = 0; s < 16; ++s) out[s] = uint8_t(b.sc[size_t(s)] | (b.m[size_t(s)] << 4));
  uint8_t* qs = out + 16;
  for (int n = 0; n < 2; ++n)            // two halves of 128 values
    for (int j = 0; j < 4; ++j)          // four 2-bit planes of 32 values
      for (int l = 0; l < 32; ++l) qs[32 * n + l] |= uint8_t(b.q[size_t(128 * n + 32 * j + l)] << (2 * j));
  put_f16(out + 80, b.d);
  put_f16(out + 82, b.dmin);
}

// Symmetric sub-blocks of 16 (Q3_K, Q6_K): v = d * sc * q with signed sc and q.
struct SymBlock {
  float d = 0;
  std::vector<int> sc, q;
};
inline SymBlock sym_quantize(const float* x, int qlo, int qhi, int code_lo, int code_hi) {
  SymBlock b;
  std::vector<float> scale(16);
  for (int s = 0; s < 16; ++s) {
    float amax = 0;
    for (int i = 0; i < 16; ++i) amax = std::max(amax, std::fabs(x[16 * s + i]));
    scale[size_t(s)] = amax / float(qhi);
  }
  b.d = rounded_f16(*std::max_element(scale.begin(), scale.end()) / float(code_hi));
  for (int s = 0; s < 16; ++s) {
    const int sc = b.d > 0 ? nearest(scale[size_t(s)] / b.d, code_lo, code_hi) : 0;
    b.sc.push_back(sc);
    const float step = b.d * float(sc);
    for (int i = 0; i < 16; ++i) b.q.push_back(step > 0 ? nearest(x[16 * s + i] / step, qlo, qhi) : 0);
  }
  return b;
}

inline void encode_q6_k(const float* x, uint8_t* out) {
  const SymBlock b = sym_quantize(x, -32, 31, -128, 127);
  std::memset(out, 0, 210);
  uint8_t* ql = out;
  uint8_t* qh = out + 128;
  for (int n = 0; n < 2; ++n) {
    for (int k = 0; k < 4; ++k) {  // four groups of 32 per half
      for (int l = 0; l < 32; ++l) {
        const int u = b.q[size_t(128 * n + 32 * k + l)] + 32;  // 0..63
        ql[64 * n + l + 32 * (k & 1)] |= uint8_t((u & 15) << (k >= 2 ? 4 : 0));
        qh[32 * n + l] |= uint8_t((u >> 4) << (2 * k));
      }
    }
  }
  for (int s = 0; s < 16; ++s) out[192 + s] = uint8_t(int8_t(b.sc[size_t(s)]));
  put_f16(out + 208, b.d);
}

inline void encode_q3_k(const float* x, uint8_t* out) {
  const SymBlock b = sym_quantize(x, -4, 3, -32, 31);
  std::memset(out, 0, 110);
  uint8_t* hmask = out;
  uint8_t* qs = out + 32;
  uint8_t* s = out + 96;
  for (int n = 0; n < 2; ++n) {
    for (int j = 0; j < 4; ++j) {
      for (int l = 0; l < 32; ++l) {
        const int u = b.q[size_t(128 * n + 32 * j + l)] + 4;  // 0..7
        qs[32 * n + l] |= uint8_t((u & 3) << (2 * j));
        if (u & 4) hmask[l] |= uint8_t(1 << (4 * n + j));
      }
    }
  }
  // 16 six-bit scales (stored + 32): low nibbles in bytes 0..7, high two bits in bytes 8..11.
  for (int j = 0; j < 16; ++j) {
    const int u = b.sc[size_t(j)] + 32;
    if (j < 8) s[j] |= uint8_t(u & 15);
    else s[j - 8] |= uint8_t((u & 15) << 4);
    s[8 + j % 4] |= uint8_t((u >> 4) << (2 * (j / 4)));
  }
  put_f16(out + 108, b.d);
}

// Encodes n values (a multiple of 256) as `type`.
inline void encode_kquant_row(GgmlType type, const float* x, int64_t n, uint8_t* out) {
  for (int64_t b = 0; b < n / 256; ++b) {
    const float* v = x + 256 * b;
    switch (type) {
      case GgmlType::Q2_K: encode_q2_k(v, out + 84 * b); break;
      case GgmlType::Q3_K: encode_q3_k(v, out + 110 * b); break;
      case GgmlType::Q4_K: encode_q45_k(v, out + 144 * b, false); break;
      case GgmlType::Q5_K: encode_q45_k(v, out + 176 * b, true); break;
      case GgmlType::Q6_K: encode_q6_k(v, out + 210 * b); break;
      default: break;
    }
  }
}

}  // namespace hearth::test
