// Scalar references of the training ops (Backend's "training" section): the forward ops the
// training step adds, every backward op, the loss and AdamW. Plain loops, no threads. The
// templates are instantiated for float (the oracle of the CPU and GPU kernels) and double (the
// finite-difference checks of tests/train_ops_test.cpp). Shapes as in ops/backend.h.
#pragma once
#include <cstdint>
#include <span>

#include "ops/backend.h"
#include "ops/qmatrix.h"

namespace hearth::ref {

// out[t, o] (+)= scale * (sum_i x[t, i] W[o, i] + bias[o]); x: [T, in], W: [n_out, in]
template <class F>
void linear(const F* x, const F* W, const F* bias, F* out, int64_t T, int64_t in, int64_t n_out, float scale,
            bool accumulate);
// dx[t, i] (+)= scale * sum_o dy[t, o] W[o, i]; dy: [T, n_out], dx: [T, in]
template <class F>
void linear_dx(const F* dy, const F* W, F* dx, int64_t T, int64_t in, int64_t n_out, float scale, bool accumulate);
// dW[o, i] += scale * sum_t dy[t, o] x[t, i]
template <class F>
void linear_dw(const F* dy, const F* x, F* dW, int64_t T, int64_t in, int64_t n_out, float scale);
// db[o] += sum_t dy[t, o]; dy: [T, n]
template <class F>
void bias_grad(const F* dy, F* db, int64_t T, int64_t n);
// dx[t, i] (+)= sum_o dy[t, o] dequant(W)[o, i]; dy: [T, W.rows], dx: [T, W.cols]
void matmul_dx(const float* dy, const QMatrix& W, float* dx, int64_t T, bool accumulate);
// Backward of ref::rmsnorm: with r = rsqrt(mean(x^2) + eps), xh = x r, g = dy w:
// dx (+)= r (g - xh mean(g xh)); dw += sum over rows of dy xh (dw may be null).
template <class F>
void rmsnorm_backward(const F* x, const F* w, const F* dy, F* dx, F* dw, int64_t rows, int64_t d, float eps,
                      bool accumulate);
// Transpose of ref::rope on dx: [T, n_heads, head_dim] in place.
template <class F>
void rope_backward(F* dx, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table);
// q, out: [n_seq * T, H, D]; k, v: [n_seq * T, KV, D]; lse: [n_seq * T, H]
template <class F>
void attention_train(const F* q, const F* k, const F* v, F* out, F* lse, int64_t n_seq, int64_t T,
                     const AttentionShape& s);
// With p = exp(scale q.k - lse) and delta = dout . out per row:
// dv_j = sum_t p_tj dout_t; ds_tj = p_tj (dout_t . v_j - delta_t); dq_t = scale sum_j ds_tj k_j;
// dk_j = scale sum_t ds_tj q_t (summed over the heads that share a KV head). Writes dq, dk, dv.
template <class F>
void attention_backward(const F* q, const F* k, const F* v, const F* out, const F* lse, const F* dout, F* dq,
                        F* dk, F* dv, int64_t n_seq, int64_t T, const AttentionShape& s);
// dgate = dout * up * silu'(gate), dup = dout * silu(gate); in place allowed.
template <class F>
void swiglu_backward(const F* gate, const F* up, const F* dout, F* dgate, F* dup, int64_t n);
// out[t, :] = E[ids[t], :]
template <class F>
void embed_rows(const F* E, std::span<const int32_t> ids, F* out, int64_t d);
// dE[ids[t], :] += dy[t, :]
template <class F>
void embed_backward(std::span<const int32_t> ids, const F* dy, F* dE, int64_t d);
// loss[r] = logsumexp(logits[r]) - logits[r, target]; dlogits = (softmax - onehot) * grad_scale
// (dlogits may be logits). Negative targets: loss 0, gradient 0.
template <class F>
void cross_entropy(const F* logits, std::span<const int32_t> targets, F* loss, F* dlogits, int64_t rows, int64_t V,
                   float grad_scale);
// One AdamW step (see AdamWStep), in f32.
void adamw(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWStep& s);
// sum_i x[i]^2 in f64
double sum_squares(const float* x, int64_t n);

}  // namespace hearth::ref
