// WebGpuBackend matrix products. A product stage (ops/plan.h) of decode size (T <= 4) becomes
// matrix-vector dispatches (matvec_common.wgsl) that take every product of one weight buffer at
// once, with the stage's norm, biases, adapter B products, SwiGLU or residual folded in; an
// adapter's A products go first, in a dispatch of their own. Prefill-sized stages use the tiled
// kernel (matmul_tiled.wgsl), one dispatch per product and weight chunk; from kDequantMinT
// tokens a quantized chunk is first dequantized into an f32 scratch buffer (dequant.wgsl), which
// the tiled kernel then reads as F32 weights: the same values in the same order, so the same
// result, at the f32 kernel's speed.
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

namespace {
constexpr int64_t kVecMaxT = 4;        // up to this many tokens: matrix-vector kernels
constexpr int64_t kMaxLoraRank = 256;  // adapter B products folded into a store: columns at most
constexpr int64_t kDequantMinT = 128;  // prefill products from this many tokens read dequantized weights
constexpr int64_t kDequantMaxFloats = int64_t(1) << 26;  // larger chunks are read quantized
bool same(Buf a, Buf b) { return a.id == b.id && a.offset == b.offset; }
}  // namespace

bool WebGpuBackend::MatvecGroup::multi_x() const {
  for (const auto& en : e) {
    if (!same(en.x, e[0].x)) return true;
  }
  return false;
}

