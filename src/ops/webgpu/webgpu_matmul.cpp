// WebGpuBackend matrix products. Decode-sized products (T <= 4) wait in a pending group so
// that consecutive products of the same x from one weight buffer (q, k, v; gate, up) become one
// dispatch, and a swiglu of the gate/up pair folds into it (matvec_common.wgsl); so do the
// rmsnorm that produced x and the residual add of a lone product's output. Prefill-sized
// products use the tiled kernel (matmul_tiled.wgsl), one dispatch per weight chunk.
#include <algorithm>

#include "ops/webgpu/webgpu_backend.h"
#include "ops/webgpu/webgpu_util.h"

namespace hearth {

using webgpu::cb;
using webgpu::ceil_div;
using webgpu::cu;
using webgpu::DispatchDesc;
using webgpu::format_key;

namespace {
constexpr int64_t kVecMaxT = 4;   // up to this many tokens: matrix-vector kernels
constexpr size_t kMaxGroup = 3;   // matrices per matrix-vector dispatch
constexpr int64_t kMaxLoraRank = 256;  // LoRA B products folded into a store: columns at most

bool same(Buf a, Buf b) { return a.id == b.id && a.offset == b.offset; }
}  // namespace

bool WebGpuBackend::fits_group(const PendingMatvec& g, Buf x, const Weight& w, const Buf* bias, Buf out,
                               int64_t T) const {
  if (g.e.empty() || g.e.size() >= kMaxGroup || g.T != T) return false;
  // Products of different x share a dispatch too (each reads its own), but not a folded norm.
  const bool same_x = same(g.x(), x);
  if (!same_x && g.has_norm) return false;
  const Weight& w0 = *g.e[0].w;
  if (w.chunks.size() != 1 || w.format != w0.format || w.cols != w0.cols || w.chunks[0].buffer != w0.chunks[0].buffer) {
    return false;
  }
  // The new product must not write what the group reads or writes, nor read what it writes.
  if (out.id == x.id) return false;
  if (g.has_norm && (out.id == g.norm.x.id || out.id == g.norm.w.id)) return false;
  for (const auto& a : g.held_a) {
    if (out.id == a.x.id || out.id == a.out.id) return false;
  }
  if (g.a_has_norm && (out.id == g.a_norm.x.id || out.id == g.a_norm.w.id)) return false;
  for (const auto& e : g.e) {
    // Outputs may share a buffer (the LoRA A products of a stage write slices of one).
    const bool outs_overlap = out.id == e.out.id && out.offset < e.out.offset + T * e.w->rows &&
                              e.out.offset < out.offset + T * w.rows;
    if (outs_overlap || (e.has_bias && out.id == e.bias.id) || (bias && bias->id == e.out.id)) return false;
    if (out.id == e.x.id || x.id == e.out.id || (e.lb && out.id == e.lt.id)) return false;
  }
  return true;
}

bool WebGpuBackend::PendingMatvec::multi_x() const {
  for (const auto& en : e) {
    if (!same(en.x, x())) return true;
  }
  return false;
}

bool WebGpuBackend::lora_b_group(const PendingMatvec& g, Buf x, Buf out, int64_t T, bool acc) const {
  // The B products of Model::lora_delta: plain products (no bias, norm, residual or
  // accumulation) of rank-r inputs in one buffer, f16 or f32 weights in one buffer; the new
  // product adds to one of their outputs and reads none of them.
  if (!acc || g.T != T || g.has_norm || g.resid || !g.held.empty() || g.e.empty()) return false;
  const Weight& b0 = *g.e[0].w;
  bool hit = false;
  for (const auto& e : g.e) {
    const Weight& w = *e.w;
    if (e.acc || e.has_bias || e.lb || w.chunks.size() != 1 || w.format != b0.format ||
        (w.format != WeightFormat::F16 && w.format != WeightFormat::F32) || w.cols > kMaxLoraRank ||
        w.chunks[0].buffer != b0.chunks[0].buffer || gpu(e.x) != gpu(g.e[0].x) || x.id == e.out.id) {
      return false;
    }
    hit = hit || same(e.out, out);
  }
  return hit;
}

bool WebGpuBackend::lora_a_group(const PendingMatvec& g, Buf x, int64_t T) const {
  // The A products of Model::lora_delta: plain products of one x with at most kMaxLoraRank f16
  // or f32 rows (one buffer, as fits_group keeps them), x being one of their outputs.
  if (g.T != T || g.resid || !g.held.empty() || !g.held_a.empty() || g.e.empty() || g.multi_x()) return false;
  bool hit = false;
  for (const auto& e : g.e) {
    const Weight& w = *e.w;
    if (e.acc || e.has_bias || e.lb || w.chunks.size() != 1 || w.rows > kMaxLoraRank ||
        (w.format != WeightFormat::F16 && w.format != WeightFormat::F32)) {
      return false;
    }
    hit = hit || same(e.out, x);
  }
  return hit;
}

uint32_t WebGpuBackend::lora_ring_take(int64_t n) {
  constexpr int64_t kRing = int64_t(1) << 16;  // words: 16 tokens of a rank-16 adapter on 36 layers
  if (!lora_ring_.id) {
    lora_ring_ = alloc(kRing);
    lora_ring_pos_ = kRing;
  }
  if (lora_ring_pos_ + n > kRing) {
    // Every word gets the unpublished mark again; later dispatches see it (they run after).
    DispatchDesc d;
    d.shader = {"lora_arm", false, "", false, cu("WG", 256)};
    d.operands = {{"ring", gpu(lora_ring_), true, false, false, true}};
    d.params = {uint32_t(lora_ring_.offset), uint32_t(kRing)};
    rec_.grid(uint64_t(ceil_div(kRing, 256)), &d.x, &d.y);
    rec_.dispatch(std::move(d));
    lora_ring_pos_ = 0;
  }
  const auto at = uint32_t(lora_ring_.offset + lora_ring_pos_);
  lora_ring_pos_ += n;
  return at;
}

void WebGpuBackend::matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) {
  matmul_impl(x, W, bias, out, T, false);
}

