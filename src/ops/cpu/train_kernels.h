// Threaded CPU kernels of the training ops (Backend's "training" section). Same semantics as the
// scalar references in ref_train.h; each result is independent of the thread count (reductions
// run over fixed blocks in a fixed order).
#pragma once
#include <cstdint>
#include <span>

#include "core/thread_pool.h"
#include "ops/backend.h"

namespace hearth::cpu {

// x: [T, in], W: [n_out, in], bias: [n_out] or null, out: [T, n_out]
void linear(const float* x, const float* W, const float* bias, float* out, int64_t T, int64_t in, int64_t n_out,
            float scale, bool accumulate, ThreadPool& pool);
// dy: [T, n_out], W: [n_out, in], dx: [T, in]
void linear_dx(const float* dy, const float* W, float* dx, int64_t T, int64_t in, int64_t n_out, float scale,
               bool accumulate, ThreadPool& pool);
// dW: [n_out, in] += scale * dy^T x
void linear_dw(const float* dy, const float* x, float* dW, int64_t T, int64_t in, int64_t n_out, float scale,
               ThreadPool& pool);
// db: [n] += column sums of dy: [T, n]
void bias_grad(const float* dy, float* db, int64_t T, int64_t n, ThreadPool& pool);
void rmsnorm_backward(const float* x, const float* w, const float* dy, float* dx, float* dw, int64_t rows, int64_t d,
                      float eps, bool accumulate, ThreadPool& pool);
// x: [n_seq * T, n_heads, head_dim]; positions 0..T-1 in each sequence
void rope_seqs(float* x, int64_t n_seq, int64_t T, int64_t n_heads, int64_t head_dim, const RopeTable& table,
               bool inverse, ThreadPool& pool);
void attention_train(const float* q, const float* k, const float* v, float* out, float* lse, int64_t n_seq, int64_t T,
                     const AttentionShape& s, ThreadPool& pool);
void attention_backward(const float* q, const float* k, const float* v, const float* out, const float* lse,
                        const float* dout, float* dq, float* dk, float* dv, int64_t n_seq, int64_t T,
                        const AttentionShape& s, ThreadPool& pool);
void swiglu_backward(const float* gate, const float* up, const float* dout, float* dgate, float* dup, int64_t n,
                     ThreadPool& pool);
void embed_backward(std::span<const int32_t> ids, const float* dy, float* dE, int64_t d, ThreadPool& pool);
void cross_entropy(const float* logits, std::span<const int32_t> targets, float* loss, float* dlogits, int64_t rows,
                   int64_t V, float grad_scale, ThreadPool& pool);
void adamw(float* param, const float* grad, float* m, float* v, int64_t n, const AdamWStep& s, ThreadPool& pool);
double sum_squares(const float* x, int64_t n, ThreadPool& pool);

}  // namespace hearth::cpu