void WebGpuBackend::matvec_dispatches(const MatvecGroup& g, Dispatches& ds) const {
  const Weight& w0 = *g.e[0].w;
  const bool norm = g.norm;
  const Buf x = g.e[0].x;  // with the norm: its input
  // Buffers this dispatch writes: a vec4 view of x is only allowed when x is not among them.
  webgpu::FixedVec<uint32_t, 8> written;
  for (const auto& e : g.e) written.push_back(gpu(e.out));
  if (g.pair) written.push_back(gpu(g.sw));
  if (norm) written.push_back(gpu(g.norm_out));
  if (g.resid) written.push_back(gpu(g.res));
  // Products of several x (never with a norm, a pair or a residual) read them as floats.
  const bool mx = g.multi_x();
  const bool xv4 = !mx && x.offset % 4 == 0 && w0.cols % 4 == 0 &&
                   std::find(written.begin(), written.end(), gpu(x)) == written.end();
  // Storage bindings: params, x (one per product with mx), weights, one per output and bias,
  // sw, the norm's weights and output, the residual; folded B products: their t and (unless in
  // the products' buffer) their weights.
  size_t bindings = 3 + (g.pair ? 1 : 0) + (norm ? 2 : 0) + (g.resid ? 1 : 0) + (mx ? g.e.size() - 1 : 0);
  for (const auto& e : g.e) bindings += 1 + (e.bias.id ? 1 : 0);
  const MatvecGroup::Entry* lb0 = nullptr;
  for (const auto& e : g.e) {
    if (e.lb && !lb0) lb0 = &e;
  }
  if (lb0) bindings += 1 + (lb0->lb->chunks[0].buffer != w0.chunks[0].buffer ? 1 : 0);
  if (lb0 && (w0.chunks.size() != 1 || bindings > info_.max_storage_buffers)) {
    // Not in one dispatch: the B products first (each its own t), then the products that add
    // to them.
    MatvecGroup bs, base = g;
    bs.T = g.T;
    for (auto& e : base.e) {
      if (!e.lb) continue;
      bs.e.push_back({e.lb, e.out, Buf{}, e.acc, e.lt, nullptr, Buf{}});
      e.acc = true;
      e.lb = nullptr;
    }
    matvec_dispatches(bs, ds);
    matvec_dispatches(base, ds);
    return;
  }
  if (norm && (!xv4 || bindings > info_.max_storage_buffers)) {
    // The folded norm reads x through the vec4 view and needs two more bindings: normalize
    // in a dispatch of its own.
    MatvecGroup plain = g;
    plain.norm = false;
    rmsnorm_dispatch(x, g.norm_w, g.norm_out, g.T, w0.cols, g.eps, ds);
    for (auto& e : plain.e) e.x = g.norm_out;
    matvec_dispatches(plain, ds);
    return;
  }
  if (bindings > info_.max_storage_buffers && g.e.size() > 1 && !g.pair) {
    // Too many outputs and biases for the device: one dispatch per product.
    for (const auto& e : g.e) {
      MatvecGroup one = g;
      one.e = {e};
      matvec_dispatches(one, ds);
    }
    return;
  }
  // Few rows of many units (an adapter's A products: 3 x 16 rows of 256 units) go one row per
  // workgroup: more of them in flight, and fewer units per invocation.
  int64_t rows = g.pair ? w0.rows : 0;
  if (!g.pair) {
    for (const auto& e : g.e) rows += e.w->rows;
  }
  const bool few_long = rows <= 64 && w0.stride >= 64;
  // Long rows (down_proj of a 3B model: 344 units): a workgroup per block of rows keeps more
  // loads in flight than a subgroup.
  const bool subgroup_kernel = rec_.subgroups() && w0.stride <= 256 && !few_long;
  // Rows per subgroup block: 4 for int8 (the LM head: many rows, wide units), 2 for the rest
  // (more blocks in flight); 4 per workgroup without subgroups.
  const int64_t nr = few_long ? 1 : rec_.subgroups() && w0.format != WeightFormat::Int8 ? 2 : 4;
  const int64_t wg = subgroup_kernel ? 64 : few_long ? 256 : (rec_.subgroups() ? 128 : 64);
  for (size_t ci = 0; ci < w0.chunks.size(); ++ci) {  // several chunks only for a lone matrix
    DispatchDesc d;
    webgpu::MatvecParams p;
    p.x_off = u32(x.offset);
    p.T = u32(g.T);
    p.cols = u32(w0.cols);
    p.w_stride = w0.stride;
    p.nw_off = norm ? u32(g.norm_w.offset) : 0u;
    p.eps = norm ? g.eps : 0.0f;
    p.sw_off = g.pair ? u32(g.sw.offset) : 0u;
    p.h_off = norm ? u32(g.norm_out.offset) : 0u;
    p.res_off = g.resid ? u32(g.res.offset + w0.chunks[ci].row0) : 0u;
    int64_t vrows = 0;
    static const char* outs[] = {"out0", "out1", "out2"};
    static const char* biases[] = {"bias0", "bias1", "bias2"};
    static const char* xs[] = {"x0", "x1", "x2"};
    const uint32_t wbuf = w0.chunks[ci].buffer;
    // Names this specialization does not use get no binding (buffer 0).
    d.operands = {{"x0", xv4 ? 0u : gpu(x)}, {"wq", wbuf, false, true}, {"xv", xv4 ? gpu(x) : 0u, false, false, true},
                  {"nwv", norm ? gpu(g.norm_w) : 0u, false, false, true}, {"h", norm ? gpu(g.norm_out) : 0u, true},
                  {"res", g.resid ? gpu(g.res) : 0u, true}};
    for (size_t m = 0; m < 3; ++m) {
      p.lora[m].b_base = 0xffffffffu;
      if (m >= g.e.size()) {
        d.operands.push_back({outs[m], 0u, true});
        d.operands.push_back({biases[m], 0u});
        if (m > 0) d.operands.push_back({xs[m], 0u});
        continue;
      }
      const auto& e = g.e[m];
      const Chunk& c = e.w->chunks[m == 0 ? ci : 0];
      webgpu::MatvecMat& mm = p.mats[m];
      mm.vbase = u32(g.pair ? 0 : vrows);
      mm.nrows = u32(c.rows);
      mm.w = webgpu::WeightRef{e.w->stride, c.scale_off, c.min_off, c.base};
      mm.out_off = u32(e.out.offset + c.row0);
      mm.out_stride = u32(e.w->rows);
      mm.bias_off = e.bias.id ? u32(e.bias.offset + c.row0) : 0xffffffffu;
      mm.x_off = u32(e.x.offset);
      mm.accumulate = e.acc ? 1u : 0u;
      if (e.lb) p.lora[m] = webgpu::MatvecLora{e.lb->chunks[0].base, e.lb->stride, u32(e.lt.offset), u32(e.lb->cols)};
      vrows = g.pair ? c.rows : vrows + ceil_div(c.rows, 4) * 4;
      d.operands.push_back({outs[m], gpu(e.out), true});
      d.operands.push_back({biases[m], e.bias.id ? gpu(e.bias) : 0u});
      if (m > 0) d.operands.push_back({xs[m], mx ? gpu(e.x) : 0u});
    }
    d.operands.push_back({"sw", g.pair ? gpu(g.sw) : 0u, true});
    d.operands.push_back({"lbw", lb0 ? lb0->lb->chunks[0].buffer : 0u, false, true});
    d.operands.push_back({"lt", lb0 ? gpu(lb0->lt) : 0u});
    p.vrows = u32(vrows);
    d.set_params(p);
    const webgpu::Consts consts = cu("NW", g.pair ? 2 : g.e.size()) + cb("PAIR", g.pair) + cu("NR", nr) + cb("XV4", xv4) +
                                  cb("MX", mx) + cb("NORM", norm) + cb("RESID", g.resid) + cu("WG", wg) +
                                  cb("LB", lb0 != nullptr) + cb("LBF16", lb0 && lb0->lb->format == WeightFormat::F16);
    if (subgroup_kernel) {
      // A subgroup per block of rows, no barriers (subgroup tier).
      d.shader = {"matmul_vec_subgroup", false, format_key(w0.format), false, consts, true, "matvec_common"};
      rec_.grid(uint64_t(ceil_div(vrows, nr * (wg / sg_max()))), &d.x, &d.y);
    } else {
      d.shader = {"matmul_vec", true, format_key(w0.format), false, consts, false, "matvec_common"};
      rec_.grid(uint64_t(ceil_div(vrows, nr)), &d.x, &d.y);
    }
    d.z = u32(g.T);
    ds.push_back(std::move(d));
  }
}

