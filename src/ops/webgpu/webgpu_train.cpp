// WebGpuBackend's training ops (Backend's "training" section; scalar semantics in
// ops/cpu/ref_train.h): the three products of a linear layer and the input gradient through a
// frozen uploaded matrix as one tiled kernel (matmul_train.wgsl), column sums for bias and norm
// weight gradients (colsum.wgsl), the rmsnorm, RoPE and SwiGLU backwards, the trained
// embedding's lookup and gradient, cross-entropy, AdamW, squared sums and fills. Token ids go
// to the kernels in their parameters. Attention: webgpu_train_attention.cpp.
#include <algorithm>
#include <numeric>

#include "ops/webgpu/kernel_params.h"
#include "ops/webgpu/webgpu_backend.h"
#include "ops/webgpu/webgpu_util.h"

namespace hearth {

using webgpu::cb;
using webgpu::ceil_div;
using webgpu::cu;
using webgpu::DispatchDesc;
using webgpu::format_key;
using webgpu::u32;

namespace {
constexpr int64_t kTile = 64;            // matmul_train.wgsl's tile of C
constexpr int64_t kKBlock = 64;          // its blocks of k (KB)
constexpr int64_t kSplitTarget = 64;     // products with fewer tiles than this split k ...
constexpr int64_t kSplitMinK = 128;      // ... into parts of at least this many values
constexpr int64_t kColsumRows = 256;     // rows of one colsum.wgsl block
constexpr int64_t kSumSquaresPerWg = 4096;  // elements a sum_squares.wgsl workgroup adds
// Rows up to this long (rmsnorm) or 8 times this (cross-entropy) are one invocation's work: no
// barriers (costly where WebGPU runs on a CPU), and rows enough to fill a GPU in training.
constexpr int64_t kRowThreadMax = 256;
}  // namespace

void WebGpuBackend::elementwise_grid(int64_t n, DispatchDesc& d) const {
  rec_.grid(uint64_t(ceil_div(std::max<int64_t>(n, 1), 256)), &d.x, &d.y);
}

void WebGpuBackend::train_gemm(const TrainGemm& g, const Weight* w, const Chunk* chunk) {
  if (g.M <= 0 || g.N <= 0) return;
  // Few tiles of a long sum over k (a weight's gradient over many tokens): split k so that the
  // GPU has workgroups enough, each split's sums to the scratch, then added in order.
  const int64_t tiles = ceil_div(g.M, kTile) * ceil_div(g.N, kTile);
  int64_t splits = 1, k_split = std::max<int64_t>(g.K, 1);
  if (tiles < kSplitTarget && g.K >= 2 * kSplitMinK) {
    splits = std::min(ceil_div(kSplitTarget, tiles), g.K / kSplitMinK);
    k_split = ceil_div(ceil_div(g.K, splits), kKBlock) * kKBlock;
    splits = ceil_div(g.K, k_split);
  }
  if (splits > 1) ensure_scratch(train_scratch_, train_scratch_cap_, splits * g.M * g.N);
  const Buf c = splits > 1 ? train_scratch_ : g.c;
  using webgpu::MatmulTrainFlags;
  const u32 flags = (g.a_sk == 1 ? MatmulTrainFlags::kTrainAK : 0u) | (g.b_sn == 1 ? MatmulTrainFlags::kTrainBN : 0u) |
                    (g.bias.id ? MatmulTrainFlags::kTrainBias : 0u) | (g.acc ? MatmulTrainFlags::kTrainAcc : 0u) |
                    (splits > 1 ? MatmulTrainFlags::kTrainSplit : 0u);
  DispatchDesc d;
  // One pipeline per weight format (f32 for products of two f32 matrices); the rest is flags.
  d.shader = {"matmul_train", false, w ? format_key(w->format) : "f32", false, cb("BW", w != nullptr)};
  d.operands = {{"a", gpu(g.a)}, {"b", w ? 0u : gpu(g.b)}, {"c", gpu(c), true},
                {"bias", g.bias.id ? gpu(g.bias) : 0u}, {"wq", chunk ? chunk->buffer : 0u, false, true}};
  webgpu::MatmulTrainParams p;
  p.a_off = u32(g.a.offset);
  p.a_sm = u32(g.a_sm);
  p.a_sk = u32(g.a_sk);
  p.b_off = u32(g.b.offset);
  p.b_sk = u32(g.b_sk);
  p.b_sn = u32(g.b_sn);
  p.c_off = u32(c.offset);
  p.ldc = u32(g.ldc);
  p.bias_off = u32(g.bias.offset);
  p.M = u32(g.M);
  p.N = u32(g.N);
  p.K = u32(g.K);
  p.alpha = g.alpha;
  if (w) p.w = webgpu::WeightRef{w->stride, chunk->scale_off, chunk->min_off, chunk->base};
  p.k_split = u32(k_split);
  p.flags = flags;
  d.set_params(p);
  d.x = u32(ceil_div(g.N, kTile));
  d.y = u32(ceil_div(g.M, kTile));
  d.z = u32(splits);
  rec_.dispatch(d);
  if (splits == 1) return;
  DispatchDesc sum;
  sum.shader = {"split_sum", false, "", false, cu("WG", 256)};
  sum.operands = {{"part", gpu(c)}, {"bias", g.bias.id ? gpu(g.bias) : 0u}, {"c", gpu(g.c), true}};
  sum.set_params(webgpu::SplitSumParams{u32(c.offset), u32(g.c.offset), u32(g.ldc), u32(g.bias.offset), u32(g.M),
                                        u32(g.N), u32(splits), g.alpha, flags});
  elementwise_grid(g.M * g.N, sum);
  rec_.dispatch(sum);
}

void WebGpuBackend::linear(Buf x, Buf W, const Buf* bias, Buf out, int64_t T, int64_t in, int64_t n_out, float scale,
                           bool accumulate) {
  // A(t, i) = x[t, i]; B(i, o) = W[o, i]
  train_gemm({x, W, out, bias ? *bias : Buf{}, in, 1, 1, in, n_out, T, n_out, in, scale, accumulate});
}

void WebGpuBackend::linear_dx(Buf dy, Buf W, Buf dx, int64_t T, int64_t in, int64_t n_out, float scale,
                              bool accumulate) {
  // A(t, o) = dy[t, o]; B(o, i) = W[o, i]
  train_gemm({dy, W, dx, Buf{}, n_out, 1, in, 1, in, T, in, n_out, scale, accumulate});
}

void WebGpuBackend::linear_dw(Buf dy, Buf x, Buf dW, int64_t T, int64_t in, int64_t n_out, float scale) {
  // A(o, t) = dy[t, o]; B(t, i) = x[t, i]
  train_gemm({dy, x, dW, Buf{}, 1, n_out, in, 1, in, n_out, in, T, scale, true});
}

void WebGpuBackend::matmul_dx(Buf dy, WeightId W, Buf dx, int64_t T, bool accumulate) {
  const Weight* w = weight(W);
  if (!w || T <= 0) return;
  // Chunk by chunk of rows o: dx (+)= dy[:, chunk] W[chunk, :], the later chunks added.
  for (size_t i = 0; i < w->chunks.size(); ++i) {
    const Chunk& c = w->chunks[i];
    train_gemm({dy.at(c.row0), Buf{}, dx, Buf{}, w->rows, 1, 0, 0, w->cols, T, w->cols, c.rows, 1.0f, accumulate || i > 0},
               w, &c);
  }
}

int64_t WebGpuBackend::colsum_floats(int64_t rows, int64_t d) {
  const int64_t blocks = ceil_div(rows, kColsumRows);
  return blocks > 1 ? blocks * d : 1;
}

void WebGpuBackend::colsum(Buf x, const Buf* y, const Buf* s, Buf out, int64_t rows, int64_t d, Buf part) {
  if (rows <= 0 || d <= 0) return;
  const int64_t blocks = ceil_div(rows, kColsumRows);
  webgpu::ColsumParams p{u32(x.offset), y ? u32(y->offset) : 0u, s ? u32(s->offset) : 0u, u32(part.offset),
                         u32(out.offset), u32(rows), u32(d), u32(kColsumRows), u32(blocks), y ? 1u : 0u, 0u};
  for (bool final : {false, true}) {
    if (final && blocks == 1) break;
    p.stage2 = final ? 1u : 0u;
    DispatchDesc dd;
    dd.shader = {"colsum", false, "", false, ""};
    dd.operands = {{"x", gpu(x)}, {"y", y ? gpu(*y) : 0u}, {"s", s ? gpu(*s) : 0u},
                   {"part", blocks > 1 ? gpu(part) : 0u, true}, {"out", gpu(out), true}};
    dd.set_params(p);
    dd.x = u32(ceil_div(d, 64));
    dd.y = final ? 1u : u32(blocks);
    rec_.dispatch(dd);
  }
}

void WebGpuBackend::bias_grad(Buf dy, Buf db, int64_t T, int64_t n) {
  ensure_scratch(train_scratch_, train_scratch_cap_, colsum_floats(T, n));
  colsum(dy, nullptr, nullptr, db, T, n, train_scratch_);
}

void WebGpuBackend::rmsnorm_backward(Buf x, Buf w, Buf dy, Buf dx, Buf dw, int64_t rows, int64_t d, float eps,
                                     bool accumulate) {
  if (rows <= 0) return;
  // Scratch: 1 / rms of each row, then the column sums' blocks.
  ensure_scratch(train_scratch_, train_scratch_cap_, rows + colsum_floats(rows, d));
  const Buf inv = train_scratch_, part = train_scratch_.at(rows);
  // Short rows: an invocation per row; long ones: a workgroup per row.
  const bool row_thread = d <= kRowThreadMax;
  DispatchDesc dd;
  dd.shader = {"rmsnorm_backward", true, "", false,
               cu("WG", row_thread ? 64 : 256) + cb("ROW_THREAD", row_thread)};
  dd.operands = {{"x", gpu(x)}, {"w", gpu(w)}, {"dy", gpu(dy)}, {"dx", gpu(dx), true}, {"inv", dw.id ? gpu(inv) : 0u, true}};
  dd.set_params(webgpu::RmsnormBackwardParams{u32(x.offset), u32(w.offset), u32(dy.offset), u32(dx.offset),
                                              u32(inv.offset), u32(rows), u32(d), eps, accumulate ? 1u : 0u,
                                              dw.id ? 1u : 0u});
  rec_.grid(uint64_t(row_thread ? ceil_div(rows, 64) : rows), &dd.x, &dd.y);
  rec_.dispatch(dd);
  // dw += sum over rows of dy * x * inv
  if (dw.id) colsum(dy, &x, &inv, dw, rows, d, part);
}

void WebGpuBackend::rope_seqs(Buf x, int64_t n_seq, int64_t T, int64_t n_heads, int64_t head_dim, const RopeTable& table,
                              bool inverse) {
  const int64_t half = table.rot_dim / 2, rows = n_seq * T;
  if (rows <= 0 || half <= 0) return;
  const Buf freq = freq_buf(table);
  DispatchDesc d;
  d.shader = {"rope_train", false, "", false, cu("WG", 256), false, "rope_common"};
  d.operands = {{"x", gpu(x), true}, {"freq", gpu(freq)}};
  d.set_params(webgpu::RopeTrainParams{u32(x.offset), u32(rows), u32(T), u32(n_heads), u32(head_dim), u32(half),
                                       table.attention_scaling, inverse ? -1.0f : 1.0f, u32(freq.offset)});
  elementwise_grid(rows * n_heads * half, d);
  rec_.dispatch(d);
}

void WebGpuBackend::swiglu_backward(Buf gate, Buf up, Buf dout, Buf dgate, Buf dup, int64_t n) {
  if (n <= 0) return;
  DispatchDesc d;
  d.shader = {"swiglu_backward", false, "", false, cu("WG", 256)};
  d.operands = {{"gate", gpu(gate)}, {"up", gpu(up)}, {"dout", gpu(dout)}, {"dgate", gpu(dgate), true},
                {"dup", gpu(dup), true}};
  d.set_params(webgpu::SwigluBackwardParams{u32(gate.offset), u32(up.offset), u32(dout.offset), u32(dgate.offset),
                                            u32(dup.offset), u32(n)});
  elementwise_grid(n, d);
  rec_.dispatch(d);
}

void WebGpuBackend::embed_rows(Buf E, std::span<const int32_t> ids, Buf out, int64_t d) {
  if (ids.empty() || d <= 0) return;
  DispatchDesc dd;
  dd.shader = {"embed_rows", false, "", false, cu("WG", 256)};
  dd.operands = {{"e", gpu(E)}, {"out", gpu(out), true}};
  dd.set_params(webgpu::EmbedRowsParams{u32(E.offset), u32(out.offset), u32(ids.size()), u32(d)});
  dd.params.insert(dd.params.end(), ids.begin(), ids.end());  // the runtime-sized `ids`
  elementwise_grid(int64_t(ids.size()) * d, dd);
  rec_.dispatch(dd);
}

void WebGpuBackend::embed_backward(std::span<const int32_t> ids, Buf dy, Buf dE, int64_t d) {
  if (ids.empty() || d <= 0) return;
  // The positions grouped by id, each group in position order (a stable sort).
  std::vector<uint32_t> pos(ids.size());
  std::iota(pos.begin(), pos.end(), 0u);
  std::stable_sort(pos.begin(), pos.end(), [&](uint32_t a, uint32_t b) { return ids[a] < ids[b]; });
  std::vector<uint32_t> uniq, starts;
  for (size_t i = 0; i < pos.size(); ++i) {
    if (i == 0 || ids[pos[i]] != ids[pos[i - 1]]) {
      uniq.push_back(u32(ids[pos[i]]));
      starts.push_back(u32(i));
    }
  }
  starts.push_back(u32(pos.size()));
  DispatchDesc dd;
  dd.shader = {"embed_backward", false, "", false, cu("WG", 256)};
  dd.operands = {{"dy", gpu(dy)}, {"de", gpu(dE), true}};
  dd.set_params(webgpu::EmbedBackwardParams{u32(dy.offset), u32(dE.offset), u32(uniq.size()), u32(d)});
  for (const auto* part : {&uniq, &starts, &pos}) dd.params.insert(dd.params.end(), part->begin(), part->end());
  elementwise_grid(int64_t(uniq.size()) * d, dd);
  rec_.dispatch(dd);
}

void WebGpuBackend::cross_entropy(Buf logits, std::span<const int32_t> targets, Buf loss, Buf dlogits, int64_t rows,
                                  int64_t V, float grad_scale) {
  if (rows <= 0) return;
  // Small vocabularies: an invocation per row; large ones: a workgroup per row.
  const bool row_thread = V <= 8 * kRowThreadMax;
  DispatchDesc d;
  d.shader = {"cross_entropy", true, "", false, cu("WG", row_thread ? 64 : 256) + cb("ROW_THREAD", row_thread)};
  d.operands = {{"logits", gpu(logits)}, {"loss", gpu(loss), true}, {"dl", gpu(dlogits), true}};
  d.set_params(webgpu::CrossEntropyParams{u32(logits.offset), u32(loss.offset), u32(dlogits.offset), u32(rows), u32(V),
                                          grad_scale});
  for (int64_t r = 0; r < rows; ++r) {
    const int32_t t = targets[size_t(r)];
    d.params.push_back(t < 0 ? 0xffffffffu : u32(t));  // ignored targets: never < V
  }
  rec_.grid(uint64_t(row_thread ? ceil_div(rows, 64) : rows), &d.x, &d.y);
  rec_.dispatch(d);
}

void WebGpuBackend::adamw(Buf param, Buf grad, Buf m, Buf v, int64_t n, const AdamWStep& s) {
  if (n <= 0) return;
  DispatchDesc d;
  d.shader = {"adamw", false, "", false, cu("WG", 256)};
  d.operands = {{"p", gpu(param), true}, {"g", gpu(grad)}, {"m", gpu(m), true}, {"v", gpu(v), true}};
  d.set_params(webgpu::AdamwParams{u32(param.offset), u32(grad.offset), u32(m.offset), u32(v.offset), u32(n),
                                   s.grad_scale, s.decay, s.beta1, s.one_minus_beta1, s.beta2, s.one_minus_beta2,
                                   s.step_size, s.bias2_sqrt, s.eps});
  elementwise_grid(n, d);
  rec_.dispatch(d);
}

void WebGpuBackend::sum_squares(Buf x, int64_t n, Buf out) {
  const int64_t parts = ceil_div(std::max<int64_t>(n, 1), kSumSquaresPerWg);
  if (parts > 1) ensure_scratch(train_scratch_, train_scratch_cap_, parts);
  // Stage one: the squares of each block into the scratch (or out); two: the blocks' sum.
  for (bool square : {true, false}) {
    if (!square && parts == 1) break;
    DispatchDesc d;
    d.shader = {"sum_squares", true, "", false, cu("WG", 256)};
    const Buf src = square ? x : train_scratch_;
    d.operands = {{"x", gpu(src)}, {"part", parts > 1 && square ? gpu(train_scratch_) : 0u, true}, {"out", gpu(out), true}};
    const int64_t count = square ? n : parts;
    const int64_t per_wg = square ? kSumSquaresPerWg : std::max<int64_t>(parts, 1);
    d.set_params(webgpu::SumSquaresParams{u32(src.offset), u32(count), u32(per_wg), u32(train_scratch_.offset),
                                          u32(out.offset), square ? 1u : 0u});
    rec_.grid(uint64_t(square ? parts : 1), &d.x, &d.y);
    rec_.dispatch(d);
  }
}

void WebGpuBackend::fill(Buf x, int64_t n, float value) {
  if (n <= 0) return;
  DispatchDesc d;
  d.shader = {"fill", false, "", false, cu("WG", 256)};
  d.operands = {{"x", gpu(x), true}};
  d.set_params(webgpu::FillParams{u32(x.offset), u32(n), value});
  elementwise_grid(n, d);
  rec_.dispatch(d);
}

}  // namespace hearth
