// WebGpuBackend: memory, weight upload (packing + chunking) and the Backend ops as recorded
// WGSL dispatches. Kernel parameters are documented at the top of each wgsl/*.wgsl file.
#include "ops/webgpu/webgpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace hearth {

using webgpu::DispatchDesc;
using webgpu::Operand;

namespace {

uint32_t fbits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

const char* format_key(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Int4: return "int4";
  }
  return "f32";
}

// vec4<u32> units per row, as the weights_*.wgsl snippets read them.
uint32_t units_per_row(const QMatrix& w) {
  switch (w.format) {
    case WeightFormat::F32: return uint32_t((w.cols + 3) / 4);
    case WeightFormat::F16: return uint32_t((w.cols + 7) / 8);
    case WeightFormat::Int8: return uint32_t((w.cols + 15) / 16);
    case WeightFormat::Int4: return uint32_t(w.groups() * 4);
  }
  return 0;
}

// Scale / minimum words per row after the packed rows.
int64_t side_words_per_row(const QMatrix& w) {
  if (w.format == WeightFormat::Int8) return 1;
  if (w.format == WeightFormat::Int4) return 2 * w.groups();
  return 0;
}

// Packs row r of w into `stride` vec4<u32> units (4 * stride words), zero-padded.
void pack_row(const QMatrix& w, int64_t r, uint32_t stride, uint32_t* out) {
  const size_t words = size_t(stride) * 4;
  std::memset(out, 0, words * 4);
  const int64_t C = w.cols;
  switch (w.format) {
    case WeightFormat::F32:
      std::memcpy(out, w.f32.data() + r * C, size_t(C) * 4);
      break;
    case WeightFormat::F16:
      for (int64_t c = 0; c < C; ++c) out[c / 2] |= uint32_t(w.f16[size_t(r * C + c)]) << (16 * (c % 2));
      break;
    case WeightFormat::Int8:
      for (int64_t c = 0; c < C; ++c) out[c / 4] |= uint32_t(uint8_t(w.q8[size_t(r * C + c)])) << (8 * (c % 4));
      break;
    case WeightFormat::Int4:
      std::memcpy(out, w.q4.data() + r * w.words_per_row(), size_t(w.words_per_row()) * 4);
      break;
  }
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

std::string cu(const char* name, uint64_t v) { return std::string("const ") + name + ": u32 = " + std::to_string(v) + "u;\n"; }

}  // namespace

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
  rec_.flush();
  for (uint32_t b : bufs_) {
    if (b) webgpu::bridge::destroy_buffer(b);
  }
  for (const auto& w : weights_) {
    if (!w) continue;
    for (const auto& c : w->chunks) webgpu::bridge::destroy_buffer(c.buffer);
  }
}

std::string WebGpuBackend::name() const {
  return "webgpu (" + info_.adapter + "; tier " + tier() + (info_.shader_f16 ? "; shader-f16 present" : "") + ")";
}