void WebGpuBackend::matmul_add(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) {
  matmul_impl(x, W, bias, out, T, true);
}

void WebGpuBackend::matmul_impl(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T, bool acc) {
  const Weight* w = weight(W);
  if (!w || T <= 0) {
    settle();
    return;
  }
  if (T > kVecMaxT) {
    settle();
    emit_matmul_tiled(x, *w, bias, out, T, acc);
    return;
  }
  PendingMatvec::Entry en{w, out, bias != nullptr, bias ? *bias : Buf{}, acc, x, nullptr, Buf{}};
  // A product that adds to what a held B product writes takes that product into its store.
  const auto take_held = [&en](webgpu::FixedVec<PendingMatvec::Entry, 3>& held) {
    for (auto& h : held) {
      if (h.w && same(h.out, en.out) && h.w->rows == en.w->rows) {
        en.lb = h.w;
        en.lt = h.x;
        en.acc = h.acc;
        h.w = nullptr;
        return;
      }
    }
  };
  PendingMatvec g;
  if (auto* p = std::get_if<PendingMatvec>(&pending_)) {
    if (fits_group(*p, x, *w, bias, out, T)) {
      if (acc) take_held(p->held);
      p->e.push_back(en);
      return;
    }
    if (lora_b_group(*p, x, out, T, acc)) {
      // The B products of a LoRA stage, then the base products that add to their outputs:
      // the B products wait for those and are folded into their stores.
      g.held = p->e;
      g.held_a = p->held_a;
      g.a_has_norm = p->a_has_norm;
      g.a_norm = p->a_norm;
      pending_ = std::monostate();
    } else if (opt_.lora_in_dispatch && lora_a_group(*p, x, T)) {
      // The A products of a stage, then its B products: the A products wait as well, to be
      // computed in the base products' dispatch.
      g.held_a = p->e;
      g.a_has_norm = p->has_norm;
      g.a_norm = p->norm;
      pending_ = std::monostate();
    }
  }
  if (auto* n = std::get_if<PendingNorm>(&pending_)) {
    // rmsnorm(x0) -> x, then products of x: the products normalize x0 themselves.
    if (same(n->out, x) && n->rows == T && n->d == w->cols && out.id != n->x.id &&
        out.id != n->out.id && (!bias || bias->id != n->out.id)) {
      g.has_norm = true;
      g.norm = *n;
      pending_ = std::monostate();
    }
  }
  settle();
  g.T = T;
  if (acc) take_held(g.held);
  g.e.push_back(en);
  if (w->chunks.size() == 1) {
    pending_ = std::move(g);
  } else {
    emit_matvec(g, nullptr);  // a chunked matrix goes alone
  }
}

