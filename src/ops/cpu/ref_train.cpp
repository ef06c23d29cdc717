// Scalar references of the training ops (see ref_train.h). Written for clarity, not speed.
#include "ops/cpu/ref_train.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "ops/cpu/ref_ops.h"

namespace hearth::ref {

template <class F>
void linear(const F* x, const F* W, const F* bias, F* out, int64_t T, int64_t in, int64_t n_out, float scale,
            bool accumulate) {
  for (int64_t t = 0; t < T; ++t) {
    for (int64_t o = 0; o < n_out; ++o) {
      F acc = 0;
      for (int64_t i = 0; i < in; ++i) acc += x[t * in + i] * W[o * in + i];
      if (bias) acc += bias[o];
      acc *= F(scale);
      F& dst = out[t * n_out + o];
      dst = accumulate ? dst + acc : acc;
    }
  }
}

template <class F>
void linear_dx(const F* dy, const F* W, F* dx, int64_t T, int64_t in, int64_t n_out, float scale, bool accumulate) {
  std::vector<F> acc(static_cast<size_t>(in));  // each element summed over o in order
  for (int64_t t = 0; t < T; ++t) {
    std::fill(acc.begin(), acc.end(), F(0));
    for (int64_t o = 0; o < n_out; ++o)
      for (int64_t i = 0; i < in; ++i) acc[size_t(i)] += dy[t * n_out + o] * W[o * in + i];
    for (int64_t i = 0; i < in; ++i) {
      F& dst = dx[t * in + i];
      dst = accumulate ? dst + acc[size_t(i)] * F(scale) : acc[size_t(i)] * F(scale);
    }
  }
}

template <class F>
void linear_dw(const F* dy, const F* x, F* dW, int64_t T, int64_t in, int64_t n_out, float scale) {
  std::vector<F> acc(static_cast<size_t>(in));  // each element summed over t in order
  for (int64_t o = 0; o < n_out; ++o) {
    std::fill(acc.begin(), acc.end(), F(0));
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < in; ++i) acc[size_t(i)] += dy[t * n_out + o] * x[t * in + i];
    for (int64_t i = 0; i < in; ++i) dW[o * in + i] += acc[size_t(i)] * F(scale);
  }
}

template <class F>
void bias_grad(const F* dy, F* db, int64_t T, int64_t n) {
  for (int64_t o = 0; o < n; ++o) {
    F acc = 0;
    for (int64_t t = 0; t < T; ++t) acc += dy[t * n + o];
    db[o] += acc;
  }
}

void matmul_dx(const float* dy, const QMatrix& W, float* dx, int64_t T, bool accumulate) {
  std::vector<float> w(size_t(W.rows * W.cols));
  for (int64_t o = 0; o < W.rows; ++o) W.dequant_row(o, w.data() + o * W.cols);
  linear_dx(dy, w.data(), dx, T, W.cols, W.rows, 1.0f, accumulate);
}

template <class F>
void rmsnorm_backward(const F* x, const F* w, const F* dy, F* dx, F* dw, int64_t rows, int64_t d, float eps,
                      bool accumulate) {
  for (int64_t r = 0; r < rows; ++r) {
    const F* xr = x + r * d;
    const F* gr = dy + r * d;
    F ss = 0;
    for (int64_t i = 0; i < d; ++i) ss += xr[i] * xr[i];
    const F inv = F(1) / std::sqrt(ss / F(d) + F(eps));
    F dot = 0;  // sum_i g_i xh_i
    for (int64_t i = 0; i < d; ++i) dot += gr[i] * w[i] * (xr[i] * inv);
    const F mean = dot / F(d);
    for (int64_t i = 0; i < d; ++i) {
      const F xh = xr[i] * inv;
      const F g = inv * (gr[i] * w[i] - xh * mean);
      F& dst = dx[r * d + i];
      dst = accumulate ? dst + g : g;
      if (dw) dw[i] += gr[i] * xh;
    }
  }
}

