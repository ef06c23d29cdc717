// Threaded CPU kernels of the training ops (see train_kernels.h): the three products through
// gemm(), normalization, activation, embedding, loss and optimizer kernels. Reductions over rows
// (dw of a norm, bias and embedding gradients, squared sums) use fixed blocks summed in order.
#include "ops/cpu/train_kernels.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/gemm.h"
#include "ops/cpu/ref_ops.h"
#include "ops/cpu/simd.h"
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

// Elementwise loops: chunks large enough to pay for the hand-off.
constexpr int64_t kElementGrain = 16384;

}  // namespace

void linear(const float* x, const float* W, const float* bias, float* out, int64_t T, int64_t in, int64_t n_out,
            float scale, bool accumulate, ThreadPool& pool) {
  const MatView A{x, in, 1}, B{W, 1, in};  // A(t, i) = x[t, i]; B(i, o) = W[o, i]
  if (!bias) {
    gemm(T, n_out, in, A, B, out, n_out, scale, accumulate, pool);
    return;
  }
  if (scale == 1.0f && !accumulate) {
    gemm(T, n_out, in, A, B, out, n_out, 1.0f, false, pool);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t o = 0; o < n_out; ++o) out[t * n_out + o] += bias[o];
    return;
  }
  std::vector<float> tmp(size_t(T * n_out));
  gemm(T, n_out, in, A, B, tmp.data(), n_out, 1.0f, false, pool);
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t o = 0; o < n_out; ++o) {
      const float v = (tmp[size_t(t * n_out + o)] + bias[o]) * scale;
      float& dst = out[t * n_out + o];
      dst = accumulate ? dst + v : v;
    }
  }
}

void linear_dx(const float* dy, const float* W, float* dx, int64_t T, int64_t in, int64_t n_out, float scale,
               bool accumulate, ThreadPool& pool) {
  // A(t, o) = dy[t, o]; B(o, i) = W[o, i]
  gemm(T, in, n_out, MatView{dy, n_out, 1}, MatView{W, in, 1}, dx, in, scale, accumulate, pool);
}

void linear_dw(const float* dy, const float* x, float* dW, int64_t T, int64_t in, int64_t n_out, float scale,
               ThreadPool& pool) {
  // A(o, t) = dy[t, o]; B(t, i) = x[t, i]
  gemm(n_out, in, T, MatView{dy, 1, n_out}, MatView{x, in, 1}, dW, in, scale, true, pool);
}

void bias_grad(const float* dy, float* db, int64_t T, int64_t n, ThreadPool& pool) {
  constexpr int64_t kCols = 64;
  pool.parallel_for((n + kCols - 1) / kCols, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const int64_t c0 = c * kCols, c1 = std::min(n, c0 + kCols);
      float acc[kCols] = {};
      for (int64_t t = 0; t < T; ++t)
        for (int64_t o = c0; o < c1; ++o) acc[o - c0] += dy[t * n + o];
      for (int64_t o = c0; o < c1; ++o) db[o] += acc[o - c0];
    }
  });
}

void rmsnorm_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, int64_t rows, int64_t d,
                      float eps, bool accumulate, ThreadPool& pool) {
  constexpr int64_t kRowsPerBlock = 32;
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  std::vector<float> partial(dw ? size_t(blocks * d) : 0, 0.0f);  // [blocks, d]: dw of each block
  pool.parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
    std::vector<float> g(static_cast<size_t>(d));
    for (int64_t blk = b; blk < e; ++blk) {
      float* pw = dw ? partial.data() + blk * d : nullptr;
      for (int64_t r = blk * kRowsPerBlock; r < std::min(rows, (blk + 1) * kRowsPerBlock); ++r) {
        const float* xr = x + r * d;
        const float* gr = dy + r * d;
        const float inv = 1.0f / std::sqrt(dot(xr, xr, d) / float(d) + eps);
        for (int64_t i = 0; i < d; ++i) g[size_t(i)] = gr[i] * w[i];
        const float mean = dot(g.data(), xr, d) * inv / float(d);
        float* o = dx + r * d;
        for (int64_t i = 0; i < d; ++i) {
          const float xh = xr[i] * inv;
          const float v = inv * (g[size_t(i)] - xh * mean);
          o[i] = accumulate ? o[i] + v : v;
          if (pw) pw[i] += gr[i] * xh;
        }
      }
    }
  });
  if (!dw) return;
  for (int64_t blk = 0; blk < blocks; ++blk)
    for (int64_t i = 0; i < d; ++i) dw[i] += partial[size_t(blk * d + i)];
}

