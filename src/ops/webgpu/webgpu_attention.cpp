// WebGpuBackend attention. An attention step (ops/plan.h) of decode size runs as the split-K
// decode kernel that ropes q and the new keys as it loads them and stores the new keys and
// values into the caches (attention_decode_splitk.wgsl with ROPE), then the combine; prefill
// steps rope q and k and store k and v in one dispatch (rope.wgsl with STORE), then run the
// flash-attention kernel. The q/k norms (Qwen3) go first, in place.
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
constexpr int64_t kDecodeMaxT = 4;  // up to this many queries: the split-K decode kernels
}

void WebGpuBackend::attention_step(const AttentionStep& s, int64_t pos0) {
  const AttentionShape& sh = s.shape;
  if (sh.n_kv_heads <= 0 || sh.n_heads % sh.n_kv_heads != 0) {
    fail(err("WebGPU attention: ", sh.n_heads, " heads are not a multiple of ", sh.n_kv_heads, " KV heads"));
    return;
  }
  Dispatches ds;
  if (s.q_norm.id) {
    rmsnorm_dispatch(s.q, s.q_norm, s.q, s.T * sh.n_heads, sh.head_dim, s.eps, ds);
    rmsnorm_dispatch(s.k, s.k_norm, s.k, s.T * sh.n_kv_heads, sh.head_dim, s.eps, ds);
  }
  const int64_t kv_dim = sh.n_kv_heads * sh.head_dim;
  RopeArgs r;
  r.x = s.q;
  r.T = s.T;
  r.H = sh.n_heads;
  r.D = sh.head_dim;
  r.pos0 = pos0;
  r.x2 = s.k;
  r.H2 = sh.n_kv_heads;
  r.store = true;
  r.kc = s.k_cache.at(pos0 * kv_dim);
  r.v = s.v;
  r.vc = s.v_cache.at(pos0 * kv_dim);
  r.n_v = s.T * kv_dim;
  const bool apart = s.k_cache.id != s.v_cache.id && s.q.id != s.k_cache.id && s.q.id != s.v_cache.id &&
                     s.k.id != s.k_cache.id && s.v.id != s.k_cache.id && s.k.id != s.v_cache.id &&
                     s.v.id != s.v_cache.id && s.out.id != s.k_cache.id && s.out.id != s.v_cache.id;
  const bool fused = s.T <= kDecodeMaxT && sh.head_dim % 4 == 0 && sh.head_dim <= 256 && s.k_cache.offset % 4 == 0 &&
                     s.v_cache.offset % 4 == 0 && apart;
  if (fused) {
    record(ds);
    attention_decode(s.q, s.k_cache, s.v_cache, s.out, s.T, pos0, sh, &r, s.rope);
    return;
  }
  rope_dispatch(r, *s.rope, ds);
  record(ds);
  attention(s.q, s.k_cache, s.v_cache, s.out, s.T, pos0, sh);
}

void WebGpuBackend::attention(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  if (T <= 0) return;
  if (s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0) {
    fail(err("WebGPU attention: ", s.n_heads, " heads are not a multiple of ", s.n_kv_heads, " KV heads"));
    return;
  }
  if (T <= kDecodeMaxT) {
    attention_decode(q, k, v, out, T, pos0, s, nullptr, nullptr);
  } else {
    attention_prefill(q, k, v, out, T, pos0, s);
  }
}

void WebGpuBackend::attention_decode(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s,
                                     const RopeArgs* rope, const RopeTable* table) {
  constexpr int64_t kChunk = 32;  // keys per workgroup
  constexpr int64_t kWg = 256;
  const int64_t D = s.head_dim, H = s.n_heads, G = s.n_heads / s.n_kv_heads;
  const int64_t d4 = ceil_div(D, 4);
  if (d4 > kWg) {
    fail(err("WebGPU attention: head_dim ", D, " is more than the decode kernels' ", 4 * kWg));
    return;
  }
  // Heads per block: the block's queries (HB * D floats) within 4 KiB of workgroup memory, at
  // most 8; the blocks of one KV head get equal shares.
  const int64_t hb_max = std::clamp<int64_t>(256 / d4, 1, 8);
  const int64_t n_hb = ceil_div(G, hb_max);
  const int64_t hb = ceil_div(G, n_hb);
  const int64_t key0 = s.window > 0 ? std::max<int64_t>(0, pos0 - s.window + 1) : 0;
  const int64_t n_split = ceil_div(pos0 + T - key0, kChunk);
  ensure_scratch(part_, part_cap_, T * H * n_split * (D + 2));
  const Buf freq = rope ? freq_buf(*table) : Buf{};
  const bool v4 = D % 4 == 0 && k.offset % 4 == 0 && v.offset % 4 == 0;
  DispatchDesc d;
  d.shader = {"attention_decode_splitk", false, "", false,
              cu("WG", kWg) + cu("C", kChunk) + cu("HB", hb) + cu("D", D) + cb("V4", v4) + cb("ROPE", rope != nullptr),
              false, "rope_common"};
  // The vec4 views of the caches are writable (the stores of ROPE), the only views of them.
  d.operands = {{"q", gpu(q)},
                {"k", v4 ? 0u : gpu(k)},
                {"v", v4 ? 0u : gpu(v)},
                {"k4", v4 ? gpu(k) : 0u, true, false, true},
                {"v4", v4 ? gpu(v) : 0u, true, false, true},
                {"part", gpu(part_), true},
                {"kn", rope ? gpu(rope->x2) : 0u},
                {"vn", rope ? gpu(rope->v) : 0u},
                {"freq", rope ? gpu(freq) : 0u}};
  webgpu::AttentionDecodeParams p;
  p.q_off = u32(q.offset);
  p.k_off = u32(k.offset);
  p.v_off = u32(v.offset);
  p.part_off = u32(part_.offset);
  p.T = u32(T);
  p.pos0 = u32(pos0);
  p.H = u32(H);
  p.KV = u32(s.n_kv_heads);
  p.n_hb = u32(n_hb);
  p.window = u32(std::max<int64_t>(0, s.window));
  p.scale = s.scale;
  p.n_split = u32(n_split);
  p.key0 = u32(key0);
  if (rope) {
    p.freq_off = u32(freq.offset);
    p.half = u32(table->rot_dim / 2);
    p.scaling = table->attention_scaling;
    p.kn_off = u32(rope->x2.offset);
    p.vn_off = u32(rope->v.offset);
  }
  d.set_params(p);
  d.x = u32(n_split);
  d.y = u32(s.n_kv_heads * n_hb);
  d.z = u32(T);
  rec_.dispatch(d);

  DispatchDesc c;
  // The dims in 4 slices (4 workgroups per head) when they split evenly: shorter sums each.
  const int64_t ds = d4 % 4 == 0 ? 4 : 1;
  c.shader = {"attention_combine", true, "", false, cu("WG", kWg) + cu("SMAX", 1024) + cu("DS", ds)};
  c.operands = {{"part", gpu(part_)}, {"out", gpu(out), true}};
  c.set_params(webgpu::AttentionCombineParams{u32(part_.offset), u32(out.offset), u32(T), u32(H), u32(D), u32(n_split)});
  c.x = u32(H * ds);
  c.y = u32(T);
  rec_.dispatch(c);
}