bool WebGpuBackend::fold_resid(Buf x, Buf y, int64_t n) {
  auto* g = std::get_if<PendingMatvec>(&pending_);
  if (!g || g->e.size() != 1 || g->resid) return false;
  for (const auto& h : g->held) {
    if (h.w) return false;  // a held B product still goes first
  }
  const auto& e = g->e[0];
  // y = the product's whole output, x not read by it (nor its norm's input), nor written.
  if (!same(e.out, y) || n != g->T * e.w->rows) return false;
  if (x.id == y.id || x.id == g->x().id || (e.has_bias && x.id == e.bias.id)) return false;
  if (g->has_norm && (x.id == g->norm.x.id || x.id == g->norm.w.id)) return false;
  g->resid = true;
  g->res = x;
  PendingMatvec p = std::move(*g);
  pending_ = std::monostate();
  emit_matvec(p, nullptr);
  return true;
}

void WebGpuBackend::swiglu(Buf gate, Buf up, Buf out, int64_t n) {
  if (auto* g = std::get_if<PendingMatvec>(&pending_)) {
    // gate and up products of one x, then silu(gate) * up: one dispatch.
    if (g->e.size() == 2 && !g->multi_x() && same(g->e[0].out, gate) && same(g->e[1].out, up) &&
        g->e[0].w->rows == g->e[1].w->rows &&
        n == g->T * g->e[0].w->rows && out.id != g->x().id && (!g->e[0].has_bias || out.id != g->e[0].bias.id) &&
        (!g->e[1].has_bias || out.id != g->e[1].bias.id)) {
      PendingMatvec p = std::move(*g);
      pending_ = std::monostate();
      emit_matvec(p, &out);
      return;
    }
  }
  settle();
  elementwise(1, gate, up, out, n);
}

void WebGpuBackend::emit_matvec(const PendingMatvec& g, const Buf* swiglu_out) {
  // Held B products that no base product took go first, in a group of their own, after the A
  // products they read; otherwise the A products go with the base ones (emit_matvec_group
  // emits them first where its dispatch cannot take them).
  PendingMatvec rest;
  rest.T = g.T;
  for (const auto& h : g.held) {
    if (h.w) rest.e.push_back(h);
  }
  PendingMatvec base = g;
  base.held = {};
  if (!g.held_a.empty() && !rest.e.empty()) {
    emit_lora_a(g);
    base.held_a = {};
    base.a_has_norm = false;
  }
  if (!rest.e.empty()) emit_matvec_group(rest, nullptr);
  emit_matvec_group(base, swiglu_out);
}

void WebGpuBackend::emit_lora_a(const PendingMatvec& g) {
  PendingMatvec a;
  a.T = g.T;
  a.e = g.held_a;
  a.has_norm = g.a_has_norm;
  a.norm = g.a_norm;
  emit_matvec_group(a, nullptr);
}

