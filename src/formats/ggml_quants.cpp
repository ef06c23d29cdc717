// ggml block formats to f32, and the Q8_0 / Q4_0 / Q4_1 reference quantizers. Each value is
// computed with ggml's order of operations ((d * scale) * q - dmin * min for the k-quants), so
// the f32 values equal ggml's own dequantization.
//
// K-quant super-blocks of 256 values (d, dmin: f16):
//  Q2_K: scales[16] (low nibble scale, high nibble min), qs[64] (2 bits), d, dmin.
//        Value i = 128 n + 32 j + l: q = (qs[32 n + l] >> 2 j) & 3, sub-block 8 n + 2 j + l / 16;
//        v = d (s & 15) q - dmin (s >> 4).
//  Q3_K: hmask[32], qs[64], scales[12] (16 six-bit scales), d. Same indexing as Q2_K, minus 4
//        where bit 4 n + j of hmask[l] is clear; v = d (s - 32) q.
//  Q4_K: d, dmin, scales[12] (8 six-bit scales and mins), qs[128]. Value i = 64 j + 32 h + l:
//        q = nibble h of qs[32 j + l], sub-block 2 j + h; v = d s q - dmin m.
//  Q5_K: d, dmin, scales[12], qh[32], qs[128]: Q4_K plus 16 where bit 2 j + h of qh[l] is set.
//  Q6_K: ql[128], qh[64], scales[16] (int8), d. Value i = 128 n + 32 k + l: the low nibble of
//        ql[64 n + l + 32 (k & 1)] (k < 2) or its high nibble (k >= 2), two bits 2 k of
//        qh[32 n + l]; q - 32; v = d s q with s = scales[8 n + l / 16 + 2 k].
#include "formats/ggml_quants.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>

#include "core/dtype.h"

