// Scalar reference implementations (see ref_ops.h). Written for clarity, not speed.
#include "ops/cpu/ref_ops.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "ops/block_formats.h"

namespace hearth::ref {

void embed(const QMatrix& E, std::span<const int32_t> ids, float* out) {
  for (size_t t = 0; t < ids.size(); ++t) E.dequant_row(ids[t], out + int64_t(t) * E.cols);
}

template <class F>
void rmsnorm(const F* x, const F* w, F* out, int64_t rows, int64_t d, float eps) {
  for (int64_t r = 0; r < rows; ++r) {
    const F* xr = x + r * d;
    F ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += xr[i] * xr[i];
    F inv = F(1) / std::sqrt(ss / F(d) + F(eps));
    for (int64_t i = 0; i < d; ++i) out[r * d + i] = w[i] * (xr[i] * inv);
  }
}

namespace {

// Q8_0 / Q4_0 weights: x quantized to Q8_0 blocks; per block the exact integer dot product
// times (d_w * d_x) (exact in double), added to lane b % 8 of 8 double accumulators.
void matmul_blocks(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T) {
  QuantizedRows xq;
  quantize_rows_q8_0(x, T, W.cols, xq);
  const int64_t nb = W.blocks_per_row(), B = QMatrix::kBlock;
  std::vector<int8_t> wq(static_cast<size_t>(B));
  for (int64_t o = 0; o < W.rows; ++o) {
    for (int64_t t = 0; t < T; ++t) {
      double lane[8] = {};
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t at = o * nb + b;
        for (int64_t j = 0; j < B; ++j) {
          if (W.format == WeightFormat::Q8_0) {
            wq[size_t(j)] = W.q8[size_t(at * B + j)];
          } else {
            const uint8_t byte = W.nib[size_t(at * B / 2 + j % 16)];
            wq[size_t(j)] = int8_t((j < 16 ? byte & 15 : byte >> 4) - 8);
          }
        }
        int32_t dot = 0;
        for (int64_t j = 0; j < B; ++j) dot += int32_t(wq[size_t(j)]) * int32_t(xq.q[size_t((t * nb + b) * B + j)]);
        lane[b % 8] += double(dot) * double(f16_to_f32(W.d16[size_t(at)]) * xq.d[size_t(t * nb + b)]);
      }
      const double acc = ((lane[0] + lane[4]) + (lane[2] + lane[6])) + ((lane[1] + lane[5]) + (lane[3] + lane[7]));
      out[t * W.rows + o] = float(acc) + (bias ? bias[o] : 0.0f);
    }
  }
}

}  // namespace

void matmul(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T) {
  if (is_block_format(W.format)) return matmul_blocks(x, W, bias, out, T);
  std::vector<float> row(size_t(W.cols));
  for (int64_t o = 0; o < W.rows; ++o) {
    W.dequant_row(o, row.data());
    for (int64_t t = 0; t < T; ++t) {
      float acc = 0;
      for (int64_t i = 0; i < W.cols; ++i) acc += x[t * W.cols + i] * row[size_t(i)];
      out[t * W.rows + o] = acc + (bias ? bias[o] : 0.0f);
    }
  }
}

void rope_cos_sin(const RopeTable& table, int64_t pos, float* cos_out, float* sin_out) {
  // As HF computes it in fp32: angle = float(pos) * inv_freq, rounded to f32, then cos/sin.
  for (size_t i = 0; i < table.inv_freq.size(); ++i) {
    float angle = float(pos) * table.inv_freq[i];
    cos_out[i] = float(std::cos(double(angle))) * table.attention_scaling;
    sin_out[i] = float(std::sin(double(angle))) * table.attention_scaling;
  }
}

template <class F>
void rope(F* x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) {
  const int64_t half = table.rot_dim / 2;
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (int64_t t = 0; t < T; ++t) {
    rope_cos_sin(table, pos0 + t, c.data(), s.data());
    for (int64_t h = 0; h < n_heads; ++h) {
      F* v = x + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        F a = v[i], b = v[i + half];
        v[i] = a * F(c[size_t(i)]) - b * F(s[size_t(i)]);
        v[i + half] = b * F(c[size_t(i)]) + a * F(s[size_t(i)]);
      }
    }
  }
}

