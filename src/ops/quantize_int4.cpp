// Int4 g128 quantization of one group, in arithmetic that a GPU reproduces bit for bit
// (wgsl/quantize_int4.wgsl is the same algorithm, for weights quantized on the device at load):
// only f32 additions and multiplications whose rounding no compiler can change (every product
// that feeds an addition is exact: its factors have few enough significant bits), explicit fused
// multiply-adds, comparisons, integer sums, and divisions by integers rounded correctly.
//
// The search: each candidate range [lo', hi'] (the group's range shrunk from either side in steps
// of 2 %, on a thinned grid) gives nibble assignments by thresholds lo' + (k - 1/2) s, and the
// least-squares (scale, minimum) for those assignments, with its squared error from the group's
// sums; the best candidate is then refined by Lloyd steps (reassign, refit) while the error
// drops. Products of two 24-bit values are taken as sums of exact products of 12-bit halves, in
// a fixed order (no fused multiply-add is relied on: GPUs and their emulators may or may not fuse).
// Values whose magnitude is below 2^-32 count as 0, a group whose range is below that is
// constant (scale 0), and intermediate results below 2^-126 are flushed to 0 on both sides, so
// no subnormal ever meets a GPU that might flush it differently.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "ops/qmatrix.h"

namespace hearth {

namespace int4q {

float from_bits(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

uint32_t to_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float keep_bits(float x, int bits) { return from_bits(to_bits(x) & ~((1u << (24 - bits)) - 1u)); }

float flush(float x) { return std::fabs(x) < 1.17549435e-38f ? 0.0f : x; }

float div_by_int(float a, uint32_t d) {
  // a / d rounded once: a has 24 significant bits and d < 2^22, so the exact quotient is never
  // within 2^-47 (relative) of a float halfway point it is not equal to, and rounding it first to
  // a double (53 bits) and then to a float gives the correctly rounded float.
  return flush(float(double(a) / double(d)));
}

// a b as a sum of the exact products of 12-bit halves (a = ah + al, b = bh + bl), in this order:
// (ah bh + ah bl) + (al bh + al bl).
float mul_split(float a, float b) {
  const float ah = keep_bits(a, 12), al = a - ah, bh = keep_bits(b, 12), bl = b - bh;
  return flush(flush(ah * bh + ah * bl) + flush(al * bh + al * bl));
}

// n a - m b for small integers n, m (at most 12 bits) and floats a, b: from exact products.
float int_combo(float n, float a, float m, float b) {
  const float ah = keep_bits(a, 12), al = a - ah, bh = keep_bits(b, 12), bl = b - bh;
  return flush(flush(n * ah - m * bh) + flush(n * al - m * bl));
}

}  // namespace int4q

namespace {

using int4q::div_by_int;
using int4q::flush;
using int4q::from_bits;
using int4q::int_combo;
using int4q::keep_bits;
using int4q::mul_split;

const float kTiny = from_bits(0x2f800000u);        // 2^-32
const float kStep = from_bits(0x3ca3d70au);        // 0.02f: the candidates' shrink step
const float kFifteenth = from_bits(0x3d888889u);   // 1.0f / 15.0f
constexpr int kStepBits = 19;  // significant bits kept in a step, so that step * (2k - 1) is exact

// The group's sums over 8 interleaved lanes, lanes combined pairwise (the GPU's order).
float lanes_total(const float* l) { return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])); }

struct Group {
  float w[QMatrix::kGroup];
  int n;
  float lo, hi, sw, sww;
};

struct Fit {
  float err, scale, minv;
};

