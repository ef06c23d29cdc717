// WebGpuBackend's small ops: elementwise (add, swiglu, copy), rmsnorm, RoPE, embedding lookup,
// and the token pick (argmax, the device sampler). Each builds its dispatch from the kernel's
// parameter struct (kernel_params.h).
#include <algorithm>

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

void WebGpuBackend::elementwise(webgpu::ElementwiseOp op, Buf a, Buf b, Buf out, int64_t n, Dispatches& ds) const {
  if (n <= 0) return;
  DispatchDesc d;
  d.shader = {"elementwise", false, "", false, cu("WG", 256) + cu("OP", u32(op))};
  d.operands = {{"a", gpu(a)}, {"b", gpu(b)}, {"out", gpu(out), true}};
  d.set_params(webgpu::ElementwiseParams{u32(a.offset), u32(b.offset), u32(out.offset), u32(n)});
  rec_.grid(uint64_t(ceil_div(n, 256)), &d.x, &d.y);
  ds.push_back(std::move(d));
}

void WebGpuBackend::add(Buf x, Buf y, int64_t n) {
  Dispatches ds;
  elementwise(webgpu::ElementwiseOp::Add, x, y, x, n, ds);
  record(ds);
}

void WebGpuBackend::swiglu(Buf gate, Buf up, Buf out, int64_t n) {
  Dispatches ds;
  elementwise(webgpu::ElementwiseOp::SwiGLU, gate, up, out, n, ds);
  record(ds);
}

void WebGpuBackend::copy(Buf src, Buf dst, int64_t n) {
  Dispatches ds;
  elementwise(webgpu::ElementwiseOp::Copy, src, src, dst, n, ds);
  record(ds);
}

void WebGpuBackend::rmsnorm_dispatch(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps, Dispatches& ds) const {
  if (rows <= 0) return;
  DispatchDesc dd;
  if (rec_.subgroups() && rows > 1) {
    // A subgroup per row, no barriers (subgroup tier).
    dd.shader = {"rmsnorm_subgroup", false, "", false, cu("WG", 64), true};
    rec_.grid(uint64_t(ceil_div(rows, 64 / sg_max())), &dd.x, &dd.y);
  } else {
    dd.shader = {"rmsnorm", true, "", false, cu("WG", d <= 256 ? 64 : 256)};
    rec_.grid(uint64_t(rows), &dd.x, &dd.y);
  }
  dd.operands = {{"x", gpu(x)}, {"w", gpu(w)}, {"out", gpu(out), true}};
  dd.set_params(webgpu::RmsnormParams{u32(x.offset), u32(w.offset), u32(out.offset), u32(rows), u32(d), eps});
  ds.push_back(std::move(dd));
}

void WebGpuBackend::rmsnorm(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps) {
  Dispatches ds;
  rmsnorm_dispatch(x, w, out, rows, d, eps, ds);
  record(ds);
}

Buf WebGpuBackend::freq_buf(const RopeTable& table) {
  for (const auto& f : rope_freqs_) {
    if (f.inv_freq == table.inv_freq) return f.buf;
  }
  Buf b = alloc(int64_t(table.inv_freq.size()));
  write(b, table.inv_freq);
  rope_freqs_.push_back(RopeFreq{table.inv_freq, b});
  return b;
}