// A scratch buffer of at least `n` floats in `b`: one it outgrows stays alive (a compiled plan
// may still read it).
Buf WebGpuBackend::kept_scratch(Buf& b, int64_t& cap, int64_t n) {
  if (n > cap) {
    if (b.id) retired_.push_back(b);
    b = alloc(n);
    cap = n;
  }
  return b;
}

// x [T, cols] through Q8_0 and back into a scratch buffer (q8_0_roundtrip.wgsl): the
// activations products with Q8_0 / Q4_0 weights take.
Buf WebGpuBackend::q8_0_activations(Buf x, int64_t T, int64_t cols, Dispatches& ds) {
  const Buf out = kept_scratch(xq_, xq_cap_, T * cols);
  DispatchDesc d;
  d.shader = {"q8_0_roundtrip", false, "", false, cu("WG", 256)};
  d.operands = {{"x", gpu(x)}, {"out", gpu(out), true}};
  d.set_params(webgpu::Q8RoundtripParams{u32(x.offset), 0u, u32(T * cols / QMatrix::kBlock)});
  elementwise_grid(T * cols / QMatrix::kBlock, d);
  ds.push_back(std::move(d));
  return out;
}

void WebGpuBackend::tiled_dispatches(Buf x, const Weight& w, Buf bias, Buf out, int64_t T, bool acc, const Buf* res,
                                     Dispatches& ds) {
  // Tiles of 128 tokens once there are that many (more reuse of each dequantized weight), else 64.
  const int64_t tm = T >= 128 ? 128 : 64;
  const bool xv4 = x.offset % 4 == 0 && w.cols % 4 == 0 && x.id != out.id && (!res || x.id != res->id);
  const bool dequant = opt_.prefill_dequant && w.format != WeightFormat::F32 && w.cols % 4 == 0 && T >= kDequantMinT;
  for (const Chunk& c : w.chunks) {
    const int64_t floats = c.rows * w.cols;
    const bool dq = dequant && floats <= kDequantMaxFloats && uint64_t(floats) * 4 <= info_.max_storage_binding;
    webgpu::WeightRef wref{w.stride, c.scale_off, c.min_off, c.base};
    uint32_t wbuf = c.buffer;
    if (dq) {
      const Buf scratch = kept_scratch(dequant_, dequant_cap_, floats);
      DispatchDesc q;
      q.shader = {"dequant", false, format_key(w.format), false, cu("WG", 256)};
      q.operands = {{"wq", c.buffer, false, true}, {"out", gpu(scratch), true, false, true}};
      q.set_params(webgpu::DequantParams{wref, 0u, u32(c.rows), u32(w.cols)});
      elementwise_grid(floats / 4, q);
      ds.push_back(std::move(q));
      wref = webgpu::WeightRef{u32(w.cols / 4), 0u, 0u, 0u};
      wbuf = gpu(scratch);
    }
    DispatchDesc d;
    d.shader = {"matmul_tiled", false, dq ? "f32" : format_key(w.format), false,
                cu("TM", tm) + cb("XV4", xv4) + cb("BIAS", bias.id != 0) + cb("ACC", acc) + cb("RESID", res != nullptr)};
    d.x = u32(ceil_div(c.rows, 128));
    d.y = u32(ceil_div(T, tm));
    d.operands = {{"x", xv4 ? 0u : gpu(x)}, {"xv", xv4 ? gpu(x) : 0u, false, false, true},
                  {"bias", bias.id ? gpu(bias) : 0u}, {"out", gpu(out), true}, {"wq", wbuf, false, true},
                  {"res", res ? gpu(*res) : 0u, true}};
    webgpu::TiledParams p;
    p.x_off = u32(x.offset);
    p.out_off = u32(out.offset);
    p.bias_off = bias.id ? u32(bias.offset) : 0u;
    p.T = u32(T);
    p.cols = u32(w.cols);
    p.out_stride = u32(w.rows);
    p.row0 = u32(c.row0);
    p.nrows = u32(c.rows);
    p.w = wref;
    p.res_off = res ? u32(res->offset) : 0u;
    d.set_params(p);
    ds.push_back(std::move(d));
  }
}