// q[i] = how many of the thresholds lo + s (k - 1/2), k = 1..15, w[i] reaches (s > 0 with at most
// kStepBits significant bits); then the least-squares (scale, minimum) for those nibbles and its
// squared error E = sum w^2 - scale sum q w - minimum sum w (the residual at the optimum).
Fit fit_nibbles(const Group& g, float lo, float s, uint8_t* q) {
  float t[17];
  t[0] = -INFINITY;
  for (int k = 1; k <= 15; ++k) t[k] = lo + s * float(2 * k - 1) * 0.5f;  // exact product, one rounding
  t[16] = INFINITY;
  int sq = 0, sqq = 0;
  float lane[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  for (int i = 0; i < g.n; ++i) {
    const float w = g.w[i];
    int v = w >= t[8] ? 8 : 0;
    v += w >= t[v + 4] ? 4 : 0;
    v += w >= t[v + 2] ? 2 : 0;
    v += w >= t[v + 1] ? 1 : 0;
    q[i] = uint8_t(v);
    sq += v;
    sqq += v * v;
    lane[i % 8] += float(v) * w;  // q w is exact (4 x 12 bits at most)
  }
  const float sqw = flush(lanes_total(lane));
  const int det = g.n * sqq - sq * sq;
  if (det <= 0) return Fit{INFINITY, s, lo};  // all nibbles equal: no fit (never the full range)
  // scale = (n sqw - sq sw) / det; minv = (sw - scale sq) / n; E = sww - scale sqw - minv sw.
  const float scale = div_by_int(int_combo(float(g.n), sqw, float(sq), g.sw), uint32_t(det));
  const float minv = div_by_int(int_combo(1.0f, g.sw, float(sq), scale), uint32_t(g.n));
  const float err = flush(flush(g.sww - mul_split(scale, sqw)) - mul_split(minv, g.sw));
  return Fit{err, scale, minv};
}

}  // namespace

void quantize_int4_group(const float* w, int n, uint8_t* q, float* scale, float* minv, bool search) {
  Group g;
  g.n = n;
  float lane_w[8] = {0, 0, 0, 0, 0, 0, 0, 0}, lane_ww[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  g.lo = INFINITY;
  g.hi = -INFINITY;
  for (int i = 0; i < n; ++i) {
    const float v = std::fabs(w[i]) < kTiny ? 0.0f : w[i];
    g.w[i] = v;
    g.lo = std::min(g.lo, v);
    g.hi = std::max(g.hi, v);
    lane_w[i % 8] += v;
    lane_ww[i % 8] += v * v;  // exact for weights of at most 12 significant bits (BF16, F16)
  }
  g.sw = flush(lanes_total(lane_w));
  g.sww = flush(lanes_total(lane_ww));
  const float span = g.hi - g.lo;
  if (!(span >= kTiny)) {
    std::fill(q, q + n, uint8_t(0));
    *scale = 0.0f;
    *minv = g.lo;
    return;
  }
  uint8_t cand[QMatrix::kGroup];
  Fit best = fit_nibbles(g, g.lo, keep_bits(span * kFifteenth, kStepBits), q);
  const float step = keep_bits(span * kStep, kStepBits);
  for (int a = 0; a <= 15 && search; ++a) {
    for (int b = 0; b <= 15; ++b) {
      if ((a == 0 && b == 0) || ((a + b) % 3 != 0 && a != 0 && b != 0)) continue;
      const float clo = g.lo + step * float(a);  // exact products
      const float chi = g.hi - step * float(b);
      if (!(chi > clo)) continue;
      const float s = keep_bits((chi - clo) * kFifteenth, kStepBits);
      if (!(s >= kTiny)) continue;
      const Fit f = fit_nibbles(g, clo, s, cand);
      if (f.err < best.err) {
        best = f;
        std::copy(cand, cand + n, q);
      }
    }
  }
  // Lloyd steps: nibbles for the fitted scale and minimum, then their least-squares fit.
  for (int iter = 0; iter < 8; ++iter) {
    const float s = keep_bits(best.scale, kStepBits);
    if (!(s >= kTiny)) break;
    const Fit f = fit_nibbles(g, best.minv, s, cand);
    if (!(f.err < best.err * from_bits(0x3f7ffff0u))) break;  // at least ~1e-6 better
    best = f;
    std::copy(cand, cand + n, q);
  }
  *scale = best.scale;
  *minv = best.minv;
}

}  // namespace hearth