void WebGpuBackend::rope_dispatch(const RopeArgs& r, const RopeTable& table, Dispatches& ds) {
  const int64_t half = table.rot_dim / 2;
  if (r.T <= 0 || half <= 0) return;
  const Buf freq = freq_buf(table);
  DispatchDesc d;
  d.shader = {"rope", false, "", false, cu("WG", 64) + cb("STORE", r.store), false, "rope_common"};
  d.operands = {{"x", gpu(r.x), true},
                {"x2", r.H2 ? gpu(r.x2) : 0u, true},
                {"freq", gpu(freq)},
                {"kc", r.store ? gpu(r.kc) : 0u, true},
                {"vn", r.n_v ? gpu(r.v) : 0u},
                {"vc", r.n_v ? gpu(r.vc) : 0u, true}};
  const int64_t tail = r.D - 2 * half;  // k dims past the rotated ones, copied as they are
  webgpu::RopeParams p;
  p.x_off = u32(r.x.offset);
  p.T = u32(r.T);
  p.H = u32(r.H);
  p.D = u32(r.D);
  p.pos0 = u32(r.pos0);
  p.half = u32(half);
  p.scaling = table.attention_scaling;
  p.freq_off = u32(freq.offset);
  p.x2_off = r.H2 ? u32(r.x2.offset) : 0u;
  p.H2 = u32(r.H2);
  p.kc_off = r.store ? u32(r.kc.offset) : 0u;
  p.v_off = u32(r.v.offset);
  p.vc_off = u32(r.vc.offset);
  p.n_v = u32(r.n_v);
  p.tail = u32(tail);
  d.set_params(p);
  const int64_t n = r.T * (r.H + r.H2) * half + (r.store ? r.T * r.H2 * tail + r.n_v : 0);
  rec_.grid(uint64_t(ceil_div(n, 64)), &d.x, &d.y);
  ds.push_back(std::move(d));
}

void WebGpuBackend::rope(Buf x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) {
  Dispatches ds;
  RopeArgs r;
  r.x = x;
  r.T = T;
  r.H = n_heads;
  r.D = head_dim;
  r.pos0 = pos0;
  rope_dispatch(r, table, ds);
  record(ds);
}

void WebGpuBackend::embed_chunks(const Weight& w, Buf out, int64_t T, std::span<const int32_t> ids, const Buf* ids_buf) {
  uint32_t gx, gy;
  const int64_t threads = T * ceil_div(w.cols, 4);
  rec_.grid(uint64_t(ceil_div(threads, 64)), &gx, &gy);
  for (const Chunk& c : w.chunks) {
    DispatchDesc d;
    d.shader = {"embed", false, format_key(w.format), false, cu("WG", 64) + cb("IDS_FROM_BUF", ids_buf != nullptr)};
    d.operands = {{"out", gpu(out), true}, {"ids", ids_buf ? gpu(*ids_buf) : gpu(out)}, {"wq", c.buffer, false, true}};
    webgpu::EmbedParams p;
    p.out_off = u32(out.offset);
    p.T = u32(T);
    p.cols = u32(w.cols);
    p.row0 = u32(c.row0);
    p.nrows = u32(c.rows);
    p.w = webgpu::WeightRef{w.stride, c.scale_off, c.min_off, c.base};
    p.ids_off = ids_buf ? u32(ids_buf->offset) : 0u;
    d.set_params(p);
    for (int32_t id : ids) d.params.push_back(u32(id));  // the runtime-sized `ids` after the struct
    if (ids.empty()) d.params.push_back(0);              // a binding holds at least one of them
    d.x = gx;
    d.y = gy;
    rec_.dispatch(d);
  }
}

void WebGpuBackend::embed(WeightId E, std::span<const int32_t> ids, Buf out) {
  const Weight* w = weight(E);
  if (!w || ids.empty()) return;
  embed_chunks(*w, out, int64_t(ids.size()), ids, nullptr);
}

void WebGpuBackend::embed_from(WeightId E, Buf ids, int64_t T, Buf out) {
  const Weight* w = weight(E);
  if (!w || T <= 0) return;
  embed_chunks(*w, out, T, {}, &ids);
}

