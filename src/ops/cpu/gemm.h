// A general f32 matrix product for the training ops: C[M, N] (+)= alpha * A[M, K] B[K, N], with A
// and B given as strided views, so that x W^T, dy W and dy^T x are one routine. Panels of A and
// B are packed and multiplied by a register-blocked kernel; every element of C is summed in the
// same order whatever the thread count (results do not depend on it).
#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace hearth::cpu {

// Element (r, c) is p[r * row_stride + c * col_stride].
struct MatView {
  const float* p = nullptr;
  int64_t row_stride = 0, col_stride = 0;
};

// C: [M, N] row-major with leading dimension ldc. accumulate: C += alpha * A B, else C = alpha * A B.
void gemm(int64_t M, int64_t N, int64_t K, MatView A, MatView B, float* C, int64_t ldc, float alpha, bool accumulate,
          ThreadPool& pool);

}  // namespace hearth::cpu
