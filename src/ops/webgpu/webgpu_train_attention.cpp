// WebGpuBackend's attention for training: the forward is the prefill flash attention
// (attention_prefill*.wgsl) over independent sequences, keeping each row's log-sum-exp; the
// backward recomputes the probabilities from it tile by tile (flash-style, workgroup memory of
// a few tiles whatever the sequence length) in three passes: delta = dout . out
// (attention_backward_delta.wgsl), dq per query tile (attention_backward_dq.wgsl), dk and dv
// per key tile, summed over the heads of each KV head (attention_backward_dkdv.wgsl). No pass
// needs atomics or a [T, T] matrix.
#include <algorithm>

#include "ops/webgpu/kernel_params.h"
#include "ops/webgpu/webgpu_backend.h"
#include "ops/webgpu/webgpu_util.h"

namespace hearth {

using webgpu::cb;
using webgpu::ceil_div;
using webgpu::cu;
using webgpu::DispatchDesc;
using webgpu::u32;

namespace {

constexpr int64_t kBackwardWg = 64;

struct Tiles {
  int64_t bq = 0, bk = 0;
};

// The largest query / key tiles whose workgroup memory (the larger of the two passes': q, dout,
// k and v rows of D + 1 floats, the tile's probabilities and ds, lse and delta) fits `bytes`.
Tiles backward_tiles(int64_t D, uint64_t bytes) {
  const Tiles candidates[] = {{16, 16}, {16, 8}, {8, 8}, {8, 4}, {4, 4}, {2, 2}, {1, 1}};
  for (const Tiles& t : candidates) {
    const int64_t floats = (2 * t.bk + 2 * t.bq) * (D + 1) + 2 * t.bq * t.bk + 2 * t.bq;
    if (uint64_t(floats) * 4 <= bytes) return t;
  }
  return {};
}

}  // namespace

void WebGpuBackend::attention_train(Buf q, Buf k, Buf v, Buf out, Buf lse, int64_t n_seq, int64_t T,
                                    const AttentionShape& s) {
  if (n_seq <= 0 || T <= 0) return;
  if (s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0) {
    fail(err("WebGPU attention: ", s.n_heads, " heads are not a multiple of ", s.n_kv_heads, " KV heads"));
    return;
  }
  attention_prefill(q, k, v, out, T, 0, s, &lse, n_seq);
}

void WebGpuBackend::attention_backward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dout, Buf dq, Buf dk, Buf dv,
                                       int64_t n_seq, int64_t T, const AttentionShape& s) {
  if (n_seq <= 0 || T <= 0) return;
  const int64_t H = s.n_heads, KV = s.n_kv_heads, D = s.head_dim, rows = n_seq * T;
  if (KV <= 0 || H % KV != 0) {
    fail(err("WebGPU attention: ", H, " heads are not a multiple of ", KV, " KV heads"));
    return;
  }
  const Tiles tiles = backward_tiles(D, info_.max_workgroup_storage);
  if (!tiles.bq) {
    fail(err("WebGPU attention backward: head_dim ", D, " does not fit the device's workgroup memory"));
    return;
  }
  // Scratch: the log-sum-exps, then the deltas, [rows, H] each.
  ensure_scratch(train_scratch_, train_scratch_cap_, 2 * rows * H);
  webgpu::AttentionBackwardParams p;
  p.q_off = u32(q.offset);
  p.k_off = u32(k.offset);
  p.v_off = u32(v.offset);
  p.o_off = u32(out.offset);
  p.do_off = u32(dout.offset);
  p.lse_off = u32(lse.offset);
  p.dq_off = u32(dq.offset);
  p.dk_off = u32(dk.offset);
  p.dv_off = u32(dv.offset);
  p.aux_off = u32(train_scratch_.offset);
  p.delta_off = u32(train_scratch_.offset + rows * H);
  p.rows = u32(rows);
  p.T = u32(T);
  p.H = u32(H);
  p.KV = u32(KV);
  p.window = u32(std::max<int64_t>(0, s.window));
  p.scale = s.scale;
  const uint32_t aux = gpu(train_scratch_);

  DispatchDesc delta;
  delta.shader = {"attention_backward_delta", false, "", false, cu("WG", 64) + cu("D", uint64_t(D))};
  delta.operands = {{"out", gpu(out)}, {"dout", gpu(dout)}, {"lse", gpu(lse)}, {"aux", aux, true}};
  delta.set_params(p);
  rec_.grid(uint64_t(ceil_div(rows * H, 64)), &delta.x, &delta.y);
  rec_.dispatch(delta);

  const webgpu::Consts consts = cu("WG", kBackwardWg) + cu("D", uint64_t(D)) + cu("BQ", uint64_t(tiles.bq)) +
                                cu("BK", uint64_t(tiles.bk));
  DispatchDesc dqd;
  dqd.shader = {"attention_backward_dq", false, "", false, consts};
  dqd.operands = {{"q", gpu(q)}, {"k", gpu(k)}, {"v", gpu(v)}, {"dout", gpu(dout)}, {"aux", aux}, {"dq", gpu(dq), true}};
  dqd.set_params(p);
  dqd.x = u32(ceil_div(T, tiles.bq));
  dqd.y = u32(H);
  dqd.z = u32(n_seq);
  rec_.dispatch(dqd);

  DispatchDesc kvd;
  kvd.shader = {"attention_backward_dkdv", false, "", false, consts};
  kvd.operands = {{"q", gpu(q)},   {"k", gpu(k)},         {"v", gpu(v)},         {"dout", gpu(dout)},
                  {"aux", aux},    {"dk", gpu(dk), true}, {"dv", gpu(dv), true}};
  kvd.set_params(p);
  kvd.x = u32(ceil_div(T, tiles.bk));
  kvd.y = u32(KV);
  kvd.z = u32(n_seq);
  rec_.dispatch(kvd);
}

}  // namespace hearth