void WebGpuBackend::argmax(Buf x, int64_t n, Buf out) {
  DispatchDesc d;
  // One workgroup: up to 1024 invocations with subgroup reductions, 256 with the tree.
  const uint32_t wg = rec_.subgroups() ? std::min<uint32_t>(1024, std::max<uint32_t>(256, info_.max_invocations)) & ~63u
                                       : 256u;
  const bool xv4 = x.offset % 4 == 0 && x.id != out.id;
  d.shader = {"argmax", true, "", false, cu("WG", wg) + cb("XV4", xv4)};
  d.operands = {{"x", gpu(x)}, {"xv", xv4 ? gpu(x) : 0u, false, false, true}, {"out", gpu(out), true}};
  d.set_params(webgpu::ArgmaxParams{u32(x.offset), u32(n), u32(out.offset)});
  rec_.dispatch(d);
}

void WebGpuBackend::sample(Buf x, int64_t n, const SamplingParams& s, Buf u, Buf pen, Buf out) {
  if (n <= 0) return;
  const bool greedy = s.greedy();
  const bool p = s.penalties() && pen.id;
  webgpu::SampleParams sp;
  sp.pen_off = p ? u32(pen.offset) : 0u;
  sp.top_k = u32(std::max(0, s.top_k));
  sp.rep = s.repetition_penalty;
  sp.presence = s.presence_penalty;
  sp.frequency = s.frequency_penalty;
  // With a small top-k over a large vocabulary, sample_topk.wgsl first cuts the logits down to
  // each slice's top k (many workgroups), and the one-workgroup sampler walks those candidates
  // instead of all n logits: the same pick (see that file), a fraction of the time.
  constexpr int64_t kSlice = 1024, kMaxTopK = 64;
  const bool pre = !greedy && s.top_k > 1 && s.top_k <= kMaxTopK && n >= 8 * kSlice;
  const int64_t n_wg = ceil_div(n, kSlice);
  if (pre) {
    ensure_scratch(cand_, cand_cap_, 2 * n_wg * s.top_k);
    DispatchDesc d;
    d.shader = {"sample_topk", false, "", false, cu("WG", kSlice / 4) + cu("S", kSlice) + cb("PEN", p) + cb("CAND", false),
                false, "sample_common"};
    d.operands = {{"x", gpu(x)}, {"pen", p ? gpu(pen) : 0u}, {"cand", gpu(cand_), true}};
    webgpu::SampleParams tp = sp;
    tp.x_off = u32(x.offset);
    tp.n = u32(n);
    tp.out_off = u32(cand_.offset);
    d.set_params(tp);
    rec_.grid(uint64_t(n_wg), &d.x, &d.y);
    rec_.dispatch(d);
  }
  const Buf src = pre ? cand_ : x;
  const int64_t m = pre ? n_wg * s.top_k : n;
  DispatchDesc d;
  // One workgroup: up to 1024 invocations with subgroup reductions, 256 with the tree (whose
  // workgroup memory grows with the size).
  const uint32_t wg = rec_.subgroups() ? std::min<uint32_t>(1024, std::max<uint32_t>(256, info_.max_invocations)) & ~63u
                                       : 256u;
  const bool xv4 = src.offset % 4 == 0 && src.id != out.id && (!p || src.id != pen.id);
  d.shader = {"sample", true, "", false, cu("WG", wg) + cb("PEN", p) + cb("CAND", pre) + cb("XV4", xv4), false,
              "sample_common"};
  d.operands = {{"x", gpu(src)}, {"xv", xv4 ? gpu(src) : 0u, false, false, true}, {"u", greedy ? 0u : gpu(u)},
                {"pen", p ? gpu(pen) : 0u, true}, {"out", gpu(out), true}};
  sp.x_off = u32(src.offset);
  sp.n = u32(m);
  sp.out_off = u32(out.offset);
  sp.u_off = greedy ? 0u : u32(u.offset);
  sp.greedy = greedy ? 1u : 0u;
  sp.inv_temp = greedy ? 0.0f : 1.0f / s.temperature;
  sp.top_p = s.top_p;
  sp.min_p = s.min_p;
  sp.cand_ids_off = u32(src.offset + m);
  sp.n_full = u32(n);
  d.set_params(sp);
  rec_.dispatch(d);
}

}  // namespace hearth