void rope_seqs(float* x, int64_t n_seq, int64_t T, int64_t n_heads, int64_t head_dim, const RopeTable& table,
               bool inverse, ThreadPool& pool) {
  const int64_t half = table.rot_dim / 2;
  std::vector<float> cs(static_cast<size_t>(T * half)), sn(static_cast<size_t>(T * half));  // [T, half]
  for (int64_t t = 0; t < T; ++t) ref::rope_cos_sin(table, t, cs.data() + t * half, sn.data() + t * half);
  const float sign = inverse ? -1.0f : 1.0f;  // the transpose rotates by -angle
  pool.parallel_for(n_seq * T, 16, [&](int64_t b, int64_t e) {
    for (int64_t row = b; row < e; ++row) {
      const float* c = cs.data() + (row % T) * half;
      const float* s = sn.data() + (row % T) * half;
      for (int64_t h = 0; h < n_heads; ++h) {
        float* v = x + (row * n_heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], bb = v[i + half], si = sign * s[i];
          v[i] = a * c[i] - bb * si;
          v[i + half] = bb * c[i] + a * si;
        }
      }
    }
  });
}

void swiglu_backward(const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n,
                     ThreadPool& pool) {
  pool.parallel_for(n, kElementGrain, [&](int64_t b, int64_t e) {
    int64_t i = b;
    const v8f one = splat(1.0f);
    for (; i + 8 <= e; i += 8) {
      const v8f g = load(gate + i), u = load(up + i), d = load(dout + i);
      const v8f sig = one / (one + exp8(-g));
      store(dgate + i, d * u * (sig * (one + g * (one - sig))));
      store(dup + i, d * (g * sig));
    }
    for (; i < e; ++i) {
      const float g = gate[i], u = up[i], d = dout[i];
      const float sig = 1.0f / (1.0f + std::exp(-g));
      dgate[i] = d * u * (sig * (1.0f + g * (1.0f - sig)));
      dup[i] = d * (g * sig);
    }
  });
}

void embed_backward(std::span<const int32_t> ids, const float* dy, float* dE, int64_t d, ThreadPool& pool) {
  constexpr int64_t kCols = 64;
  pool.parallel_for((d + kCols - 1) / kCols, 1, [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const int64_t c0 = c * kCols, c1 = std::min(d, c0 + kCols);
      for (size_t t = 0; t < ids.size(); ++t) {
        float* row = dE + int64_t(ids[t]) * d;
        const float* src = dy + int64_t(t) * d;
        for (int64_t i = c0; i < c1; ++i) row[i] += src[i];
      }
    }
  });
}

void cross_entropy(const float* logits, std::span<const int32_t> targets, float* loss, float* dlogits, int64_t rows,
                   int64_t V, float grad_scale, ThreadPool& pool) {
  pool.parallel_for(rows, std::max<int64_t>(1, 65536 / std::max<int64_t>(V, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const float* l = logits + r * V;
      float* dl = dlogits + r * V;
      const int32_t target = targets[size_t(r)];
      if (target < 0) {
        loss[r] = 0.0f;
        std::fill(dl, dl + V, 0.0f);
        continue;
      }
      const float mx = *std::max_element(l, l + V);
      const float picked = l[target];
      const float sum = exp_shifted(l, mx, dl, V);  // dl may be l: each block is read before it is written
      loss[r] = mx + std::log(sum) - picked;
      const float k = grad_scale / sum;
      for (int64_t i = 0; i < V; ++i) dl[i] *= k;
      dl[target] -= grad_scale;
    }
  });
}

void adamw(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWStep& s, ThreadPool& pool) {
  pool.parallel_for(n, kElementGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const float g = grad[i] * s.grad_scale;
      const float p = param[i] * s.decay;
      const float mi = m[i] * s.beta1 + s.one_minus_beta1 * g;
      const float vi = v[i] * s.beta2 + s.one_minus_beta2 * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = p + (-s.step_size * mi) / (std::sqrt(vi) / s.bias2_sqrt + s.eps);
    }
  });
}

double sum_squares(const float* x, int64_t n, ThreadPool& pool) {
  constexpr int64_t kBlock = 16384;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> partial(size_t(blocks), 0.0);
  pool.parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
    for (int64_t blk = b; blk < e; ++blk) {
      double acc = 0;
      for (int64_t i = blk * kBlock; i < std::min(n, (blk + 1) * kBlock); ++i) acc += double(x[i]) * double(x[i]);
      partial[size_t(blk)] = acc;
    }
  });
  double total = 0;
  for (double p : partial) total += p;
  return total;
}

}  // namespace hearth::cpu