namespace hearth {

namespace {

float half_at(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return f16_to_f32(h);
}

// A product rounded to float before the add that follows, as ggml's quantizers state it (a
// compiler may otherwise fuse the two into one FMA, rounding once, and some nibbles differ).
float rounded(float x) {
  volatile float v = x;
  return v;
}

void put_half(uint8_t* p, float f) {
  const uint16_t h = f32_to_f16(f);
  std::memcpy(p, &h, 2);
}

// The six-bit scale and min of sub-block j (0..7) of Q4_K / Q5_K's 12 packed bytes.
void scale_min_k4(int j, const uint8_t* s, int* sc, int* m) {
  if (j < 4) {
    *sc = s[j] & 63;
    *m = s[j + 4] & 63;
  } else {
    *sc = (s[j + 4] & 15) | ((s[j - 4] >> 6) << 4);
    *m = (s[j + 4] >> 4) | ((s[j] >> 6) << 4);
  }
}

// The six-bit scale of sub-block j (0..15) of Q3_K's 12 packed bytes.
int scale_q3k(int j, const uint8_t* s) {
  if (j < 4) return (s[j] & 15) | (((s[j + 8] >> 0) & 3) << 4);
  if (j < 8) return (s[j] & 15) | (((s[j + 4] >> 2) & 3) << 4);
  if (j < 12) return (s[j - 8] >> 4) | (((s[j] >> 4) & 3) << 4);
  return (s[j - 8] >> 4) | (((s[j - 4] >> 6) & 3) << 4);
}

void block_q4_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  for (int j = 0; j < 16; ++j) {
    y[j] = float((b[2 + j] & 15) - 8) * d;
    y[j + 16] = float((b[2 + j] >> 4) - 8) * d;
  }
}

void block_q4_1(const uint8_t* b, float* y) {
  const float d = half_at(b), m = half_at(b + 2);
  for (int j = 0; j < 16; ++j) {
    y[j] = float(b[4 + j] & 15) * d + m;
    y[j + 16] = float(b[4 + j] >> 4) * d + m;
  }
}

void block_q5(const uint8_t* b, float* y, bool with_min) {
  const float d = half_at(b), m = with_min ? half_at(b + 2) : 0.0f;
  const uint8_t* p = b + (with_min ? 4 : 2);
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  const uint8_t* qs = p + 4;
  for (int j = 0; j < 16; ++j) {
    const int lo = (qs[j] & 15) | int(((qh >> j) & 1) << 4);
    const int hi = (qs[j] >> 4) | int(((qh >> (j + 16)) & 1) << 4);
    if (with_min) {
      y[j] = float(lo) * d + m;
      y[j + 16] = float(hi) * d + m;
    } else {
      y[j] = float(lo - 16) * d;
      y[j + 16] = float(hi - 16) * d;
    }
  }
}

void block_q8_0(const uint8_t* b, float* y) {
  const float d = half_at(b);
  for (int j = 0; j < 32; ++j) y[j] = float(int8_t(b[2 + j])) * d;
}

void block_q2_k(const uint8_t* b, float* y) {
  const uint8_t* sc = b;
  const uint8_t* qs = b + 16;
  const float d = half_at(b + 80), dmin = half_at(b + 82);
  for (int i = 0; i < 256; ++i) {
    const int n = i / 128, j = (i % 128) / 32, l = i % 32;
    const int s = sc[8 * n + 2 * j + l / 16];
    const int q = (qs[32 * n + l] >> (2 * j)) & 3;
    y[i] = (d * float(s & 15)) * float(q) - dmin * float(s >> 4);
  }
}

void block_q3_k(const uint8_t* b, float* y) {
  const uint8_t* hmask = b;
  const uint8_t* qs = b + 32;
  const uint8_t* sc = b + 96;
  const float d = half_at(b + 108);
  for (int i = 0; i < 256; ++i) {
    const int n = i / 128, j = (i % 128) / 32, l = i % 32;
    const float dl = d * float(scale_q3k(8 * n + 2 * j + l / 16, sc) - 32);
    const int q = ((qs[32 * n + l] >> (2 * j)) & 3) - ((hmask[l] & (1 << (4 * n + j))) ? 0 : 4);
    y[i] = dl * float(q);
  }
}

void block_q45_k(const uint8_t* b, float* y, bool five) {
  const float d = half_at(b), dmin = half_at(b + 2);
  const uint8_t* sc = b + 4;
  const uint8_t* qh = b + 16;
  const uint8_t* qs = b + (five ? 48 : 16);
  for (int i = 0; i < 256; ++i) {
    const int j = i / 64, h = (i % 64) / 32, l = i % 32;
    int s, m;
    scale_min_k4(2 * j + h, sc, &s, &m);
    int q = h ? qs[32 * j + l] >> 4 : qs[32 * j + l] & 15;
    if (five && (qh[l] & (1 << (2 * j + h)))) q += 16;
    y[i] = (d * float(s)) * float(q) - dmin * float(m);
  }
}

void block_q6_k(const uint8_t* b, float* y) {
  const uint8_t* ql = b;
  const uint8_t* qh = b + 128;
  const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
  const float d = half_at(b + 208);
  for (int i = 0; i < 256; ++i) {
    const int n = i / 128, k = (i % 128) / 32, l = i % 32;
    const uint8_t low = ql[64 * n + l + 32 * (k & 1)];
    const int lo4 = k < 2 ? (low & 15) : (low >> 4);
    const int hi2 = (qh[32 * n + l] >> (2 * k)) & 3;
    const int q = (lo4 | (hi2 << 4)) - 32;
    y[i] = d * float(sc[8 * n + l / 16 + 2 * k]) * float(q);
  }
}

}  // namespace

bool ggml_can_dequantize(GgmlType t) {
  switch (t) {
    case GgmlType::F32: case GgmlType::F16: case GgmlType::BF16: case GgmlType::Q4_0: case GgmlType::Q4_1:
    case GgmlType::Q5_0: case GgmlType::Q5_1: case GgmlType::Q8_0: case GgmlType::Q2_K: case GgmlType::Q3_K:
    case GgmlType::Q4_K: case GgmlType::Q5_K: case GgmlType::Q6_K: return true;
    default: return false;
  }
}