void attention(const float* q, const float* k, const float* v, float* out, int64_t T, int64_t pos0, const AttentionShape& s) {
  const int64_t D = s.head_dim, group = s.n_heads / s.n_kv_heads;
  std::vector<float> p;
  for (int64_t t = 0; t < T; ++t) {
    const int64_t pos = pos0 + t;
    const int64_t first = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
    for (int64_t h = 0; h < s.n_heads; ++h) {
      const int64_t kvh = h / group;
      const float* qh = q + (t * s.n_heads + h) * D;
      p.assign(size_t(pos - first + 1), 0.0f);
      float mx = -INFINITY;
      for (int64_t j = first; j <= pos; ++j) {
        const float* kj = k + (j * s.n_kv_heads + kvh) * D;
        float dot = 0;
        for (int64_t i = 0; i < D; ++i) dot += qh[i] * kj[i];
        p[size_t(j - first)] = dot * s.scale;
        mx = std::max(mx, p[size_t(j - first)]);
      }
      float sum = 0;
      for (auto& e : p) { e = std::exp(e - mx); sum += e; }
      float* oh = out + (t * s.n_heads + h) * D;
      for (int64_t i = 0; i < D; ++i) oh[i] = 0;
      for (int64_t j = first; j <= pos; ++j) {
        const float* vj = v + (j * s.n_kv_heads + kvh) * D;
        float w = p[size_t(j - first)] / sum;
        for (int64_t i = 0; i < D; ++i) oh[i] += w * vj[i];
      }
    }
  }
}

template <class F>
void swiglu(const F* gate, const F* up, F* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = silu(gate[i]) * up[i];
}

#define HEARTH_REF_OPS_INSTANTIATE(F)                                                          \
  template void rmsnorm<F>(const F*, const F*, F*, int64_t, int64_t, float);                 \
  template void rope<F>(F*, int64_t, int64_t, int64_t, int64_t, const RopeTable&);            \
  template void swiglu<F>(const F*, const F*, F*, int64_t);
HEARTH_REF_OPS_INSTANTIATE(float)
HEARTH_REF_OPS_INSTANTIATE(double)
#undef HEARTH_REF_OPS_INSTANTIATE

void add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

namespace {
uint32_t key_of(float l) {
  uint32_t b;
  std::memcpy(&b, &l, 4);
  return (b & 0x80000000u) ? ~b : (b | 0x80000000u);
}
float as_float(uint64_t v) { return float(uint32_t(v >> 32)) * 4294967296.0f + float(uint32_t(v)); }
}  // namespace

int32_t sample_device(std::span<const float> logits, const SamplingParams& s, float u, const float* pen) {
  const size_t n = logits.size();
  std::vector<float> l(logits.begin(), logits.end());
  for (size_t i = 0; i < n; ++i) {
    if (l[i] != l[i]) l[i] = -INFINITY;
    if (pen && (pen[i] > 0.0f || pen[n + i] > 0.0f)) {
      if (s.repetition_penalty != 1.0f) l[i] = l[i] > 0.0f ? l[i] / s.repetition_penalty : l[i] * s.repetition_penalty;
      if (pen[n + i] > 0.0f) l[i] = l[i] - (s.presence_penalty + s.frequency_penalty * pen[n + i]);
    }
  }
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (l[i] > l[best]) best = i;
  const float m = n ? l[best] : 0.0f;
  if (n == 0 || !(s.temperature > 0.0f) || s.top_k == 1 || m == -INFINITY) return int32_t(best);
  const float inv_t = 1.0f / s.temperature;
  std::vector<uint32_t> q(n);
  std::vector<float> w(n);
  for (size_t i = 0; i < n; ++i) {
    w[i] = std::exp((l[i] - m) * inv_t);
    q[i] = uint32_t(std::nearbyint(w[i] * 2147483648.0f));
  }
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key_of(l[a]) > key_of(l[b]); });
  size_t prefix = (s.top_k > 0 && size_t(s.top_k) < n) ? size_t(s.top_k) : n;
  if (s.top_p < 1.0f) {
    uint64_t total = 0;
    for (size_t j = 0; j < prefix; ++j) total += q[order[j]];
    const float target = s.top_p * as_float(total);
    uint64_t cum = 0;
    size_t c = 0;
    while (c < prefix) {
      cum += q[order[c++]];
      if (as_float(cum) >= target) break;
    }
    prefix = c;
  }
  std::vector<char> keep(n, 0);
  for (size_t j = 0; j < prefix; ++j) keep[order[j]] = w[order[j]] >= s.min_p;
  uint64_t total = 0;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) total += q[i];
  const float uf = u * as_float(total);
  const float uh = std::floor(uf / 4294967296.0f);
  const uint64_t U = (uint64_t(uint32_t(uh)) << 32) | uint32_t(uf - uh * 4294967296.0f);
  uint64_t cum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    cum += q[i];
    if (cum > U) return int32_t(i);
  }
  return int32_t(best);
}

}  // namespace hearth::ref