Buf WebGpuBackend::alloc(int64_t n) {
  const uint64_t bytes = std::max<uint64_t>(16, uint64_t(n) * 4 + 15) / 16 * 16;
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

void WebGpuBackend::write(Buf dst, std::span<const float> src) {
  rec_.flush();  // keeps program order: recorded work before this write runs before it
  if (gpu(dst)) webgpu::bridge::write_buffer(gpu(dst), uint64_t(dst.offset) * 4, src.data(), src.size_bytes());
}

void WebGpuBackend::read(Buf src, std::span<float> dst) {
  Status s = gpu(src) ? rec_.read(gpu(src), uint64_t(src.offset) * 4, dst.data(), dst.size_bytes()) : rec_.status();
  if (!s.ok() || !gpu(src)) std::fill(dst.begin(), dst.end(), std::nanf(""));
}

WeightId WebGpuBackend::upload(QMatrix w) {
  auto W = std::make_unique<Weight>();
  W->format = w.format;
  W->rows = w.rows;
  W->cols = w.cols;
  W->stride = units_per_row(w);
  const int64_t row_bytes = int64_t(W->stride) * 16 + side_words_per_row(w) * 4;
  uint64_t limit = std::min(info_.max_storage_binding, info_.max_buffer);
  if (opt_.max_chunk_bytes) limit = std::min(limit, opt_.max_chunk_bytes);
  const int64_t rows_per_chunk = std::max<int64_t>(1, int64_t(limit) / row_bytes);
  if (row_bytes > int64_t(limit)) {
    fail(err("WebGPU: one row of a ", w.rows, "x", w.cols, " matrix is larger than the device's binding limit"));
  }
  std::vector<uint32_t> staging;
  for (int64_t r0 = 0; r0 < w.rows; r0 += rows_per_chunk) {
    Chunk c;
    c.row0 = r0;
    c.rows = std::min(rows_per_chunk, w.rows - r0);
    const uint64_t data_words = uint64_t(c.rows) * W->stride * 4;
    const uint64_t side = uint64_t(c.rows) * uint64_t(side_words_per_row(w));
    const uint64_t bytes = std::max<uint64_t>(16, (data_words + side) * 4 + 15) / 16 * 16;
    c.buffer = webgpu::bridge::create_buffer(bytes, webgpu::BufferKind::Storage);
    if (!c.buffer) {
      fail(err("WebGPU: cannot allocate ", bytes >> 20, " MiB for weights: ", webgpu::bridge::last_error()));
      break;
    }
    W->bytes += bytes;
    // Rows go up in slices of ~8 MiB, so no second copy of a whole chunk is ever held.
    const int64_t slice_rows = std::max<int64_t>(1, (8 << 20) / (int64_t(W->stride) * 16));
    for (int64_t s = 0; s < c.rows; s += slice_rows) {
      const int64_t n = std::min(slice_rows, c.rows - s);
      staging.resize(size_t(n) * W->stride * 4);
      for (int64_t i = 0; i < n; ++i) pack_row(w, r0 + s + i, W->stride, staging.data() + size_t(i) * W->stride * 4);
      webgpu::bridge::write_buffer(c.buffer, uint64_t(s) * W->stride * 16, staging.data(), staging.size() * 4);
    }
    c.scale_off = uint32_t(data_words);
    if (w.format == WeightFormat::Int8) {
      webgpu::bridge::write_buffer(c.buffer, data_words * 4, w.scale.data() + r0, uint64_t(c.rows) * 4);
    } else if (w.format == WeightFormat::Int4) {
      const int64_t g = w.groups();
      c.min_off = uint32_t(data_words + uint64_t(c.rows * g));
      webgpu::bridge::write_buffer(c.buffer, data_words * 4, w.scale.data() + r0 * g, uint64_t(c.rows * g) * 4);
      webgpu::bridge::write_buffer(c.buffer, uint64_t(c.min_off) * 4, w.minv.data() + r0 * g, uint64_t(c.rows * g) * 4);
    }
    W->chunks.push_back(c);
  }
  bytes_ += W->bytes;
  weights_.push_back(std::move(W));
  return WeightId{uint32_t(weights_.size() - 1)};
}

void WebGpuBackend::release(WeightId id) {
  if (id.id == 0 || id.id >= weights_.size() || !weights_[id.id]) return;
  rec_.flush();
  for (const auto& c : weights_[id.id]->chunks) {
    rec_.forget_buffer(c.buffer);
    webgpu::bridge::destroy_buffer(c.buffer);
  }
  bytes_ -= weights_[id.id]->bytes;
  weights_[id.id].reset();
}

const WebGpuBackend::Weight* WebGpuBackend::weight(WeightId id) {
  if (id.id == 0 || id.id >= weights_.size() || !weights_[id.id]) {
    fail(err("WebGPU: weight ", id.id, " is not uploaded"));
    return nullptr;
  }
  return weights_[id.id].get();
}

void WebGpuBackend::embed_chunks(const Weight& w, Buf out, int64_t T, const std::vector<uint32_t>& ids,
                                 const Buf* ids_buf) {
  uint32_t gx, gy;
  const int64_t threads = T * ceil_div(w.cols, 4);
  rec_.grid(uint64_t(ceil_div(threads, 64)), &gx, &gy);
  for (const Chunk& c : w.chunks) {
    DispatchDesc d;
    d.shader = {"embed", false, format_key(w.format), false,
                cu("WG", 64) + "const IDS_FROM_BUF: bool = " + (ids_buf ? "true" : "false") + ";\n"};
    d.operands = {{"out", gpu(out), true}, {"ids", ids_buf ? gpu(*ids_buf) : gpu(out)}, {"wq", c.buffer, false, true}};
    d.params = {uint32_t(out.offset), uint32_t(T), uint32_t(w.cols), uint32_t(c.row0), uint32_t(c.rows), w.stride,
                c.scale_off, c.min_off, ids_buf ? uint32_t(ids_buf->offset) : 0u};
    d.params.resize(16, 0);
    d.params.insert(d.params.end(), ids.begin(), ids.end());
    d.x = gx;
    d.y = gy;
    rec_.dispatch(std::move(d));
  }
}

void WebGpuBackend::embed(WeightId E, std::span<const int32_t> ids, Buf out) {
  const Weight* w = weight(E);
  if (!w || ids.empty()) return;
  std::vector<uint32_t> u(ids.begin(), ids.end());
  embed_chunks(*w, out, int64_t(ids.size()), u, nullptr);
}

void WebGpuBackend::embed_from(WeightId E, Buf ids, int64_t T, Buf out) {
  const Weight* w = weight(E);
  if (!w || T <= 0) return;
  embed_chunks(*w, out, T, {}, &ids);
}

void WebGpuBackend::rmsnorm(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps) {
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
  dd.params = {uint32_t(x.offset), uint32_t(w.offset), uint32_t(out.offset), uint32_t(rows), uint32_t(d), fbits(eps)};
  rec_.dispatch(std::move(dd));
}

void WebGpuBackend::matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) {
  const Weight* w = weight(W);
  if (!w || T <= 0) return;
  constexpr int64_t kVecMaxT = 4;  // up to this many tokens: matrix-vector kernel per token
  for (const Chunk& c : w->chunks) {
    DispatchDesc d;
    if (T <= kVecMaxT && rec_.subgroups()) {
      // A subgroup per 4 rows, no barriers (subgroup tier).
      d.shader = {"matmul_vec_subgroup", false, format_key(w->format), false, cu("WG", 64), true};
      rec_.grid(uint64_t(ceil_div(c.rows, 4 * (64 / sg_max()))), &d.x, &d.y);
      d.z = uint32_t(T);
    } else if (T <= kVecMaxT) {
      d.shader = {"matmul_vec", true, format_key(w->format), false, cu("WG", 64)};
      rec_.grid(uint64_t(ceil_div(c.rows, 4)), &d.x, &d.y);
      d.z = uint32_t(T);
    } else {
      d.shader = {"matmul_tiled", false, format_key(w->format), false, ""};
      d.x = uint32_t(ceil_div(c.rows, 64));
      d.y = uint32_t(ceil_div(T, 64));
    }
    d.operands = {{"x", gpu(x)}, {"bias", bias ? gpu(*bias) : gpu(x)}, {"out", gpu(out), true}, {"wq", c.buffer, false, true}};
    d.params = {uint32_t(x.offset), uint32_t(out.offset), bias ? uint32_t(bias->offset) : 0u, bias ? 1u : 0u,
                uint32_t(T), uint32_t(w->cols), uint32_t(w->rows), uint32_t(c.row0), uint32_t(c.rows), w->stride,
                c.scale_off, c.min_off};
    rec_.dispatch(std::move(d));
  }
}

