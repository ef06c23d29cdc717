// The matrix product of gemm.h. C is computed in tiles of MR x NR by a kernel that keeps the
// tile in registers: for each k one row of a packed B panel (NR floats) is loaded and each of
// the MR values of A (read in place, through its strides) is broadcast against it. K is split
// into blocks of KC = 64 whose partial sums are added to C in order: shorter sequential sums
// round less (the fixture's 16-step PyTorch pretraining run is matched within 5e-4 of each
// tensor's largest weight with blocks of 32 to 128, within 1.7e-3 with 256). N is split into
// blocks of NC; tasks take blocks of MC rows of A (and parts of N when there are few row
// blocks). Sums run over k in order within a K block and over K blocks in order, so a thread
// count changes no result.
#include "ops/cpu/gemm.h"

#include <algorithm>
#include <vector>

#include "ops/cpu/simd.h"

namespace hearth::cpu {

using namespace simd;

namespace {

#if defined(__AVX2__)
constexpr int kMR = 6, kNV = 2;  // 6 x 16: 12 accumulators of 16 ymm registers
#else
constexpr int kMR = 4, kNV = 1;  // wasm simd128: a v8f is two registers
#endif
constexpr int kNR = 8 * kNV;
constexpr int64_t kKC = 64, kMC = kMR * 16, kNC = 2048;

// c[0..mr, 0..nr) (+)= alpha * (A . bp) over kc, where row r of A is read from a + r * rs with
// consecutive k cs apart (A is not packed: either stride works), and bp: [kc][kNR].
void kernel(int64_t kc, const float* a, int64_t rs, int64_t cs, const float* bp, float* c, int64_t ldc, int mr, int nr,
            float alpha, bool overwrite) {
  const float* rows[kMR];
  for (int r = 0; r < kMR; ++r) rows[r] = a + (r < mr ? r : 0) * rs;  // rows past mr read row 0 and are not stored
  v8f acc[kMR][kNV];
  for (int r = 0; r < kMR; ++r)
    for (int j = 0; j < kNV; ++j) acc[r][j] = zero();
  for (int64_t k = 0; k < kc; ++k) {
    v8f b[kNV];
    for (int j = 0; j < kNV; ++j) b[j] = load(bp + k * kNR + 8 * j);
    for (int r = 0; r < kMR; ++r) {
      const v8f av = splat(rows[r][k * cs]);
      for (int j = 0; j < kNV; ++j) acc[r][j] += av * b[j];
    }
  }
  const v8f av = splat(alpha);
  if (mr == kMR && nr == kNR) {
    for (int r = 0; r < kMR; ++r) {
      for (int j = 0; j < kNV; ++j) {
        float* cp = c + r * ldc + 8 * j;
        const v8f v = acc[r][j] * av;
        store(cp, overwrite ? v : load(cp) + v);
      }
    }
    return;
  }
  float tile[kMR][kNR];
  for (int r = 0; r < kMR; ++r)
    for (int j = 0; j < kNV; ++j) store(&tile[r][8 * j], acc[r][j] * av);
  for (int r = 0; r < mr; ++r) {
    for (int q = 0; q < nr; ++q) {
      float& dst = c[r * ldc + q];
      dst = overwrite ? tile[r][q] : dst + tile[r][q];
    }
  }
}

// Packs panel `p` (columns n0 + p * kNR ..) x k [k0, k0 + kc) of B: [k][c].
void pack_b_panel(const MatView& B, int64_t n_end, int64_t n, int64_t k0, int64_t kc, float* panel) {
  const int nr = int(std::min<int64_t>(kNR, n_end - n));
  if (B.col_stride == 1) {
    for (int64_t k = 0; k < kc; ++k) {
      const float* src = B.p + (k0 + k) * B.row_stride + n;
      float* dst = panel + k * kNR;
      for (int q = 0; q < nr; ++q) dst[q] = src[q];
      for (int q = nr; q < kNR; ++q) dst[q] = 0.0f;
    }
    return;
  }
  for (int q = 0; q < kNR; ++q) {
    if (q >= nr) {
      for (int64_t k = 0; k < kc; ++k) panel[k * kNR + q] = 0.0f;
      continue;
    }
    const float* src = B.p + k0 * B.row_stride + (n + q) * B.col_stride;
    for (int64_t k = 0; k < kc; ++k) panel[k * kNR + q] = src[k * B.row_stride];
  }
}

}  // namespace

void gemm(int64_t M, int64_t N, int64_t K, MatView A, MatView B, float* C, int64_t ldc, float alpha, bool accumulate,
          ThreadPool& pool) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (int64_t m = 0; m < M; ++m) std::fill(C + m * ldc, C + m * ldc + N, 0.0f);
    return;
  }
  std::vector<float> bpack;
  for (int64_t n0 = 0; n0 < N; n0 += kNC) {
    const int64_t nc = std::min(kNC, N - n0), panels = (nc + kNR - 1) / kNR;
    for (int64_t k0 = 0; k0 < K; k0 += kKC) {
      const int64_t kc = std::min(kKC, K - k0);
      bpack.resize(size_t(panels * kc * kNR));
      pool.parallel_for(panels, std::max<int64_t>(1, 4096 / kc), [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) pack_b_panel(B, n0 + nc, n0 + p * kNR, k0, kc, bpack.data() + p * kc * kNR);
      });
      const bool overwrite = k0 == 0 && !accumulate;
      const int64_t mblocks = (M + kMC - 1) / kMC;
      const int64_t chunks = std::clamp<int64_t>((2 * pool.size() + mblocks - 1) / mblocks, 1, panels);
      const int64_t per_chunk = (panels + chunks - 1) / chunks;
      pool.parallel_for(mblocks * chunks, 1, [&](int64_t b, int64_t e) {
        for (int64_t task = b; task < e; ++task) {
          const int64_t mb = task / chunks, ch = task % chunks;
          const int64_t m0 = mb * kMC, mc = std::min(kMC, M - m0);
          const int64_t p_begin = ch * per_chunk, p_end = std::min(panels, p_begin + per_chunk);
          if (p_begin >= p_end) continue;
          for (int64_t p = p_begin; p < p_end; ++p) {
            const int64_t n = n0 + p * kNR;
            const int nr = int(std::min<int64_t>(kNR, N - n));
            for (int64_t r0 = 0; r0 < mc; r0 += kMR) {
              const int mr = int(std::min<int64_t>(kMR, mc - r0));
              kernel(kc, A.p + (m0 + r0) * A.row_stride + k0 * A.col_stride, A.row_stride, A.col_stride,
                     bpack.data() + p * kc * kNR, C + (m0 + r0) * ldc + n, ldc, mr, nr, alpha, overwrite);
            }
          }
        }
      });
    }
  }
}

}  // namespace hearth::cpu
