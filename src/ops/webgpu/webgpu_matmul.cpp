// WebGpuBackend matrix products. Decode-sized products (T <= 4) wait in a pending group so
// that consecutive products of the same x from one weight buffer (q, k, v; gate, up) become one
// dispatch, and a swiglu of the gate/up pair folds into it (matvec_common.wgsl). Prefill-sized
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
}  // namespace

bool WebGpuBackend::fits_group(const PendingMatvec& g, Buf x, const Weight& w, const Buf* bias, Buf out,
                               int64_t T) const {
  if (g.e.empty() || g.e.size() >= kMaxGroup || g.T != T || g.x.id != x.id || g.x.offset != x.offset) return false;
  const Weight& w0 = *g.e[0].w;
  if (w.chunks.size() != 1 || w.format != w0.format || w.cols != w0.cols || w.chunks[0].buffer != w0.chunks[0].buffer) {
    return false;
  }
  // The new product must not write what the group reads or writes, nor read what it writes.
  if (out.id == x.id) return false;
  for (const auto& e : g.e) {
    if (out.id == e.out.id || (e.has_bias && out.id == e.bias.id) || (bias && bias->id == e.out.id)) return false;
  }
  return true;
}

void WebGpuBackend::matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) {
  const Weight* w = weight(W);
  if (!w || T <= 0) {
    settle();
    return;
  }
  if (T > kVecMaxT) {
    settle();
    emit_matmul_tiled(x, *w, bias, out, T);
    return;
  }
  if (auto* g = std::get_if<PendingMatvec>(&pending_)) {
    if (fits_group(*g, x, *w, bias, out, T)) {
      g->e.push_back({w, out, bias != nullptr, bias ? *bias : Buf{}});
      return;
    }
  }
  settle();
  PendingMatvec g;
  g.x = x;
  g.T = T;
  g.e.push_back({w, out, bias != nullptr, bias ? *bias : Buf{}});
  if (w->chunks.size() == 1) {
    pending_ = std::move(g);
  } else {
    emit_matvec(g, nullptr);  // a chunked matrix goes alone
  }
}

void WebGpuBackend::swiglu(Buf gate, Buf up, Buf out, int64_t n) {
  if (auto* g = std::get_if<PendingMatvec>(&pending_)) {
    // gate and up products of one x, then silu(gate) * up: one dispatch.
    if (g->e.size() == 2 && g->e[0].out.id == gate.id && g->e[0].out.offset == gate.offset &&
        g->e[1].out.id == up.id && g->e[1].out.offset == up.offset && g->e[0].w->rows == g->e[1].w->rows &&
        n == g->T * g->e[0].w->rows && out.id != g->x.id && (!g->e[0].has_bias || out.id != g->e[0].bias.id) &&
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
  const bool pair = swiglu_out != nullptr;
  const Weight& w0 = *g.e[0].w;
  for (size_t ci = 0; ci < w0.chunks.size(); ++ci) {  // several chunks only for a lone matrix
    DispatchDesc d;
    d.params.assign(32, 0);
    d.params[0] = uint32_t(g.x.offset);
    d.params[1] = uint32_t(g.T);
    d.params[2] = uint32_t(w0.cols);
    d.params[3] = w0.stride;
    d.params[7] = pair ? uint32_t(swiglu_out->offset) : 0u;
    int64_t vrows = 0;
    static const char* outs[] = {"out0", "out1", "out2"};
    static const char* biases[] = {"bias0", "bias1", "bias2"};
    d.operands = {{"x", gpu(g.x)}, {"wq", w0.chunks[ci].buffer, false, true}};
    for (size_t m = 0; m < kMaxGroup; ++m) {
      if (m >= g.e.size()) {
        d.operands.push_back({outs[m], gpu(g.e[0].out), true});
        d.operands.push_back({biases[m], gpu(g.x)});
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
      vrows = pair ? c.rows : vrows + ceil_div(c.rows, 4) * 4;
      d.operands.push_back({outs[m], gpu(e.out), true});
      d.operands.push_back({biases[m], e.has_bias ? gpu(e.bias) : gpu(g.x)});
    }
    d.operands.push_back({"sw", pair ? gpu(*swiglu_out) : gpu(g.e[0].out), true});
    d.params[6] = uint32_t(vrows);
    const std::string consts = cu("NW", pair ? 2 : g.e.size()) + cb("PAIR", pair);
    if (rec_.subgroups()) {
      // A subgroup per block of 4 rows, no barriers (subgroup tier).
      d.shader = {"matmul_vec_subgroup", false, format_key(w0.format), false, cu("WG", 64) + consts, true,
                  "matvec_common"};
      rec_.grid(uint64_t(ceil_div(vrows, 4 * (64 / sg_max()))), &d.x, &d.y);
    } else {
      d.shader = {"matmul_vec", true, format_key(w0.format), false, cu("WG", 64) + consts, false, "matvec_common"};
      rec_.grid(uint64_t(ceil_div(vrows, 4)), &d.x, &d.y);
    }
    d.z = uint32_t(g.T);
    rec_.dispatch(std::move(d));
  }
}

void WebGpuBackend::emit_matmul_tiled(Buf x, const Weight& w, const Buf* bias, Buf out, int64_t T) {
  for (const Chunk& c : w.chunks) {
    DispatchDesc d;
    d.shader = {"matmul_tiled", false, format_key(w.format), false, ""};
    d.x = uint32_t(ceil_div(c.rows, 64));
    d.y = uint32_t(ceil_div(T, 64));
    d.operands = {{"x", gpu(x)}, {"bias", bias ? gpu(*bias) : gpu(x)}, {"out", gpu(out), true}, {"wq", c.buffer, false, true}};
    d.params = {uint32_t(x.offset), uint32_t(out.offset), bias ? uint32_t(bias->offset) : 0u, bias ? 1u : 0u,
                uint32_t(T), uint32_t(w.cols), uint32_t(w.rows), uint32_t(c.row0), uint32_t(c.rows), w.stride,
                c.scale_off, c.min_off, c.base};
    rec_.dispatch(std::move(d));
  }
}

}  // namespace hearth
