// Causal grouped-query attention over the KV cache, and RMSNorm, on the CPU. Each (token,
// head) pair is one task: scores for the visible keys, a max-subtracted softmax in f32, then
// the weighted sum of values.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/kernels.h"
#include "ops/cpu/simd.h"
#include "ops/kv_cache.h"

namespace hearth::cpu {

using namespace simd;

namespace {

inline float dot(const float* a, const float* b, int64_t n) {
  const int64_t n8 = n & ~int64_t(7);
  v8f acc = zero();
  for (int64_t i = 0; i < n8; i += 8) acc += load(a + i) * load(b + i);
  float s = hsum(acc);
  for (int64_t i = n8; i < n; ++i) s += a[i] * b[i];
  return s;
}

inline void axpy(float w, const float* x, float* y, int64_t n) {
  const int64_t n8 = n & ~int64_t(7);
  const v8f wv = splat(w);
  for (int64_t i = 0; i < n8; i += 8) store(y + i, load(y + i) + wv * load(x + i));
  for (int64_t i = n8; i < n; ++i) y[i] += w * x[i];
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out, int64_t T, int64_t pos0,
               const AttentionShape& s, ThreadPool& pool) {
  const int64_t D = s.head_dim, H = s.n_heads, KV = s.n_kv_heads, group = H / KV;
  const int64_t row = kv_row_elements(s.kv, D);
  const bool f32 = s.kv == KvDType::F32;
  pool.parallel_for(T * H, 1, [&](int64_t b, int64_t e) {
    std::vector<float> p, buf(f32 ? 0 : size_t(D));
    // Row j of a cache as f32 (decoded into buf unless the cache is f32).
    auto row_of = [&](const float* cache, int64_t j, int64_t kvh) {
      const float* src = cache + (j * KV + kvh) * row;
      if (f32) return src;
      decode_kv_row(src, D, s.kv, buf.data());
      return static_cast<const float*>(buf.data());
    };
    for (int64_t task = b; task < e; ++task) {
      const int64_t t = task / H, h = task % H, kvh = h / group;
      const int64_t pos = pos0 + t;
      const int64_t first = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0;
      const int64_t n = pos - first + 1;
      const float* qh = q + (t * H + h) * D;
      p.resize(size_t(n));
      float mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        p[size_t(j)] = dot(qh, row_of(k, first + j, kvh), D) * s.scale;
        mx = std::max(mx, p[size_t(j)]);
      }
      float sum = 0;
      for (int64_t j = 0; j < n; ++j) {
        p[size_t(j)] = std::exp(p[size_t(j)] - mx);
        sum += p[size_t(j)];
      }
      const float inv = 1.0f / sum;
      float* oh = out + (t * H + h) * D;
      std::fill(oh, oh + D, 0.0f);
      for (int64_t j = 0; j < n; ++j) axpy(p[size_t(j)] * inv, row_of(v, first + j, kvh), oh, D);
    }
  });
}

void rmsnorm(const float* x, const float* w, float* out, int64_t rows, int64_t d, float eps, ThreadPool& pool) {
  auto body = [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* xr = x + r * d;
      float inv = 1.0f / std::sqrt(dot(xr, xr, d) / float(d) + eps);
      float* o = out + r * d;
      for (int64_t i = 0; i < d; ++i) o[i] = w[i] * (xr[i] * inv);
    }
  };
  if (rows * d < 65536) body(0, rows); else pool.parallel_for(rows, 16, body);
}

}  // namespace hearth::cpu