void WebGpuBackend::emit_matvec_group(const PendingMatvec& g_in, const Buf* swiglu_out) {
  // With held A products (LA), the base products take the norm those took.
  PendingMatvec g_la;
  if (!g_in.held_a.empty() && g_in.a_has_norm) {
    g_la = g_in;
    g_la.has_norm = true;
    g_la.norm = g_in.a_norm;
  }
  const PendingMatvec& g = g_in.held_a.empty() || !g_in.a_has_norm ? g_in : g_la;
  const bool la = !g.held_a.empty();
  const bool pair = swiglu_out != nullptr;
  const bool norm = g.has_norm;
  const Weight& w0 = *g.e[0].w;
  // The x the kernel reads: the rmsnorm's input when the norm is folded in.
  const Buf x = norm ? g.norm.x : g.x();
  // Buffers this dispatch writes: a vec4 view of x is only allowed when x is not among them.
  webgpu::FixedVec<uint32_t, 8> written;
  for (const auto& e : g.e) written.push_back(gpu(e.out));
  if (pair) written.push_back(gpu(*swiglu_out));
  if (norm) written.push_back(gpu(g.norm.out));
  if (g.resid) written.push_back(gpu(g.res));
  // Products of several x (never with a norm, a pair or a residual) read them as floats.
  const bool mx = g.multi_x();
  const bool xv4 = !mx && x.offset % 4 == 0 && w0.cols % 4 == 0 &&
                   std::find(written.begin(), written.end(), gpu(x)) == written.end();
  // Storage bindings the dispatch needs: params, x (one per product with mx), weights, one per
  // output and bias, sw, the norm's weights and output, the residual.
  size_t bindings = 3 + (pair ? 1 : 0) + (norm ? 2 : 0) + (g.resid ? 1 : 0) + (mx ? g.e.size() - 1 : 0);
  for (const auto& e : g.e) bindings += 1 + (e.has_bias ? 1 : 0);
  // LoRA B products folded into the stores: their inputs and (unless they share the products'
  // buffer) their weights take one binding each.
  const PendingMatvec::Entry* lb0 = nullptr;
  for (const auto& e : g.e) {
    if (e.lb && !lb0) lb0 = &e;
  }
  if (lb0) bindings += 1 + (lb0->lb->chunks[0].buffer != w0.chunks[0].buffer ? 1 : 0);
  if (la) {
    // The A products' weights (unless in a buffer bound already); the t ring takes lt's place.
    const uint32_t abuf = g.held_a[0].w->chunks[0].buffer;
    bindings += abuf != w0.chunks[0].buffer && (!lb0 || abuf != lb0->lb->chunks[0].buffer) ? 1 : 0;
    // Every B product reads the t of a held A product, and every A product's t is read.
    bool covered = lb0 != nullptr;
    for (const auto& e : g.e) {
      bool found = !e.lb;
      for (const auto& a : g.held_a) found = found || same(a.out, e.lt);
      covered = covered && found;
    }
    // Each invocation of the products holds up to 4 words of a t (subgroup kernel: R <= 4
    // lanes' worth), or one (workgroup kernel: R <= its 64 or more invocations).
    for (const auto& a : g.held_a) {
      covered = covered && a.w->rows <= 64 && (!rec_.subgroups() || a.w->rows <= 4 * int64_t(info_.subgroup_min));
    }
    for (const auto& a : g.held_a) {
      bool used = false;
      for (const auto& e : g.e) used = used || (e.lb && same(a.out, e.lt));
      covered = covered && used;
    }
    if (!covered || mx || w0.chunks.size() != 1 || (norm && !xv4) || bindings > info_.max_storage_buffers) {
      emit_lora_a(g_in);
      PendingMatvec base = g_in;
      base.held_a = {};
      base.a_has_norm = false;
      emit_matvec_group(base, swiglu_out);
      return;
    }
  }
  if (lb0) {
    if (w0.chunks.size() != 1 || bindings > info_.max_storage_buffers) {
      // Not in one dispatch: the B products first, then the products that add to them.
      PendingMatvec bs, base = g;
      bs.T = g.T;
      for (auto& e : base.e) {
        if (!e.lb) continue;
        bs.e.push_back({e.lb, e.out, false, Buf{}, e.acc, e.lt, nullptr, Buf{}});
        e.acc = true;
        e.lb = nullptr;
      }
      emit_matvec_group(bs, nullptr);
      emit_matvec_group(base, swiglu_out);
      return;
    }
  }
  if (norm && (!xv4 || bindings > info_.max_storage_buffers)) {
    // The folded norm reads x through the vec4 view, and needs two more bindings: normalize
    // separately.
    PendingMatvec plain = g;
    plain.has_norm = false;
    rmsnorm_impl(g.norm.x, g.norm.w, g.norm.out, g.norm.rows, g.norm.d, g.norm.eps, nullptr);
    emit_matvec_group(plain, swiglu_out);
    return;
  }
  if (bindings > info_.max_storage_buffers && g.e.size() > 1 && !pair) {
    // Too many outputs and biases for the device: one dispatch per product.
    for (const auto& e : g.e) {
      PendingMatvec one = g;
      one.e = {e};
      emit_matvec_group(one, nullptr);
    }
    return;
  }
  // Few rows of many units (the LoRA A products of a stage: 3 x 16 rows of 256 units) go one
  // row per workgroup: more of them in flight, and fewer units per invocation.
  int64_t rows = pair ? w0.rows : 0;
  if (!pair) {
    for (const auto& e : g.e) rows += e.w->rows;
  }
  const bool few_long = rows <= 256 && w0.stride >= 64;
  // Long rows (down_proj of a 3B model: 344 units): a workgroup per block of rows keeps more
  // loads in flight than a subgroup.
  const bool subgroup_kernel = rec_.subgroups() && w0.stride <= 256 && !few_long;
  // Rows per subgroup block: 4 for int8 (the LM head: many rows, wide units), 2 for the rest
  // (more blocks in flight), as bench_gpu --profile measures them; 4 per workgroup without
  // subgroups.
  const int64_t nr = few_long ? 1 : rec_.subgroups() && w0.format != WeightFormat::Int8 ? 2 : 4;
  const int64_t wg = subgroup_kernel ? 64 : few_long ? 256 : (rec_.subgroups() ? 128 : 64);
  // LA: t_j of token t at ring word slot[j] + t R_j; the A rows go to the first kA workgroups
  // of each token, a subgroup per row.
  uint32_t slot[kMaxGroup] = {};
  uint32_t nA = 0, kA = 0;
  if (la) {
    for (const auto& a : g.held_a) nA += uint32_t(a.w->rows);
    const uint32_t at = lora_ring_take(int64_t(nA) * g.T);
    uint32_t off = 0;
    for (size_t j = 0; j < g.held_a.size(); ++j) {
      slot[j] = at + off;
      off += uint32_t(g.held_a[j].w->rows * g.T);
    }
    kA = subgroup_kernel ? uint32_t(ceil_div(nA, wg / sg_max())) : nA;
  }
  for (size_t ci = 0; ci < w0.chunks.size(); ++ci) {  // several chunks only for a lone matrix
    DispatchDesc d;
    d.params.assign(la ? 72 : lb0 ? 52 : 40, 0);
    if (la) {
      d.params[52] = kA;
      d.params[53] = nA;
      for (size_t j = 0; j < g.held_a.size(); ++j) {
        const Weight& a = *g.held_a[j].w;
        uint32_t* p = d.params.data() + 56 + 4 * j;
        p[0] = a.chunks[0].base;
        p[1] = a.stride;
        p[2] = slot[j];
        p[3] = uint32_t(a.rows);
      }
    }
    d.params[0] = uint32_t(x.offset);
    d.params[1] = uint32_t(g.T);
    d.params[2] = uint32_t(w0.cols);
    d.params[3] = w0.stride;
    d.params[4] = norm ? uint32_t(g.norm.w.offset) : 0u;
    d.params[5] = norm ? webgpu::fbits(g.norm.eps) : 0u;
    d.params[7] = pair ? uint32_t(swiglu_out->offset) : 0u;
    d.params[32] = norm ? uint32_t(g.norm.out.offset) : 0u;
    d.params[33] = g.resid ? uint32_t(g.res.offset + w0.chunks[ci].row0) : 0u;
    int64_t vrows = 0;
    static const char* outs[] = {"out0", "out1", "out2"};
    static const char* biases[] = {"bias0", "bias1", "bias2"};
    static const char* xs[] = {"x0", "x1", "x2"};
    const uint32_t wbuf = w0.chunks[ci].buffer;
    // Names this specialization does not use get no binding (buffer 0).
    d.operands = {{"x0", xv4 ? 0u : gpu(x)}, {"wq", wbuf, false, true}, {"xv", xv4 ? gpu(x) : 0u, false, false, true},
                  {"nwv", norm ? gpu(g.norm.w) : 0u, false, false, true}, {"h", norm ? gpu(g.norm.out) : 0u, true},
                  {"res", g.resid ? gpu(g.res) : 0u, true}};
    for (size_t m = 0; m < kMaxGroup; ++m) {
      if (m >= g.e.size()) {
        d.operands.push_back({outs[m], 0u, true});
        d.operands.push_back({biases[m], 0u});
        if (m > 0) d.operands.push_back({xs[m], 0u});
        continue;
      }
      const auto& e = g.e[m];
      const Chunk& c = e.w->chunks[m == 0 ? ci : 0];
      uint32_t* p = d.params.data() + 8 + 8 * m;
      p[0] = uint32_t(pair ? 0 : vrows);
      p[1] = uint32_t(c.rows);
      p[2] = c.base;
      p[3] = c.scale_off;
      p[4] = c.min_off;
      p[5] = uint32_t(e.out.offset + c.row0);
      p[6] = uint32_t(e.w->rows);
      p[7] = e.has_bias ? uint32_t(e.bias.offset + c.row0) : 0xffffffffu;
      if (e.acc) d.params[34] |= 1u << m;
      d.params[36 + m] = uint32_t(e.x.offset);
      if (lb0) {
        uint32_t* l = d.params.data() + 40 + 4 * m;
        l[0] = e.lb ? e.lb->chunks[0].base : 0xffffffffu;
        l[1] = e.lb ? e.lb->stride : 0u;
        l[2] = e.lb ? uint32_t(e.lt.offset) : 0u;
        l[3] = e.lb ? uint32_t(e.lb->cols) : 0u;
        for (size_t j = 0; la && e.lb && j < g.held_a.size(); ++j) {
          if (!same(g.held_a[j].out, e.lt)) continue;
          l[2] = slot[j];
          d.params[68 + m] = uint32_t(j);
        }
      }
      vrows = pair ? c.rows : vrows + ceil_div(c.rows, 4) * 4;
      d.operands.push_back({outs[m], gpu(e.out), true});
      d.operands.push_back({biases[m], e.has_bias ? gpu(e.bias) : 0u});
      if (m > 0) d.operands.push_back({xs[m], mx ? gpu(e.x) : 0u});
    }
    d.operands.push_back({"sw", pair ? gpu(*swiglu_out) : 0u, true});
    d.operands.push_back({"lbw", lb0 ? lb0->lb->chunks[0].buffer : 0u, false, true});
    d.operands.push_back({"lt", lb0 && !la ? gpu(lb0->lt) : 0u});
    d.operands.push_back({"la", la ? g.held_a[0].w->chunks[0].buffer : 0u, false, true});
    d.operands.push_back({"lta", la ? gpu(lora_ring_) : 0u, true, false, false, true});
    d.params[6] = uint32_t(vrows);
    const webgpu::Consts consts = cu("NW", pair ? 2 : g.e.size()) + cb("PAIR", pair) + cu("NR", nr) + cb("XV4", xv4) + cb("MX", mx) +
                               cb("NORM", norm) + cb("RESID", g.resid) + cu("WG", wg) + cb("LB", lb0 != nullptr) +
                               cb("LBF16", lb0 && lb0->lb->format == WeightFormat::F16) + cb("LA", la) +
                               cb("LAF16", la && g.held_a[0].w->format == WeightFormat::F16) +
                               cu("LA_SPIN", la ? opt_.lora_wait : 0);
    if (subgroup_kernel) {
      // A subgroup per block of rows, no barriers (subgroup tier).
      d.shader = {"matmul_vec_subgroup", false, format_key(w0.format), false, consts, true, "matvec_common"};
      rec_.grid(uint64_t(ceil_div(vrows, nr * (wg / sg_max()))) + kA, &d.x, &d.y);
    } else {
      d.shader = {"matmul_vec", true, format_key(w0.format), false, consts, false, "matvec_common"};
      rec_.grid(uint64_t(ceil_div(vrows, nr)) + kA, &d.x, &d.y);
    }
    d.z = uint32_t(g.T);
    rec_.dispatch(std::move(d));
  }
}

void WebGpuBackend::emit_matmul_tiled(Buf x, const Weight& w, const Buf* bias, Buf out, int64_t T, bool acc) {
  for (const Chunk& c : w.chunks) {
    DispatchDesc d;
    d.shader = {"matmul_tiled", false, format_key(w.format), false, ""};
    d.x = uint32_t(ceil_div(c.rows, 64));
    d.y = uint32_t(ceil_div(T, 64));
    d.operands = {{"x", gpu(x)}, {"bias", bias ? gpu(*bias) : gpu(x)}, {"out", gpu(out), true}, {"wq", c.buffer, false, true}};
    d.params = {uint32_t(x.offset), uint32_t(out.offset), bias ? uint32_t(bias->offset) : 0u, bias ? 1u : 0u,
                uint32_t(T), uint32_t(w.cols), uint32_t(w.rows), uint32_t(c.row0), uint32_t(c.rows), w.stride,
                c.scale_off, c.min_off, c.base, acc ? 1u : 0u};
    rec_.dispatch(std::move(d));
  }
}

}  // namespace hearth
