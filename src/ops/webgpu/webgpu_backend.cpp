// WebGpuBackend: memory, and the Backend ops other than matmul (webgpu_matmul.cpp) as recorded
// WGSL dispatches, with the small fusions of settle(). Weight upload: webgpu_weights.cpp.
// Kernel parameters are documented at the top of each wgsl/*.wgsl file.
#include "ops/webgpu/webgpu_backend.h"
#include "ops/webgpu/webgpu_util.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <variant>

namespace hearth {

using webgpu::ceil_div;
using webgpu::cu;
using webgpu::DispatchDesc;
using webgpu::fbits;
using webgpu::format_key;
using webgpu::Operand;

Result<std::unique_ptr<WebGpuBackend>> WebGpuBackend::create(const WebGpuOptions& opt) {
  if (!webgpu::bridge::available()) {
    return err("WebGPU is not available: no GPU device was handed to the engine (no navigator.gpu or no adapter)");
  }
  std::unique_ptr<WebGpuBackend> b(new WebGpuBackend(webgpu::bridge::device_info(), opt));
  HEARTH_CHECK(b->rec_.init());
  return b;
}

Result<std::unique_ptr<Backend>> make_webgpu_backend(const WebGpuOptions& opt) {
  HEARTH_ASSIGN(auto b, WebGpuBackend::create(opt));
  return std::unique_ptr<Backend>(std::move(b));
}

WebGpuBackend::WebGpuBackend(const webgpu::DeviceInfo& info, const WebGpuOptions& opt)
    : info_(info), opt_(opt), rec_(info, info.subgroups && opt.allow_subgroups) {
  bufs_.push_back(0);  // Buf id 0 is never handed out
  weights_.emplace_back();
}

WebGpuBackend::~WebGpuBackend() {
  settle();
  rec_.flush();
  for (uint32_t b : bufs_) {
    if (b) webgpu::bridge::destroy_buffer(b);
  }
  for (const auto& w : weights_) {
    if (!w || w->in_arena) continue;
    for (const auto& c : w->chunks) webgpu::bridge::destroy_buffer(c.buffer);
  }
  for (const auto& a : arenas_) webgpu::bridge::destroy_buffer(a.buffer);
}

std::string WebGpuBackend::name() const {
  return "webgpu (" + info_.adapter + "; tier " + tier() + (info_.shader_f16 ? "; shader-f16 present" : "") + ")";
}

Buf WebGpuBackend::alloc(int64_t n) {
  const uint64_t bytes = buf_bytes(n);
  uint32_t id = 0;
  if (bytes > info_.max_storage_binding || bytes > info_.max_buffer) {
    fail(err("WebGPU: a buffer of ", n, " floats (", bytes >> 20, " MiB) exceeds the device's binding limit of ",
             info_.max_storage_binding >> 20, " MiB; lower --max-ctx or --max-prefill"));
  } else {
    id = webgpu::bridge::create_buffer(bytes, webgpu::BufferKind::Storage);
    if (!id) fail(err("WebGPU: cannot allocate ", bytes >> 20, " MiB: ", webgpu::bridge::last_error()));
    bytes_ += bytes;
  }
  bufs_.push_back(id);
  return Buf{uint32_t(bufs_.size() - 1), 0};
}

void WebGpuBackend::ensure_scratch(Buf& b, int64_t& cap, int64_t need) {
  if (need <= cap) return;
  if (b.id) {
    rec_.flush();
    rec_.forget_buffer(gpu(b));
    webgpu::bridge::destroy_buffer(gpu(b));
    bufs_[b.id] = 0;
    bytes_ -= buf_bytes(cap);
  }
  cap = std::max(need, 2 * cap);
  b = alloc(cap);
}

void WebGpuBackend::write(Buf dst, std::span<const float> src) {
  settle();
  rec_.flush();  // keeps program order: recorded work before this write runs before it
  if (gpu(dst)) webgpu::bridge::write_buffer(gpu(dst), uint64_t(dst.offset) * 4, src.data(), src.size_bytes());
}

void WebGpuBackend::read(Buf src, std::span<float> dst) {
  settle();
  Status s = gpu(src) ? rec_.read(gpu(src), uint64_t(src.offset) * 4, dst.data(), dst.size_bytes()) : rec_.status();
  if (!s.ok() || !gpu(src)) std::fill(dst.begin(), dst.end(), std::nanf(""));
}

void WebGpuBackend::embed_chunks(const Weight& w, Buf out, int64_t T, const std::vector<uint32_t>& ids,
                                 const Buf* ids_buf) {
  uint32_t gx, gy;
  const int64_t threads = T * ceil_div(w.cols, 4);
  rec_.grid(uint64_t(ceil_div(threads, 64)), &gx, &gy);
  for (const Chunk& c : w.chunks) {
    DispatchDesc d;
    d.shader = {"embed", false, format_key(w.format), false, cu("WG", 64) + webgpu::cb("IDS_FROM_BUF", ids_buf != nullptr)};
    d.operands = {{"out", gpu(out), true}, {"ids", ids_buf ? gpu(*ids_buf) : gpu(out)}, {"wq", c.buffer, false, true}};
    d.params = {uint32_t(out.offset), uint32_t(T), uint32_t(w.cols), uint32_t(c.row0), uint32_t(c.rows), w.stride,
                c.scale_off, c.min_off, ids_buf ? uint32_t(ids_buf->offset) : 0u, c.base};
    d.params.resize(16, 0);
    d.params.insert(d.params.end(), ids.begin(), ids.end());
    d.x = gx;
    d.y = gy;
    rec_.dispatch(std::move(d));
  }
}

uint32_t WebGpuBackend::read_start(Buf src, int64_t n) {
  settle();
  return gpu(src) ? rec_.read_start(gpu(src), uint64_t(src.offset) * 4, uint64_t(n) * 4) : 0;
}

Status WebGpuBackend::read_finish(uint32_t ticket, std::span<float> dst) {
  return rec_.read_finish(ticket, dst.data(), dst.size_bytes());
}

void WebGpuBackend::embed(WeightId E, std::span<const int32_t> ids, Buf out) {
  settle();
  const Weight* w = weight(E);
  if (!w || ids.empty()) return;
  std::vector<uint32_t> u(ids.begin(), ids.end());
  embed_chunks(*w, out, int64_t(ids.size()), u, nullptr);
}

void WebGpuBackend::embed_from(WeightId E, Buf ids, int64_t T, Buf out) {
  settle();
  const Weight* w = weight(E);
  if (!w || T <= 0) return;
  embed_chunks(*w, out, T, {}, &ids);
}

void WebGpuBackend::rmsnorm(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps) {
  if (rows <= 0) return;
  if (auto* a = std::get_if<PendingAdd>(&pending_)) {
    // add(x, y) then rmsnorm(x): one dispatch that adds the residual and normalizes.
    if (a->x.id == x.id && a->x.offset == x.offset && a->n == rows * d) {
      const Buf y = a->y;
      pending_ = std::monostate();
      rmsnorm_impl(x, w, out, rows, d, eps, &y);
      return;
    }
  }
  settle();
  if (rows <= 4 && out.id != x.id && out.id != w.id && w.offset % 4 == 0 && d % 4 == 0) {
    pending_ = PendingNorm{x, w, out, rows, d, eps};  // may fold into the products of out
    return;
  }
  rmsnorm_impl(x, w, out, rows, d, eps, nullptr);
}

void WebGpuBackend::rmsnorm_impl(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps, const Buf* add) {
  DispatchDesc dd;
  const webgpu::Consts consts = webgpu::cb("ADD", add != nullptr);
  if (rec_.subgroups() && rows > 1) {
    // A subgroup per row, no barriers (subgroup tier).
    dd.shader = {"rmsnorm_subgroup", false, "", false, cu("WG", 64) + consts, true};
    rec_.grid(uint64_t(ceil_div(rows, 64 / sg_max())), &dd.x, &dd.y);
  } else {
    dd.shader = {"rmsnorm", true, "", false, cu("WG", d <= 256 ? 64 : 256) + consts};
    rec_.grid(uint64_t(rows), &dd.x, &dd.y);
  }
  // x is declared writable either way: the ADD branch stores to it even when compiled out.
  dd.operands = {{"x", gpu(x), true}, {"y", add ? gpu(*add) : gpu(x)}, {"w", gpu(w)}, {"out", gpu(out), true}};
  dd.params = {uint32_t(x.offset), uint32_t(w.offset), uint32_t(out.offset), uint32_t(rows), uint32_t(d), fbits(eps),
               add ? uint32_t(add->offset) : 0u};
  rec_.dispatch(std::move(dd));
}


void WebGpuBackend::rope(Buf x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) {
  const int64_t half = table.rot_dim / 2;
  if (T <= 0 || half <= 0) return;
  size_t f = 0;
  while (f < rope_freqs_.size() && rope_freqs_[f].inv_freq != table.inv_freq) ++f;
  if (auto* p = std::get_if<PendingRope>(&pending_)) {
    // rope(q) then rope(k) at the same positions: one dispatch (the copies of k and v may join).
    if (p->H2 == 0 && p->freq == f && p->T == T && p->D == head_dim && p->pos0 == pos0 && p->x.id != x.id &&
        p->scaling == table.attention_scaling && p->half == half) {
      p->x2 = x;
      p->H2 = n_heads;
      return;
    }
  }
  settle();
  if (f == rope_freqs_.size()) {
    Buf b = alloc(int64_t(table.inv_freq.size()));
    write(b, table.inv_freq);
    rope_freqs_.push_back(RopeFreq{table.inv_freq, b});
  }
  pending_ = PendingRope{x, T, n_heads, head_dim, pos0, half, table.attention_scaling, f};
}

void WebGpuBackend::rope_impl(const PendingRope& r) {
  const Buf freq = freq_buf(r);
  DispatchDesc d;
  d.shader = {"rope", false, "", false, cu("WG", 64) + webgpu::cb("STORE", r.store), false, "rope_common"};
  d.operands = {{"x", gpu(r.x), true},
                {"x2", r.H2 ? gpu(r.x2) : 0u, true},
                {"freq", gpu(freq)},
                {"kc", r.store ? gpu(r.kc) : 0u, true},
                {"vs", r.n_v ? gpu(r.v) : 0u},
                {"vc", r.n_v ? gpu(r.vc) : 0u, true}};
  const int64_t tail = r.D - 2 * r.half;  // k dims past the rotated ones, copied as they are
  d.params = {uint32_t(r.x.offset), uint32_t(r.T), uint32_t(r.H), uint32_t(r.D), uint32_t(r.pos0), uint32_t(r.half),
              fbits(r.scaling), uint32_t(freq.offset), r.H2 ? uint32_t(r.x2.offset) : 0u, uint32_t(r.H2),
              r.store ? uint32_t(r.kc.offset) : 0u, uint32_t(r.v.offset), uint32_t(r.vc.offset), uint32_t(r.n_v),
              uint32_t(tail)};
  const int64_t n = r.T * (r.H + r.H2) * r.half + (r.store ? r.T * r.H2 * tail + r.n_v : 0);
  rec_.grid(uint64_t(ceil_div(n, 64)), &d.x, &d.y);
  rec_.dispatch(std::move(d));
}

void WebGpuBackend::copy(Buf src, Buf dst, int64_t n) {
  if (n <= 0) return;
  if (auto* r = std::get_if<PendingRope>(&pending_)) {
    // rope q, rope k, then copy(k -> k cache) and copy(v -> v cache): all in the rope dispatch.
    const auto other = [&](Buf b) { return b.id != r->x.id && b.id != r->x2.id && b.id != freq_buf(*r).id; };
    if (r->H2 && !r->store && src.id == r->x2.id && src.offset == r->x2.offset && n == r->T * r->H2 * r->D &&
        other(dst)) {
      r->store = true;
      r->kc = dst;
      return;
    }
    if (r->store && r->n_v == 0 && other(src) && other(dst) && src.id != r->kc.id && dst.id != r->kc.id &&
        src.id != dst.id) {
      r->v = src;
      r->vc = dst;
      r->n_v = n;  // stays pending: the attention that reads the caches may take it in
      return;
    }
  }
  if (auto* p = std::get_if<PendingCopy>(&pending_)) {
    // copy(k -> k cache) then copy(v -> v cache): one dispatch when neither touches the other.
    if (dst.id != p->src.id && dst.id != p->dst.id && src.id != p->dst.id) {
      PendingCopy c = *p;
      pending_ = std::monostate();
      DispatchDesc d;
      d.shader = {"copy_pair", false, "", false, cu("WG", 256)};
      d.operands = {{"src0", gpu(c.src)}, {"dst0", gpu(c.dst), true}, {"src1", gpu(src)}, {"dst1", gpu(dst), true}};
      d.params = {uint32_t(c.src.offset), uint32_t(c.dst.offset), uint32_t(c.n), uint32_t(src.offset),
                  uint32_t(dst.offset), uint32_t(n)};
      rec_.grid(uint64_t(ceil_div(c.n + n, 256)), &d.x, &d.y);
      rec_.dispatch(std::move(d));
      return;
    }
  }
  settle();
  pending_ = PendingCopy{src, dst, n};
}

void WebGpuBackend::settle() {
  if (std::holds_alternative<std::monostate>(pending_)) return;
  auto p = std::move(pending_);
  pending_ = std::monostate();
  if (auto* a = std::get_if<PendingAdd>(&p)) elementwise(0, a->x, a->y, a->x, a->n);
  if (auto* r = std::get_if<PendingRope>(&p)) rope_impl(*r);  // with the cache stores it took in
  if (auto* c = std::get_if<PendingCopy>(&p)) elementwise(2, c->src, c->src, c->dst, c->n);
  if (auto* n = std::get_if<PendingNorm>(&p)) rmsnorm_impl(n->x, n->w, n->out, n->rows, n->d, n->eps, nullptr);
  if (auto* g = std::get_if<PendingMatvec>(&p)) emit_matvec(*g, nullptr);
}

void WebGpuBackend::elementwise(uint32_t op, Buf a, Buf b, Buf out, int64_t n) {
  if (n <= 0) return;
  DispatchDesc d;
  d.shader = {"elementwise", false, "", false, cu("WG", 256) + cu("OP", op)};
  d.operands = {{"a", gpu(a)}, {"b", gpu(b)}, {"out", gpu(out), true}};
  d.params = {uint32_t(a.offset), uint32_t(b.offset), uint32_t(out.offset), uint32_t(n)};
  rec_.grid(uint64_t(ceil_div(n, 256)), &d.x, &d.y);
  rec_.dispatch(std::move(d));
}

void WebGpuBackend::add(Buf x, Buf y, int64_t n) {
  if (fold_resid(x, y, n)) return;
  settle();
  if (n > 0) pending_ = PendingAdd{x, y, n};  // may fuse with a following rmsnorm of x
}


void WebGpuBackend::argmax(Buf x, int64_t n, Buf out) {
  settle();
  DispatchDesc d;
  // One workgroup: up to 1024 invocations with subgroup reductions, 256 with the tree.
  const uint32_t wg = rec_.subgroups() ? std::min<uint32_t>(1024, std::max<uint32_t>(256, info_.max_invocations)) & ~63u
                                       : 256u;
  const bool xv4 = x.offset % 4 == 0 && x.id != out.id;
  d.shader = {"argmax", true, "", false, cu("WG", wg) + webgpu::cb("XV4", xv4)};
  d.operands = {{"x", gpu(x)}, {"xv", xv4 ? gpu(x) : 0u, false, false, true}, {"out", gpu(out), true}};
  d.params = {uint32_t(x.offset), uint32_t(n), uint32_t(out.offset)};
  rec_.dispatch(std::move(d));
}

void WebGpuBackend::sample(Buf x, int64_t n, const DeviceSampling& s, Buf u, Buf pen, Buf out) {
  settle();
  if (n <= 0) return;
  const bool greedy = !(s.temperature > 0.0f) || s.top_k == 1;
  const bool p = s.penalties() && pen.id;
  // With a small top-k over a large vocabulary, sample_topk.wgsl first cuts the logits down to
  // each slice's top k (many workgroups), and the one-workgroup sampler walks those candidates
  // instead of all n logits: the same pick (see that file), a fraction of the time.
  constexpr int64_t kSlice = 1024, kMaxTopK = 64;
  const bool pre = !greedy && s.top_k > 1 && s.top_k <= kMaxTopK && n >= 8 * kSlice;
  const int64_t n_wg = ceil_div(n, kSlice);
  if (pre) {
    ensure_scratch(cand_, cand_cap_, 2 * n_wg * s.top_k);
    DispatchDesc d;
    d.shader = {"sample_topk", false, "", false, cu("WG", kSlice / 4) + cu("S", kSlice) + webgpu::cb("PEN", p) +
                                                       webgpu::cb("CAND", false), false, "sample_common"};
    d.operands = {{"x", gpu(x)}, {"pen", p ? gpu(pen) : 0u}, {"cand", gpu(cand_), true}};
    d.params.assign(13, 0);
    d.params[0] = uint32_t(x.offset);
    d.params[1] = uint32_t(n);
    d.params[2] = uint32_t(cand_.offset);
    d.params[4] = p ? uint32_t(pen.offset) : 0u;
    d.params[7] = uint32_t(s.top_k);
    d.params[10] = fbits(s.repetition_penalty);
    d.params[11] = fbits(s.presence_penalty);
    d.params[12] = fbits(s.frequency_penalty);
    rec_.grid(uint64_t(n_wg), &d.x, &d.y);
    rec_.dispatch(std::move(d));
  }
  const Buf src = pre ? cand_ : x;
  const int64_t m = pre ? n_wg * s.top_k : n;
  DispatchDesc d;
  // One workgroup: up to 1024 invocations with subgroup reductions, 256 with the tree (whose
  // workgroup memory grows with the size).
  const uint32_t wg = rec_.subgroups() ? std::min<uint32_t>(1024, std::max<uint32_t>(256, info_.max_invocations)) & ~63u
                                       : 256u;
  const bool xv4 = src.offset % 4 == 0 && src.id != out.id && (!p || src.id != pen.id);
  d.shader = {"sample", true, "", false, cu("WG", wg) + webgpu::cb("PEN", p) + webgpu::cb("CAND", pre) +
                                             webgpu::cb("XV4", xv4), false, "sample_common"};
  d.operands = {{"x", gpu(src)}, {"xv", xv4 ? gpu(src) : 0u, false, false, true}, {"u", greedy ? 0u : gpu(u)},
                {"pen", p ? gpu(pen) : 0u, true}, {"out", gpu(out), true}};
  d.params = {uint32_t(src.offset), uint32_t(m), uint32_t(out.offset), greedy ? 0u : uint32_t(u.offset),
              p ? uint32_t(pen.offset) : 0u, greedy ? 1u : 0u, fbits(greedy ? 0.0f : 1.0f / s.temperature),
              uint32_t(std::max(0, s.top_k)), fbits(s.top_p), fbits(s.min_p), fbits(s.repetition_penalty),
              fbits(s.presence_penalty), fbits(s.frequency_penalty), uint32_t(src.offset + m), uint32_t(n)};
  rec_.dispatch(std::move(d));
}

void WebGpuBackend::attention(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  if (auto* r = std::get_if<PendingRope>(&pending_); r && T > 0 && T <= 4) {
    // rope q, rope k, k and v into the caches, then attention over those caches: the decode
    // attention ropes and stores as it loads (q and k stay unroped in their buffers).
    const int64_t row = pos0 * s.n_kv_heads * s.head_dim;
    const auto apart = [&](Buf b) { return b.id != k.id && b.id != v.id && b.id != out.id; };
    if (r->store && r->n_v == r->T * r->H2 * r->D && r->T == T && r->pos0 == pos0 && r->x.id == q.id &&
        r->x.offset == q.offset && r->H == s.n_heads && r->H2 == s.n_kv_heads && r->D == s.head_dim &&
        s.head_dim % 4 == 0 && s.head_dim <= 256 && k.offset % 4 == 0 && v.offset % 4 == 0 && k.id != v.id &&
        r->kc.id == k.id && r->kc.offset == k.offset + row && r->vc.id == v.id && r->vc.offset == v.offset + row &&
        apart(q) && apart(r->x2) && apart(r->v) && apart(freq_buf(*r)) && s.n_kv_heads > 0 &&
        s.n_heads % s.n_kv_heads == 0) {
      PendingRope p = *r;
      pending_ = std::monostate();
      attention_decode(q, k, v, out, T, pos0, s, &p);
      return;
    }
  }
  settle();
  if (T <= 0) return;
  if (s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0) {
    fail(err("WebGPU attention: ", s.n_heads, " heads are not a multiple of ", s.n_kv_heads, " KV heads"));
    return;
  }
  if (T <= 4) {
    attention_decode(q, k, v, out, T, pos0, s, nullptr);
  } else {
    attention_prefill(q, k, v, out, T, pos0, s);
  }
}

void WebGpuBackend::attention_decode(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s,
                                     const PendingRope* rope) {
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
  const int64_t need = T * H * n_split * (D + 2);
  ensure_scratch(part_, part_cap_, need);
  const bool v4 = D % 4 == 0 && k.offset % 4 == 0 && v.offset % 4 == 0;
  DispatchDesc d;
  d.shader = {"attention_decode_splitk", false, "", false,
              cu("WG", kWg) + cu("C", kChunk) + cu("HB", hb) + cu("D", D) + webgpu::cb("V4", v4) +
                  webgpu::cb("ROPE", rope != nullptr),
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
                {"freq", rope ? gpu(freq_buf(*rope)) : 0u}};
  d.params = {uint32_t(q.offset), uint32_t(k.offset), uint32_t(v.offset), uint32_t(part_.offset), uint32_t(T),
              uint32_t(pos0), uint32_t(H), uint32_t(s.n_kv_heads), uint32_t(n_hb), uint32_t(std::max<int64_t>(0, s.window)),
              fbits(s.scale), uint32_t(n_split), uint32_t(key0)};
  if (rope) {
    d.params.insert(d.params.end(), {uint32_t(freq_buf(*rope).offset), uint32_t(rope->half), fbits(rope->scaling),
                                     uint32_t(rope->x2.offset), uint32_t(rope->v.offset)});
  }
  d.x = uint32_t(n_split);
  d.y = uint32_t(s.n_kv_heads * n_hb);
  d.z = uint32_t(T);
  rec_.dispatch(std::move(d));

  DispatchDesc c;
  // The dims in 4 slices (4 workgroups per head) when they split evenly: shorter sums each.
  const int64_t ds = d4 % 4 == 0 ? 4 : 1;
  c.shader = {"attention_combine", true, "", false, cu("WG", kWg) + cu("SMAX", 1024) + cu("DS", ds)};
  c.operands = {{"part", gpu(part_)}, {"out", gpu(out), true}};
  c.params = {uint32_t(part_.offset), uint32_t(out.offset), uint32_t(T), uint32_t(H), uint32_t(D), uint32_t(n_split)};
  c.x = uint32_t(H * ds);
  c.y = uint32_t(T);
  rec_.dispatch(std::move(c));
}

void WebGpuBackend::attention_prefill(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  const int64_t D = s.head_dim;
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
                    cu("BK", uint64_t(bk_sg)) + cu("D", uint64_t(D)) + webgpu::cb("V4", v4),
                true};
    d.operands = {{"q", gpu(q)},
                  {"k", v4 ? 0u : gpu(k)},
                  {"v", v4 ? 0u : gpu(v)},
                  {"k4", v4 ? gpu(k) : 0u, false, false, true},
                  {"v4", v4 ? gpu(v) : 0u, false, false, true},
                  {"out", gpu(out), true}};
    d.params = {uint32_t(q.offset), uint32_t(k.offset), uint32_t(v.offset), uint32_t(out.offset), uint32_t(T),
                uint32_t(pos0), uint32_t(s.n_heads), uint32_t(s.n_kv_heads), uint32_t(D),
                uint32_t(std::max<int64_t>(0, s.window)), fbits(s.scale), uint32_t(n_hb)};
    d.x = uint32_t(ceil_div(T, bt));
    d.y = uint32_t(s.n_kv_heads * n_hb);
    rec_.dispatch(std::move(d));
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
  d.params = {uint32_t(q.offset), uint32_t(k.offset), uint32_t(v.offset), uint32_t(out.offset), uint32_t(T),
              uint32_t(pos0), uint32_t(s.n_heads), uint32_t(s.n_kv_heads), uint32_t(D),
              uint32_t(std::max<int64_t>(0, s.window)), fbits(s.scale)};
  d.x = uint32_t(ceil_div(T, bq));
  d.y = uint32_t(s.n_heads);
  rec_.dispatch(std::move(d));
}

}  // namespace hearth