void WebGpuBackend::attention_prefill(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  const int64_t D = s.head_dim;
  webgpu::AttentionPrefillParams p;
  p.q_off = u32(q.offset);
  p.k_off = u32(k.offset);
  p.v_off = u32(v.offset);
  p.out_off = u32(out.offset);
  p.T = u32(T);
  p.pos0 = u32(pos0);
  p.H = u32(s.n_heads);
  p.KV = u32(s.n_kv_heads);
  p.D = u32(D);
  p.window = u32(std::max<int64_t>(0, s.window));
  p.scale = s.scale;
  // Subgroup tier, head dims in four slices of vec4s: the GQA-grouped kernel (a key and a value
  // tile of BK rows in workgroup memory, staged once for every head of a KV head).
  const int64_t bk_sg = std::min<int64_t>(32, int64_t(info_.max_workgroup_storage) / (8 * std::max<int64_t>(D, 1)));
  if (rec_.subgroups() && info_.subgroup_min >= 4 && D % 16 == 0 && bk_sg >= 4) {
    constexpr int64_t kRows = 64;
    const int64_t G = s.n_heads / s.n_kv_heads;
    const int64_t gb = std::min<int64_t>(G, kRows);
    const int64_t n_hb = ceil_div(G, gb);
    const int64_t bt = kRows / gb;
    const bool v4 = k.offset % 4 == 0 && v.offset % 4 == 0;
    DispatchDesc d;
    d.shader = {"attention_prefill_sg", false, "", false,
                cu("WG", 4 * kRows) + cu("ROWS", kRows) + cu("GB", uint64_t(gb)) + cu("BT", uint64_t(bt)) +
                    cu("BK", uint64_t(bk_sg)) + cu("D", uint64_t(D)) + cb("V4", v4),
                true};
    d.operands = {{"q", gpu(q)},
                  {"k", v4 ? 0u : gpu(k)},
                  {"v", v4 ? 0u : gpu(v)},
                  {"k4", v4 ? gpu(k) : 0u, false, false, true},
                  {"v4", v4 ? gpu(v) : 0u, false, false, true},
                  {"out", gpu(out), true}};
    p.n_hb = u32(n_hb);
    d.set_params(p);
    d.x = u32(ceil_div(T, bt));
    d.y = u32(s.n_kv_heads * n_hb);
    rec_.dispatch(d);
    return;
  }
  const int64_t bq = D <= 128 ? 8 : 4;
  int64_t bk = 64;
  while (bk > 4 && ((bk + bq) * D + bq * (bk + 3)) * 4 > int64_t(info_.max_workgroup_storage)) bk /= 2;
  if (((bk + bq) * D + bq * (bk + 3)) * 4 > int64_t(info_.max_workgroup_storage)) {
    fail(err("WebGPU attention: head_dim ", D, " does not fit the device's workgroup memory"));
    return;
  }
  DispatchDesc d;
  d.shader = {"attention_prefill", false, "", false,
              cu("WG", 64) + cu("BQ", uint64_t(bq)) + cu("BK", uint64_t(bk)) + cu("DMAX", uint64_t(D))};
  d.operands = {{"q", gpu(q)}, {"k", gpu(k)}, {"v", gpu(v)}, {"out", gpu(out), true}};
  d.set_params(p);
  d.x = u32(ceil_div(T, bq));
  d.y = u32(s.n_heads);
  rec_.dispatch(d);
}

}  // namespace hearth
