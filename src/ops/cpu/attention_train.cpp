// Causal GQA attention for training on the CPU: the forward keeps each row's log-sum-exp; the
// backward recomputes the probabilities from it (no [T, T] matrix is kept; a task holds one row
// of scores). With many (sequence, KV head) pairs, one task per pair computes dq, dk and dv of
// its heads; with few, two passes that need no atomics: one task per (query, head) for dq (and
// delta = dout . out, kept: [n_seq * T, H]), one per (key, KV head) for dk and dv, which walks
// the queries that see that key.
#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/simd.h"
#include "ops/cpu/train_kernels.h"
#include "ops/cpu/vec_math.h"

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
    std::vector<float> sc(static_cast<size_t>(T)), p(static_cast<size_t>(T));
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / H, h = task % H, kvh = h / group;
      const int64_t seq = row / T, t = row % T, first = first_key(t, s), n = t - first + 1;
      const float* qh = q + task * D;
      const float* kb = k + ((seq * T + first) * KV + kvh) * D;  // key first + j at kb + j * KV * D
      const float* vb = v + ((seq * T + first) * KV + kvh) * D;
      float mx = -INFINITY;
      for (int64_t j = 0; j < n; ++j) {
        sc[size_t(j)] = dot(qh, kb + j * KV * D, D) * s.scale;
        mx = std::max(mx, sc[size_t(j)]);
      }
      const float sum = exp_shifted(sc.data(), mx, p.data(), n);
      lse[task] = mx + std::log(sum);
      const float inv = 1.0f / sum;
      float* oh = out + task * D;
      std::fill(oh, oh + D, 0.0f);
      for (int64_t j = 0; j < n; ++j) axpy(p[size_t(j)] * inv, vb + j * KV * D, oh, D);
    }
  });
}

namespace {

// One query row of one head: p_j = exp(scale q.k_j - lse) and ds_j = p_j (dout . v_j - delta)
// over its keys j = first.. (ds written to `ds`, p to `p`); dq = scale sum_j ds_j k_j. Returns
// nothing else: the callers add the dk, dv terms they own.
struct Keys {
  const float* k;  // key `first` of this sequence and KV head; consecutive keys KV * D apart
  const float* v;
  int64_t stride, n;
};
void query_row(const float* qh, const float* doh, float delta, float lse, const Keys& keys, float scale, int64_t D,
               float* sc, float* p, float* ds, float* dqh) {
  for (int64_t j = 0; j < keys.n; ++j) sc[j] = dot(qh, keys.k + j * keys.stride, D) * scale;
  exp_shifted(sc, lse, p, keys.n);
  std::fill(dqh, dqh + D, 0.0f);
  for (int64_t j = 0; j < keys.n; ++j) {
    ds[j] = p[j] * (dot(doh, keys.v + j * keys.stride, D) - delta);
    axpy(scale * ds[j], keys.k + j * keys.stride, dqh, D);
  }
}

// Sequences x KV heads at least this many: one task per (sequence, KV head) does everything
// (one exp and two dot products per score); fewer: two passes with more parallel tasks. The
// choice depends on the shapes only, so results do not depend on the thread count.
constexpr int64_t kFusedMinTasks = 16;

}  // namespace

void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, int64_t n_seq, int64_t T,
                        const AttentionShape& s, ThreadPool& pool) {
  const int64_t H = s.n_heads, KV = s.n_kv_heads, D = s.head_dim, group = H / KV;
  if (n_seq * KV >= kFusedMinTasks) {
    pool.parallel_for(n_seq * KV, 1, [&](int64_t b, int64_t e) {
      std::vector<float> sc(static_cast<size_t>(T)), p(static_cast<size_t>(T)), ds(static_cast<size_t>(T));
      for (int64_t task = b; task < e; ++task) {
        const int64_t seq = task / KV, kvh = task % KV;
        for (int64_t j = 0; j < T; ++j) {
          std::fill(dk + ((seq * T + j) * KV + kvh) * D, dk + ((seq * T + j) * KV + kvh + 1) * D, 0.0f);
          std::fill(dv + ((seq * T + j) * KV + kvh) * D, dv + ((seq * T + j) * KV + kvh + 1) * D, 0.0f);
        }
        for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
          for (int64_t t = 0; t < T; ++t) {
            const int64_t qi = (seq * T + t) * H + h, first = first_key(t, s);
            const int64_t kr = ((seq * T + first) * KV + kvh) * D;
            const Keys keys{k + kr, v + kr, KV * D, t - first + 1};
            const float* qh = q + qi * D;
            const float* doh = dout + qi * D;
            query_row(qh, doh, dot(doh, out + qi * D, D), lse[qi], keys, s.scale, D, sc.data(), p.data(), ds.data(), dq + qi * D);
            for (int64_t j = 0; j < keys.n; ++j) {
              axpy(s.scale * ds[size_t(j)], qh, dk + kr + j * KV * D, D);
              axpy(p[size_t(j)], doh, dv + kr + j * KV * D, D);
            }
          }
        }
      }
    });
    return;
  }
  std::vector<float> delta(size_t(n_seq * T * H));
  // dq (and delta) per (query row, head).
  pool.parallel_for(n_seq * T * H, 4, [&](int64_t b, int64_t e) {
    std::vector<float> sc(static_cast<size_t>(T)), p(static_cast<size_t>(T)), ds(static_cast<size_t>(T));
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / H, h = task % H, kvh = h / group;
      const int64_t seq = row / T, t = row % T, first = first_key(t, s);
      const int64_t kr = ((seq * T + first) * KV + kvh) * D;
      delta[size_t(task)] = dot(dout + task * D, out + task * D, D);
      query_row(q + task * D, dout + task * D, delta[size_t(task)], lse[task], Keys{k + kr, v + kr, KV * D, t - first + 1},
                s.scale, D, sc.data(), p.data(), ds.data(), dq + task * D);
    }
  });
  // dk, dv per (key row, KV head): the queries t >= j (within the window) of every head of the group.
  pool.parallel_for(n_seq * T * KV, 2, [&](int64_t b, int64_t e) {
    std::vector<float> x(static_cast<size_t>(T)), p(static_cast<size_t>(T));
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / KV, kvh = task % KV;
      const int64_t seq = row / T, j = row % T, n = last_query(j, T, s) - j + 1;
      const float* kj = k + task * D;
      const float* vj = v + task * D;
      float* dkj = dk + task * D;
      float* dvj = dv + task * D;
      std::fill(dkj, dkj + D, 0.0f);
      std::fill(dvj, dvj + D, 0.0f);
      for (int64_t h = kvh * group; h < (kvh + 1) * group; ++h) {
        const int64_t q0 = (seq * T + j) * H + h;  // query t = j + i at q0 + i * H
        for (int64_t i = 0; i < n; ++i) x[size_t(i)] = dot(q + (q0 + i * H) * D, kj, D) * s.scale - lse[q0 + i * H];
        exp_shifted(x.data(), 0.0f, p.data(), n);
        for (int64_t i = 0; i < n; ++i) {
          const int64_t qi = q0 + i * H;
          const float* doh = dout + qi * D;
          const float ds = p[size_t(i)] * (dot(doh, vj, D) - delta[size_t(qi)]);
          axpy(p[size_t(i)], doh, dvj, D);
          axpy(s.scale * ds, q + qi * D, dkj, D);
        }
      }
    }
  });
}

}  // namespace hearth::cpu