template <class F>
void rope_backward(F* dx, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) {
  const int64_t half = table.rot_dim / 2;
  std::vector<float> c(static_cast<size_t>(half)), s(static_cast<size_t>(half));
  for (int64_t t = 0; t < T; ++t) {
    rope_cos_sin(table, pos0 + t, c.data(), s.data());
    for (int64_t h = 0; h < n_heads; ++h) {
      F* v = dx + (t * n_heads + h) * head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const F a = v[i], b = v[i + half];
        v[i] = a * F(c[size_t(i)]) + b * F(s[size_t(i)]);
        v[i + half] = b * F(c[size_t(i)]) - a * F(s[size_t(i)]);
      }
    }
  }
}

namespace {

// The keys that query position t of a sequence sees: [first, t].
int64_t first_key(int64_t t, const AttentionShape& s) { return s.window > 0 ? std::max<int64_t>(0, t - s.window + 1) : 0; }

template <class F>
F dot(const F* a, const F* b, int64_t n) {
  F acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += a[i] * b[i];
  return acc;
}

}  // namespace

template <class F>
void attention_train(const F* q, const F* k, const F* v, F* out, F* lse, int64_t n_seq, int64_t T,
                     const AttentionShape& s) {
  const int64_t H = s.n_heads, KV = s.n_kv_heads, D = s.head_dim, group = H / KV;
  std::vector<F> p;
  for (int64_t b = 0; b < n_seq; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = b * T + t, first = first_key(t, s);
      for (int64_t h = 0; h < H; ++h) {
        const F* qh = q + (row * H + h) * D;
        const int64_t kvh = h / group;
        p.assign(size_t(t - first + 1), F(0));
        F mx = -INFINITY;
        for (int64_t j = first; j <= t; ++j) {
          p[size_t(j - first)] = dot(qh, k + ((b * T + j) * KV + kvh) * D, D) * F(s.scale);
          mx = std::max(mx, p[size_t(j - first)]);
        }
        F sum = 0;
        for (F& e : p) sum += std::exp(e - mx);
        const F l = mx + std::log(sum);
        lse[row * H + h] = l;
        F* oh = out + (row * H + h) * D;
        std::fill(oh, oh + D, F(0));
        for (int64_t j = first; j <= t; ++j) {
          const F w = std::exp(p[size_t(j - first)] - l);
          const F* vj = v + ((b * T + j) * KV + kvh) * D;
          for (int64_t i = 0; i < D; ++i) oh[i] += w * vj[i];
        }
      }
    }
  }
}

template <class F>
void attention_backward(const F* q, const F* k, const F* v, const F* out, const F* lse, const F* dout, F* dq,
                        F* dk, F* dv, int64_t n_seq, int64_t T, const AttentionShape& s) {
  const int64_t H = s.n_heads, KV = s.n_kv_heads, D = s.head_dim, group = H / KV;
  std::fill(dq, dq + n_seq * T * H * D, F(0));
  std::fill(dk, dk + n_seq * T * KV * D, F(0));
  std::fill(dv, dv + n_seq * T * KV * D, F(0));
  const F scale = F(s.scale);
  for (int64_t b = 0; b < n_seq; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      const int64_t row = b * T + t;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t kvh = h / group;
        const F* qh = q + (row * H + h) * D;
        const F* doh = dout + (row * H + h) * D;
        const F delta = dot(doh, out + (row * H + h) * D, D);
        F* dqh = dq + (row * H + h) * D;
        for (int64_t j = first_key(t, s); j <= t; ++j) {
          const int64_t kr = ((b * T + j) * KV + kvh) * D;
          const F p = std::exp(dot(qh, k + kr, D) * scale - lse[row * H + h]);
          const F ds = p * (dot(doh, v + kr, D) - delta);
          for (int64_t i = 0; i < D; ++i) {
            dv[kr + i] += p * doh[i];
            dqh[i] += scale * ds * k[kr + i];
            dk[kr + i] += scale * ds * qh[i];
          }
        }
      }
    }
  }
}

template <class F>
void swiglu_backward(const F* gate, const F* up, const F* dout, F* dgate, F* dup, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const F g = gate[i], u = up[i], d = dout[i];
    const F sig = F(1) / (F(1) + std::exp(-g));
    const F silu = g * sig;
    dgate[i] = d * u * (sig * (F(1) + g * (F(1) - sig)));
    dup[i] = d * silu;
  }
}

