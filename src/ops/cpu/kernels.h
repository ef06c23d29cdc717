// Fast CPU kernels (SIMD, split over a thread pool). Same semantics as ref_ops.h.
#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "ops/backend.h"
#include "ops/qmatrix.h"

namespace hearth::cpu {

// x: [T, in], W: [out, in], out: [T, out]
void matmul(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T, ThreadPool& pool);
// The same for Q8_0 / Q4_0 weights (matmul_blocks.cpp; matmul dispatches to it).
void matmul_blocks(const float* x, const QMatrix& W, const float* bias, float* out, int64_t T, ThreadPool& pool);
// q: [T, H, D]; k, v: [ctx, KV, D]; out: [T, H, D]
void attention(const float* q, const float* k, const float* v, float* out, int64_t T, int64_t pos0,
               const AttentionShape& s, ThreadPool& pool);
void rmsnorm(const float* x, const float* w, float* out, int64_t rows, int64_t d, float eps, ThreadPool& pool);

}  // namespace hearth::cpu
