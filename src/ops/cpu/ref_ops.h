// Scalar reference ops: the oracle for the SIMD and WGSL kernels. Plain loops, no threads.
// Shapes as in ops/backend.h. rmsnorm, rope and swiglu are templates on the scalar type
// (float and double are instantiated): the training step's finite-difference checks run them
// in double (ops/cpu/ref_train.h has the backward ops).
#pragma once
#include <cstdint>
#include <span>

#include "ops/backend.h"
#include "ops/qmatrix.h"

namespace hearth::ref {

// The device sampler's semantics (Backend::sample), for n = logits.size():
//  - penalties as Sampler's (pen: [n] prompt flags, [n] generated counts; may be null);
//    NaN -> -inf. temperature <= 0, top_k == 1 or all -inf: the argmax (lowest id on ties).
//  - w = exp((l - max) / T); fixed-point weights q = round(w * 2^31), summed exactly.
//  - tokens ranked by (logit desc, id asc); top-k keeps the first k; top-p keeps the shortest
//    prefix of those whose mass reaches top_p * their mass (sums compared as floats);
//    min-p drops w < min_p.
//  - the draw: U = u * (kept mass) (float, then to an integer), the first kept token in id
//    order whose running mass exceeds U; none (rounding): the argmax.
int32_t sample_device(std::span<const float> logits, const SamplingParams& s, float u, const float* pen);

// out: [T, d]
void embed(const QMatrix& E, std::span<const int32_t> ids, float* out);
// x, out: [rows, d]
template <class F>
void rmsnorm(const F* x, const F* w, F* out, int64_t rows, int64_t d, float eps);
// x: [T, in], W: [out, in], out: [T, out]. Q8_0 / Q4_0 weights: each row of x is quantized to
// Q8_0 blocks (ggml's reference quantizer); each block's integer dot product times the float
// d_w * d_x (exact in double) is added to lane b % 8 of 8 double accumulators, and
// out = float(((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7))) + bias: the arithmetic of ggml's
// Q8_0 x Q8_0 and Q4_0 x Q8_0 dot products, summed in double in the order SIMD lanes take.
void matmul(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T);
// x: [T, n_heads, head_dim] in place
template <class F>
void rope(F* x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table);
// cos/sin for one position: cos[i], sin[i] for i < rot_dim / 2 (scaled by attention_scaling)
void rope_cos_sin(const RopeTable& table, int64_t pos, float* cos_out, float* sin_out);
// q: [T, H, D]; k, v: [ctx, KV, D]; out: [T, H, D]
void attention(const float* q, const float* k, const float* v, float* out, int64_t T, int64_t pos0, const AttentionShape& s);
template <class F>
void swiglu(const F* gate, const F* up, F* out, int64_t n);
void add(float* x, const float* y, int64_t n);

inline float silu(float x) { return x / (1.0f + __builtin_expf(-x)); }
inline double silu(double x) { return x / (1.0 + __builtin_exp(-x)); }

}  // namespace hearth::ref