void WebGpuBackend::matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) {
  matmul_impl(x, W, bias, out, T, false);
}

void WebGpuBackend::matmul_add(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) {
  matmul_impl(x, W, bias, out, T, true);
}

void WebGpuBackend::matmul_impl(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T, bool acc) {
  const Weight* w = weight(W);
  if (!w || T <= 0) return;
  Dispatches ds;
  if (is_block_format(w->format)) {  // activations through Q8_0, then the tiled kernel at any T
    tiled_dispatches(q8_0_activations(x, T, w->cols, ds), *w, bias ? *bias : Buf{}, out, T, acc, nullptr, ds);
  } else if (T > kVecMaxT) {
    tiled_dispatches(x, *w, bias ? *bias : Buf{}, out, T, acc, nullptr, ds);
  } else {
    MatvecGroup g;
    g.T = T;
    g.e.push_back({w, out, bias ? *bias : Buf{}, acc, x, nullptr, Buf{}});
    matvec_dispatches(g, ds);
  }
  record(ds);
}

void WebGpuBackend::product_stage(const ProductStage& s, Dispatches& ds) {
  // Validate against the uploaded weights: the plan states the shapes.
  std::vector<const Weight*> ws, as, bs;
  for (const Product& p : s.products) {
    const Weight* w = weight(p.w);
    if (!w) return;
    if (w->cols != s.in || w->rows != p.rows) {
      fail(err("WebGPU plan: a product of ", w->rows, "x", w->cols, " weights where the plan states ", p.rows, "x", s.in));
      return;
    }
    ws.push_back(w);
    as.push_back(p.lora ? weight(p.lora->A) : nullptr);
    bs.push_back(p.lora ? weight(p.lora->B) : nullptr);
    if (p.lora && (!as.back() || !bs.back())) return;
  }
  const Product& p0 = s.products.front();
  const bool swiglu = s.epilogue == Epilogue::SwiGLU;
  const bool resid = s.epilogue == Epilogue::Residual;
  bool any_lora = false, any_block = false;
  for (const Product& p : s.products) any_lora = any_lora || p.lora.has_value();
  for (const Weight* w : ws) any_block = any_block || is_block_format(w->format);
  // Prefill sizes, and Q8_0 / Q4_0 weights at any size (their activations go through Q8_0
  // first; adapters take them as they are).
  if (s.T > kVecMaxT || any_block) {
    Buf x = s.x;
    if (s.has_norm) {
      rmsnorm_dispatch(s.x, s.norm_w, s.norm_out, s.T, s.in, s.eps, ds);
      x = s.norm_out;
    }
    const Buf xq = any_block ? q8_0_activations(x, s.T, s.in, ds) : x;
    for (size_t i = 0; i < s.products.size(); ++i) {
      const Product& p = s.products[i];
      const Buf* res = resid && i == 0 ? &s.epilogue_out : nullptr;
      if (p.lora) {
        tiled_dispatches(x, *as[i], Buf{}, p.lora->t, s.T, false, nullptr, ds);
        tiled_dispatches(p.lora->t, *bs[i], Buf{}, p.out, s.T, false, nullptr, ds);
      }
      tiled_dispatches(is_block_format(ws[i]->format) ? xq : x, *ws[i], p.bias, p.out, s.T, p.lora.has_value(), res, ds);
    }
    if (swiglu) elementwise(webgpu::ElementwiseOp::SwiGLU, p0.out, s.products[1].out, s.epilogue_out, s.T * p0.rows, ds);
    return;
  }
  // Decode sizes. An adapter's A products first, one dispatch for all of them when their
  // matrices share a buffer (each layer's go up as a group), with the stage's norm folded in.
  Buf x = s.x;
  bool norm = s.has_norm;
  if (any_lora) {
    std::vector<MatvecGroup> groups;
    for (size_t i = 0; i < s.products.size(); ++i) {
      if (!s.products[i].lora) continue;
      const Weight* a = as[i];
      MatvecGroup::Entry e{a, s.products[i].lora->t, Buf{}, false, s.x, nullptr, Buf{}};
      if (!groups.empty() && a->chunks.size() == 1 && groups.back().e[0].w->chunks.size() == 1 &&
          a->chunks[0].buffer == groups.back().e[0].w->chunks[0].buffer && a->cols == groups.back().e[0].w->cols) {
        groups.back().e.push_back(e);
        continue;
      }
      MatvecGroup g;
      g.T = s.T;
      g.e.push_back(e);
      g.norm = norm && groups.empty();  // the first group writes the normed x, the rest read it
      g.norm_w = s.norm_w;
      g.norm_out = s.norm_out;
      g.eps = s.eps;
      groups.push_back(g);
    }
    for (auto& g : groups) {
      if (!g.norm && norm) {
        for (auto& e : g.e) e.x = s.norm_out;  // written by the first group
      }
      matvec_dispatches(g, ds);
    }
    if (norm) {
      x = s.norm_out;
      norm = false;
    }
  }
  // The base products: those in one buffer (single chunks) share a dispatch; gate and up with
  // the SwiGLU after them when they can share one, else the SwiGLU goes alone.
  std::vector<MatvecGroup> groups;
  for (size_t i = 0; i < s.products.size(); ++i) {
    const Product& p = s.products[i];
    const Weight* w = ws[i];
    MatvecGroup::Entry e{w, p.out, p.bias, false, x, nullptr, Buf{}};
    if (p.lora && bs[i]->chunks.size() == 1 && (bs[i]->format == WeightFormat::F16 || bs[i]->format == WeightFormat::F32) &&
        bs[i]->cols <= kMaxLoraRank) {
      e.lb = bs[i];
      e.lt = p.lora->t;
    } else if (p.lora) {
      // The B product writes out first, the base product adds to it.
      MatvecGroup b;
      b.T = s.T;
      b.e.push_back({bs[i], p.out, Buf{}, false, p.lora->t, nullptr, Buf{}});
      matvec_dispatches(b, ds);
      e.acc = true;
    }
    const bool joins = !groups.empty() && w->chunks.size() == 1 && groups.back().e[0].w->chunks.size() == 1 &&
                       w->chunks[0].buffer == groups.back().e[0].w->chunks[0].buffer &&
                       w->format == groups.back().e[0].w->format;
    if (joins) {
      groups.back().e.push_back(e);
      continue;
    }
    MatvecGroup g;
    g.T = s.T;
    g.e.push_back(e);
    g.norm = norm && groups.empty();
    g.norm_w = s.norm_w;
    g.norm_out = s.norm_out;
    g.eps = s.eps;
    groups.push_back(g);
  }
  const bool pair = swiglu && groups.size() == 1 && groups[0].e.size() == 2 && ws[0]->rows == ws[1]->rows;
  if (pair) {
    groups[0].pair = true;
    groups[0].sw = s.epilogue_out;
  }
  if (resid && groups.size() == 1 && groups[0].e.size() == 1) {
    groups[0].resid = true;
    groups[0].res = s.epilogue_out;
  }
  for (auto& g : groups) {
    if (!g.norm && norm) {
      for (auto& e : g.e) e.x = s.norm_out;  // written by the first group
    }
    matvec_dispatches(g, ds);
  }
  if (swiglu && !pair) elementwise(webgpu::ElementwiseOp::SwiGLU, p0.out, s.products[1].out, s.epilogue_out, s.T * p0.rows, ds);
  if (resid && !groups[0].resid) elementwise(webgpu::ElementwiseOp::Add, s.epilogue_out, p0.out, s.epilogue_out, s.T * p0.rows, ds);
}

}  // namespace hearth