template <class F>
void embed_rows(const F* E, std::span<const int32_t> ids, F* out, int64_t d) {
  for (size_t t = 0; t < ids.size(); ++t) std::copy(E + ids[t] * d, E + (ids[t] + 1) * d, out + int64_t(t) * d);
}

template <class F>
void embed_backward(std::span<const int32_t> ids, const F* dy, F* dE, int64_t d) {
  for (size_t t = 0; t < ids.size(); ++t) {
    for (int64_t i = 0; i < d; ++i) dE[ids[t] * d + i] += dy[int64_t(t) * d + i];
  }
}

template <class F>
void cross_entropy(const F* logits, std::span<const int32_t> targets, F* loss, F* dlogits, int64_t rows, int64_t V,
                   float grad_scale) {
  for (int64_t r = 0; r < rows; ++r) {
    const F* l = logits + r * V;
    F* dl = dlogits + r * V;
    const int32_t target = targets[size_t(r)];
    if (target < 0) {
      loss[r] = 0;
      std::fill(dl, dl + V, F(0));
      continue;
    }
    const F mx = *std::max_element(l, l + V);
    F sum = 0;
    for (int64_t i = 0; i < V; ++i) sum += std::exp(l[i] - mx);
    const F lse = mx + std::log(sum);
    loss[r] = lse - l[target];
    for (int64_t i = 0; i < V; ++i) dl[i] = (std::exp(l[i] - lse) - F(i == target ? 1 : 0)) * F(grad_scale);
  }
}

void adamw(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWStep& s) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = grad[i] * s.grad_scale;
    param[i] = param[i] * s.decay;
    m[i] = m[i] * s.beta1 + s.one_minus_beta1 * g;
    v[i] = v[i] * s.beta2 + s.one_minus_beta2 * g * g;
    const float denom = std::sqrt(v[i]) / s.bias2_sqrt + s.eps;
    param[i] = param[i] + (-s.step_size * m[i]) / denom;
  }
}

double sum_squares(const float* x, int64_t n) {
  double acc = 0;
  for (int64_t i = 0; i < n; ++i) acc += double(x[i]) * double(x[i]);
  return acc;
}

#define HEARTH_REF_TRAIN_INSTANTIATE(F)                                                                          \
  template void linear<F>(const F*, const F*, const F*, F*, int64_t, int64_t, int64_t, float, bool);              \
  template void linear_dx<F>(const F*, const F*, F*, int64_t, int64_t, int64_t, float, bool);                     \
  template void linear_dw<F>(const F*, const F*, F*, int64_t, int64_t, int64_t, float);                           \
  template void bias_grad<F>(const F*, F*, int64_t, int64_t);                                                      \
  template void rmsnorm_backward<F>(const F*, const F*, const F*, F*, F*, int64_t, int64_t, float, bool);          \
  template void rope_backward<F>(F*, int64_t, int64_t, int64_t, int64_t, const RopeTable&);                        \
  template void attention_train<F>(const F*, const F*, const F*, F*, F*, int64_t, int64_t, const AttentionShape&); \
  template void attention_backward<F>(const F*, const F*, const F*, const F*, const F*, const F*, F*, F*, F*,     \
                                      int64_t, int64_t, const AttentionShape&);                                    \
  template void swiglu_backward<F>(const F*, const F*, const F*, F*, F*, int64_t);                                 \
  template void embed_rows<F>(const F*, std::span<const int32_t>, F*, int64_t);                                    \
  template void embed_backward<F>(std::span<const int32_t>, const F*, F*, int64_t);                                \
  template void cross_entropy<F>(const F*, std::span<const int32_t>, F*, F*, int64_t, int64_t, float);
HEARTH_REF_TRAIN_INSTANTIATE(float)
HEARTH_REF_TRAIN_INSTANTIATE(double)
#undef HEARTH_REF_TRAIN_INSTANTIATE

}  // namespace hearth::ref
