// Causal GQA attention for training on the CPU: the forward keeps each row's log-sum-exp; the
// backward recomputes the probabilities from it in two passes that need no atomics: one task per
// (query, head) for dq (and delta = dout . out), one per (key, KV head) for dk and dv, which
// walks the queries that see that key. Memory beyond the outputs: delta, [n_seq * T, H].
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/simd.h"
#include "ops/cpu/train_kernels.h"

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

// y += w x
inline void axpy(float w, const float* x, float* y, int64_t n) {
  const int64_t n8 = n & ~int64_t(7);
  const v8f wv = splat(w);
  for (int64_t i = 0; i < n8; i += 8) store(y + i, load(y + i) + wv * load(x + i));
  for (int64_t i = n8; i < n; ++i) y[i] += w * x[i];
}

int64_t first_key(int64_t t, const AttentionShape& s) { return s.window > 0 ? std::max<int64_t>(0, t - s.window + 1) : 0; }
int64_t last_query(int64_t j, int64_t T, const AttentionShape& s) { return s.window > 0 ? std::min(T - 1, j + s.window - 1) : T - 1; }

}  // namespace

void attention_train(const float* q, const float* k, const float* v, float* out, float* lse, int64_t n_seq, int64_t T,
                     const AttentionShape& s, ThreadPool& pool) {
  const int64_t H = s.n_heads, KV = s.n_kv_heads, D = s.head_dim, group = H / KV;
  pool.parallel_for(n_seq * T * H, 4, [&](int64_t b, int64_t e) {
    std::vector<float> p;
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / H, h = task % H, kvh = h / group;
      const int64_t seq = row / T, t = row % T, first = first_key(t, s), n = t - first + 1;
      const float* qh = q + (row * H + h) * D;
      const float* kb = k + (seq * T * KV + kvh) * D;  // key j at kb + j * KV * D
      const float* vb = v + (seq * T * KV + kvh) * D;
      p.resize(size_t(n));
      float mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        p[size_t(j)] = dot(qh, kb + (first + j) * KV * D, D) * s.scale;
        mx = std::max(mx, p[size_t(j)]);
      }
      float sum = 0;
      for (int64_t j = 0; j < n; ++j) sum += std::exp(p[size_t(j)] - mx);
      const float l = mx + std::log(sum);
      lse[row * H + h] = l;
      float* oh = out + (row * H + h) * D;
      std::fill(oh, oh + D, 0.0f);
      for (int64_t j = 0; j < n; ++j) axpy(std::exp(p[size_t(j)] - l), vb + (first + j) * KV * D, oh, D);
    }
  });
}

void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, int64_t n_seq, int64_t T,
                        const AttentionShape& s, ThreadPool& pool) {
  const int64_t H = s.n_heads, KV = s.n_kv_heads, D = s.head_dim, group = H / KV;
  std::vector<float> delta(size_t(n_seq * T * H));
  // dq (and delta) per (query row, head).
  pool.parallel_for(n_seq * T * H, 4, [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / H, h = task % H, kvh = h / group;
      const int64_t seq = row / T, t = row % T;
      const float* qh = q + task * D;
      const float* doh = dout + task * D;
      const float dl = dot(doh, out + task * D, D);
      delta[size_t(task)] = dl;
      float* dqh = dq + task * D;
      std::fill(dqh, dqh + D, 0.0f);
      for (int64_t j = first_key(t, s); j <= t; ++j) {
        const int64_t kr = ((seq * T + j) * KV + kvh) * D;
        const float p = std::exp(dot(qh, k + kr, D) * s.scale - lse[task]);
        const float ds = p * (dot(doh, v + kr, D) - dl);
        axpy(s.scale * ds, k + kr, dqh, D);
      }
    }
  });
  // dk, dv per (key row, KV head): the queries t >= j (within the window) of every head of the group.
  pool.parallel_for(n_seq * T * KV, 2, [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / KV, kvh = task % KV;
      const int64_t seq = row / T, j = row % T;
      const float* kj = k + task * D;
      const float* vj = v + task * D;
      float* dkj = dk + task * D;
      float* dvj = dv + task * D;
      std::fill(dkj, dkj + D, 0.0f);
      std::fill(dvj, dvj + D, 0.0f);
      for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
        for (int64_t t = j; t <= last_query(j, T, s); ++t) {
          const int64_t qi = (seq * T + t) * H + h;
          const float* qh = q + qi * D;
          const float* doh = dout + qi * D;
          const float p = std::exp(dot(qh, kj, D) * s.scale - lse[qi]);
          const float ds = p * (dot(doh, vj, D) - delta[size_t(qi)]);
          axpy(p, doh, dvj, D);
          axpy(s.scale * ds, qh, dkj, D);
        }
      }
    }
  });
}

}  // namespace hearth::cpu