void WebGpuBackend::rope(Buf x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) {
  const int64_t half = table.rot_dim / 2;
  if (T <= 0 || half <= 0) return;
  const RopeFreq* f = nullptr;
  for (const auto& rf : rope_freqs_) {
    if (rf.inv_freq == table.inv_freq) f = &rf;
  }
  if (!f) {
    Buf b = alloc(int64_t(table.inv_freq.size()));
    write(b, table.inv_freq);
    rope_freqs_.push_back(RopeFreq{table.inv_freq, b});
    f = &rope_freqs_.back();
  }
  DispatchDesc d;
  d.shader = {"rope", false, "", false, cu("WG", 64)};
  d.operands = {{"x", gpu(x), true}, {"freq", gpu(f->buf)}};
  d.params = {uint32_t(x.offset), uint32_t(T), uint32_t(n_heads), uint32_t(head_dim), uint32_t(pos0), uint32_t(half),
              fbits(table.attention_scaling), uint32_t(f->buf.offset)};
  rec_.grid(uint64_t(ceil_div(T * n_heads * half, 64)), &d.x, &d.y);
  rec_.dispatch(std::move(d));
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

void WebGpuBackend::add(Buf x, Buf y, int64_t n) { elementwise(0, x, y, x, n); }
void WebGpuBackend::swiglu(Buf gate, Buf up, Buf out, int64_t n) { elementwise(1, gate, up, out, n); }
void WebGpuBackend::copy(Buf src, Buf dst, int64_t n) { elementwise(2, src, src, dst, n); }

void WebGpuBackend::argmax(Buf x, int64_t n, Buf out) {
  DispatchDesc d;
  d.shader = {"argmax", true, "", false, cu("WG", 256)};
  d.operands = {{"x", gpu(x)}, {"out", gpu(out), true}};
  d.params = {uint32_t(x.offset), uint32_t(n), uint32_t(out.offset)};
  rec_.dispatch(std::move(d));
}

void WebGpuBackend::attention(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  if (T <= 0) return;
  if (s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0) {
    fail(err("WebGPU attention: ", s.n_heads, " heads are not a multiple of ", s.n_kv_heads, " KV heads"));
    return;
  }
  if (T <= 4) {
    attention_decode(q, k, v, out, T, pos0, s);
  } else {
    attention_prefill(q, k, v, out, T, pos0, s);
  }
}

void WebGpuBackend::attention_decode(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  constexpr int64_t kChunk = 64;  // keys per workgroup (= its size)
  const int64_t D = s.head_dim, H = s.n_heads;
  const int64_t key0 = s.window > 0 ? std::max<int64_t>(0, pos0 - s.window + 1) : 0;
  const int64_t n_split = ceil_div(pos0 + T - key0, kChunk);
  const int64_t need = T * H * n_split * (D + 2);
  if (need > part_cap_) {
    part_cap_ = std::max(need, 2 * part_cap_);
    part_ = alloc(part_cap_);
  }
  DispatchDesc d;
  d.shader = {"attention_decode_splitk", true, "", false, cu("WG", kChunk) + cu("DMAX", uint64_t(D))};
  d.operands = {{"q", gpu(q)}, {"k", gpu(k)}, {"v", gpu(v)}, {"part", gpu(part_), true}};
  d.params = {uint32_t(q.offset), uint32_t(k.offset), uint32_t(v.offset), uint32_t(part_.offset), uint32_t(T),
              uint32_t(pos0), uint32_t(H), uint32_t(s.n_kv_heads), uint32_t(D), uint32_t(std::max<int64_t>(0, s.window)),
              fbits(s.scale), uint32_t(n_split), uint32_t(key0)};
  d.x = uint32_t(n_split);
  d.y = uint32_t(H);
  d.z = uint32_t(T);
  rec_.dispatch(std::move(d));

  DispatchDesc c;
  c.shader = {"attention_combine", false, "", false, cu("WG", 64)};
  c.operands = {{"part", gpu(part_)}, {"out", gpu(out), true}};
  c.params = {uint32_t(part_.offset), uint32_t(out.offset), uint32_t(T), uint32_t(H), uint32_t(D), uint32_t(n_split)};
  c.x = uint32_t(H);
  c.y = uint32_t(T);
  rec_.dispatch(std::move(c));
}

void WebGpuBackend::attention_prefill(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) {
  const int64_t D = s.head_dim;
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