void dequantize_row(GgmlType t, const uint8_t* src, int64_t n, float* out) {
  const auto info = ggml_type_info(uint32_t(t));
  const int64_t bs = info ? info->block : 1, bb = info ? info->block_bytes : 0;
  for (int64_t b = 0; b < n / bs; ++b) {
    const uint8_t* p = src + b * bb;
    float* y = out + b * bs;
    switch (t) {
      case GgmlType::F32: std::memcpy(y, p, 4); break;
      case GgmlType::F16: *y = half_at(p); break;
      case GgmlType::BF16: { uint16_t h; std::memcpy(&h, p, 2); *y = bf16_to_f32(h); break; }
      case GgmlType::Q4_0: block_q4_0(p, y); break;
      case GgmlType::Q4_1: block_q4_1(p, y); break;
      case GgmlType::Q5_0: block_q5(p, y, false); break;
      case GgmlType::Q5_1: block_q5(p, y, true); break;
      case GgmlType::Q8_0: block_q8_0(p, y); break;
      case GgmlType::Q2_K: block_q2_k(p, y); break;
      case GgmlType::Q3_K: block_q3_k(p, y); break;
      case GgmlType::Q4_K: block_q45_k(p, y, false); break;
      case GgmlType::Q5_K: block_q45_k(p, y, true); break;
      case GgmlType::Q6_K: block_q6_k(p, y); break;
      default: std::fill(y, y + bs, 0.0f); break;  // callers check ggml_can_dequantize first
    }
  }
}

void quantize_block_q8_0(const float* x, int8_t* q, uint16_t* d16) {
  float amax = 0.0f;
  for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
  const float d = amax / 127.0f;
  const float id = d != 0.0f ? 1.0f / d : 0.0f;
  *d16 = f32_to_f16(d);
  for (int j = 0; j < 32; ++j) q[j] = int8_t(std::roundf(x[j] * id));
}

void quantize_row_q8_0(const float* x, int64_t n, uint8_t* dst) {
  for (int64_t b = 0; b < n / 32; ++b) {
    uint8_t* out = dst + b * kQ8_0Bytes;
    uint16_t d16;
    quantize_block_q8_0(x + b * 32, reinterpret_cast<int8_t*>(out + 2), &d16);
    std::memcpy(out, &d16, 2);
  }
}

void quantize_row_q4_0(const float* x, int64_t n, uint8_t* dst) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* v = x + b * 32;
    uint8_t* out = dst + b * kQ4_0Bytes;
    // The value of largest magnitude, with its sign, maps to -8.
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; ++j) {
      if (amax < std::fabs(v[j])) {
        amax = std::fabs(v[j]);
        max = v[j];
      }
    }
    const float d = max / -8.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(out, d);
    for (int j = 0; j < 16; ++j) {
      const int lo = std::min(15, int(int8_t(rounded(v[j] * id) + 8.5f)));
      const int hi = std::min(15, int(int8_t(rounded(v[j + 16] * id) + 8.5f)));
      out[2 + j] = uint8_t(lo | (hi << 4));
    }
  }
}

void quantize_row_q4_1(const float* x, int64_t n, uint8_t* dst) {
  for (int64_t b = 0; b < n / 32; ++b) {
    const float* v = x + b * 32;
    uint8_t* out = dst + b * 20;
    float lo = FLT_MAX, hi = -FLT_MAX;
    for (int j = 0; j < 32; ++j) {
      lo = std::min(lo, v[j]);
      hi = std::max(hi, v[j]);
    }
    const float d = (hi - lo) / 15.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_half(out, d);
    put_half(out + 2, lo);
    for (int j = 0; j < 16; ++j) {
      const int a = std::min(15, int(int8_t(rounded((v[j] - lo) * id) + 0.5f)));
      const int c = std::min(15, int(int8_t(rounded((v[j + 16] - lo) * id) + 0.5f)));
      out[4 + j] = uint8_t(a | (c << 4));
    }
  }
}

}  // namespace hearth
