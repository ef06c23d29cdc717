// WebGpuBackend weights. A weight is first placed — matrices that fit go into shared arena
// buffers (so one dispatch can read several of them), bigger ones get buffers of their own,
// split by rows into chunks within the device's binding limit — then filled: from a QMatrix
// quantized on the host (rows packed into vec4<u32> units as the weights_*.wgsl snippets read
// them, the scales / minimums after the rows), or by the quantize kernels from checkpoint data
// (webgpu_quantize.cpp). download() reads a weight back into the QMatrix form. GGUF's Q8_0 / Q4_0
// keep their blocks: the quants packed as the file has them, the f16 block scales widened to f32
// after the rows (weights_q8_0.wgsl, weights_q4_0.wgsl).
#include <algorithm>
#include <cstring>

#include "core/dtype.h"
#include "ops/webgpu/webgpu_backend.h"
#include "ops/webgpu/webgpu_util.h"

namespace hearth {

namespace {

// Scale / minimum words per row after the packed rows.
int64_t side_words_per_row(WeightFormat f, int64_t cols) {
  if (f == WeightFormat::Int8) return 1;
  if (f == WeightFormat::Int4) return 2 * ((cols + QMatrix::kGroup - 1) / QMatrix::kGroup);
  if (is_block_format(f)) return cols / QMatrix::kBlock;
  return 0;
}

// Bytes of one row as uploaded: packed units, then its scale / minimum words.
int64_t row_bytes(WeightFormat f, int64_t cols) {
  return int64_t(WebGpuBackend::units_per_row(f, cols)) * 16 + side_words_per_row(f, cols) * 4;
}

// Bytes a matrix takes in an arena: its rows, rounded up to the arenas' 256-byte granularity.
uint64_t arena_bytes(WeightFormat f, int64_t rows, int64_t cols) {
  return (uint64_t(rows * row_bytes(f, cols)) + 255) / 256 * 256;
}

// Packs row r of w into `stride` vec4<u32> units (4 * stride words), zero-padded.
void pack_row(const QMatrix& w, int64_t r, uint32_t stride, uint32_t* out) {
  std::memset(out, 0, size_t(stride) * 16);
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
    case WeightFormat::Q8_0:
      std::memcpy(out, w.q8.data() + r * C, size_t(C));
      break;
    case WeightFormat::Q4_0:
      std::memcpy(out, w.nib.data() + r * C / 2, size_t(C / 2));
      break;
  }
}

// The inverse of pack_row: row r of w from its packed units.
void unpack_row(const uint32_t* in, int64_t r, QMatrix& w) {
  const int64_t C = w.cols;
  switch (w.format) {
    case WeightFormat::F32:
      std::memcpy(w.f32.data() + r * C, in, size_t(C) * 4);
      break;
    case WeightFormat::F16:
      for (int64_t c = 0; c < C; ++c) w.f16[size_t(r * C + c)] = uint16_t(in[c / 2] >> (16 * (c % 2)));
      break;
    case WeightFormat::Int8:
      for (int64_t c = 0; c < C; ++c) w.q8[size_t(r * C + c)] = int8_t(uint8_t(in[c / 4] >> (8 * (c % 4))));
      break;
    case WeightFormat::Int4:
      std::memcpy(w.q4.data() + r * w.words_per_row(), in, size_t(w.words_per_row()) * 4);
      break;
    case WeightFormat::Q8_0:
      std::memcpy(w.q8.data() + r * C, in, size_t(C));
      break;
    case WeightFormat::Q4_0:
      std::memcpy(w.nib.data() + r * C / 2, in, size_t(C / 2));
      break;
  }
}

}  // namespace

uint32_t WebGpuBackend::units_per_row(WeightFormat f, int64_t cols) {
  switch (f) {
    case WeightFormat::F32: return uint32_t((cols + 3) / 4);
    case WeightFormat::F16: return uint32_t((cols + 7) / 8);
    case WeightFormat::Int8: return uint32_t((cols + 15) / 16);
    case WeightFormat::Int4: return uint32_t((cols + QMatrix::kGroup - 1) / QMatrix::kGroup * 4);
    case WeightFormat::Q8_0: return uint32_t(cols / 16);  // cols: a multiple of 32
    case WeightFormat::Q4_0: return uint32_t(cols / 32);
  }
  return 0;
}

uint64_t WebGpuBackend::arena_limit() const {
  uint64_t limit = std::min(info_.max_storage_binding, info_.max_buffer);
  if (opt_.max_chunk_bytes) limit = std::min(limit, opt_.max_chunk_bytes);
  return std::min<uint64_t>(limit, 256ull << 20) / 256 * 256;
}

bool WebGpuBackend::arena_alloc(uint64_t bytes, uint32_t* buffer, uint64_t* offset) {
  bytes = (bytes + 255) / 256 * 256;
  for (Arena& a : arenas_) {
    for (auto it = a.free.begin(); it != a.free.end(); ++it) {
      if (it->second < bytes) continue;
      *buffer = a.buffer;
      *offset = it->first;
      const uint64_t rest = it->second - bytes, at = it->first + bytes;
      a.free.erase(it);
      if (rest) a.free.emplace(at, rest);
      return true;
    }
  }
  // A new arena, each twice the last (from 16 MiB), up to the limit.
  const uint64_t size = std::min(arena_limit(), std::max(bytes, next_arena_bytes_));
  if (bytes > size) return false;
  next_arena_bytes_ = std::min(arena_limit(), next_arena_bytes_ * 2);
  const uint32_t b = webgpu::bridge::create_buffer(size, webgpu::BufferKind::Storage);
  if (!b) return false;
  bytes_ += size;
  Arena a;
  a.buffer = b;
  a.size = size;
  if (size > bytes) a.free.emplace(bytes, size - bytes);
  arenas_.push_back(std::move(a));
  *buffer = b;
  *offset = 0;
  return true;
}

void WebGpuBackend::arena_free(uint32_t buffer, uint64_t offset, uint64_t bytes) {
  bytes = (bytes + 255) / 256 * 256;
  for (Arena& a : arenas_) {
    if (a.buffer != buffer) continue;
    auto it = a.free.emplace(offset, bytes).first;
    auto next = std::next(it);
    if (next != a.free.end() && it->first + it->second == next->first) {
      it->second += next->second;
      a.free.erase(next);
    }
    if (it != a.free.begin()) {
      auto prev = std::prev(it);
      if (prev->first + prev->second == it->first) {
        prev->second += it->second;
        a.free.erase(it);
      }
    }
    return;
  }
}

WebGpuBackend::Chunk WebGpuBackend::chunk_at(WeightFormat f, int64_t rows, int64_t cols, uint32_t buffer,
                                             uint64_t offset) {
  Chunk c;
  c.buffer = buffer;
  c.rows = rows;
  const uint64_t data_bytes = uint64_t(rows) * units_per_row(f, cols) * 16;
  c.base = uint32_t(offset / 16);
  c.scale_off = uint32_t((offset + data_bytes) / 4);
  c.min_off = c.scale_off + (f == WeightFormat::Int4 ? 1 : 0);  // int4: (scale, minimum) pairs
  return c;
}

std::vector<WeightId> WebGpuBackend::place_group(const std::vector<Shape>& shapes) {
  // One arena block for all of them, each at a 256-byte boundary inside it.
  uint64_t total = 0;
  for (const Shape& s : shapes) total += arena_bytes(s.format, s.rows, s.cols);
  uint32_t buffer = 0;
  uint64_t offset = 0;
  std::vector<WeightId> ids;
  if (total <= arena_limit() && arena_alloc(total, &buffer, &offset)) {
    for (const Shape& s : shapes) {
      auto W = std::make_unique<Weight>();
      W->format = s.format;
      W->rows = s.rows;
      W->cols = s.cols;
      W->stride = units_per_row(s.format, s.cols);
      W->in_arena = true;
      W->arena_offset = offset;
      W->bytes = arena_bytes(s.format, s.rows, s.cols);
      W->chunks.push_back(chunk_at(s.format, s.rows, s.cols, buffer, offset));
      offset += W->bytes;
      weights_.push_back(std::move(W));
      ids.push_back(WeightId{uint32_t(weights_.size() - 1)});
    }
    return ids;
  }
  for (const Shape& s : shapes) ids.push_back(place_alone(s));
  return ids;
}

WeightId WebGpuBackend::place_alone(const Shape& s) {
  if (arena_bytes(s.format, s.rows, s.cols) <= arena_limit()) return place_group({s})[0];
  // Buffers of its own, split by rows within the binding limit.
  auto W = std::make_unique<Weight>();
  W->format = s.format;
  W->rows = s.rows;
  W->cols = s.cols;
  W->stride = units_per_row(s.format, s.cols);
  const int64_t rb = row_bytes(s.format, s.cols);
  uint64_t limit = std::min(info_.max_storage_binding, info_.max_buffer);
  if (opt_.max_chunk_bytes) limit = std::min(limit, opt_.max_chunk_bytes);
  if (rb > int64_t(limit)) {
    fail(err("WebGPU: one row of a ", s.rows, "x", s.cols, " matrix (", rb, " bytes) is larger than ",
             opt_.max_chunk_bytes ? "the weight buffer limit (weightBufferBytes) of " : "the device's binding limit of ",
             limit, " bytes"));
  }
  const int64_t rows_per_chunk = std::max<int64_t>(1, int64_t(limit) / rb);
  for (int64_t r0 = 0; r0 < s.rows; r0 += rows_per_chunk) {
    const int64_t n = std::min(rows_per_chunk, s.rows - r0);
    const uint64_t bytes = std::max<uint64_t>(16, uint64_t(n * rb + 15) / 16 * 16);
    const uint32_t b = webgpu::bridge::create_buffer(bytes, webgpu::BufferKind::Storage);
    if (!b) {
      fail(err("WebGPU: cannot allocate ", bytes >> 20, " MiB for weights: ", webgpu::bridge::last_error()));
      break;
    }
    Chunk c = chunk_at(s.format, n, s.cols, b, 0);
    c.row0 = r0;
    W->bytes += bytes;
    W->chunks.push_back(c);
  }
  bytes_ += W->bytes;
  weights_.push_back(std::move(W));
  return WeightId{uint32_t(weights_.size() - 1)};
}

void WebGpuBackend::fill_weight(const Weight& W, const QMatrix& w) {
  std::vector<uint32_t> staging;
  for (const Chunk& c : W.chunks) {
    // Rows go up in slices of ~8 MiB, so no second copy of a whole matrix is ever held.
    const uint64_t offset = uint64_t(c.base) * 16;
    const int64_t slice_rows = std::max<int64_t>(1, (8 << 20) / (int64_t(W.stride) * 16));
    for (int64_t s = 0; s < c.rows; s += slice_rows) {
      const int64_t n = std::min(slice_rows, c.rows - s);
      staging.resize(size_t(n) * W.stride * 4);
      for (int64_t i = 0; i < n; ++i) pack_row(w, c.row0 + s + i, W.stride, staging.data() + size_t(i) * W.stride * 4);
      webgpu::bridge::write_buffer(c.buffer, offset + uint64_t(s) * W.stride * 16, staging.data(), staging.size() * 4);
    }
    if (w.format == WeightFormat::Int8) {
      webgpu::bridge::write_buffer(c.buffer, uint64_t(c.scale_off) * 4, w.scale.data() + c.row0, uint64_t(c.rows) * 4);
    } else if (w.format == WeightFormat::Int4) {
      // (scale, minimum) pairs, interleaved: one 8-byte load per group.
      const int64_t g = w.groups();
      staging.resize(size_t(2 * c.rows * g));
      for (int64_t i = 0; i < c.rows * g; ++i) {
        std::memcpy(&staging[size_t(2 * i)], &w.scale[size_t(c.row0 * g + i)], 4);
        std::memcpy(&staging[size_t(2 * i + 1)], &w.minv[size_t(c.row0 * g + i)], 4);
      }
      webgpu::bridge::write_buffer(c.buffer, uint64_t(c.scale_off) * 4, staging.data(), staging.size() * 4);
    } else if (is_block_format(w.format)) {
      const int64_t nb = w.blocks_per_row();
      std::vector<float> d(size_t(c.rows * nb));
      for (size_t i = 0; i < d.size(); ++i) d[i] = f16_to_f32(w.d16[size_t(c.row0 * nb) + i]);
      webgpu::bridge::write_buffer(c.buffer, uint64_t(c.scale_off) * 4, d.data(), d.size() * 4);
    }
  }
}

namespace {
// Block formats come whole blocks to a row.
Status block_shape_check(const QMatrix& w) {
  if (!is_block_format(w.format) || w.cols % QMatrix::kBlock == 0) return {};
  return err("WebGPU: a ", weight_format_name(w.format), " matrix of ", w.cols, " columns (not whole blocks of 32)");
}
}  // namespace

std::vector<WeightId> WebGpuBackend::upload_group(std::vector<QMatrix> ws) {
  for (const auto& w : ws) {
    if (Status st = block_shape_check(w); !st.ok()) {
      fail(st.error());
      return std::vector<WeightId>(ws.size());
    }
  }
  std::vector<Shape> shapes;
  for (const auto& w : ws) shapes.push_back(Shape{w.format, w.rows, w.cols});
  const std::vector<WeightId> ids = place_group(shapes);
  for (size_t i = 0; i < ids.size(); ++i) fill_weight(*weights_[ids[i].id], ws[i]);
  return ids;
}

WeightId WebGpuBackend::upload(QMatrix w) {
  if (Status st = block_shape_check(w); !st.ok()) {
    fail(st.error());
    return WeightId{};
  }
  const WeightId id = place_alone(Shape{w.format, w.rows, w.cols});
  fill_weight(*weights_[id.id], w);
  return id;
}

Result<QMatrix> WebGpuBackend::download(WeightId id) {
  const Weight* W = weight(id);
  if (!W) return status().error();
  QMatrix m;
  m.format = W->format;
  m.rows = W->rows;
  m.cols = W->cols;
  const size_t n = size_t(m.rows * m.cols);
  switch (m.format) {
    case WeightFormat::F32: m.f32.resize(n); break;
    case WeightFormat::F16: m.f16.resize(n); break;
    case WeightFormat::Int8: m.q8.resize(n); m.scale.resize(size_t(m.rows)); break;
    case WeightFormat::Int4:
      m.q4.resize(size_t(m.rows * m.words_per_row()));
      m.scale.resize(size_t(m.rows * m.groups()));
      m.minv.resize(size_t(m.rows * m.groups()));
      break;
    case WeightFormat::Q8_0: m.q8.resize(n); m.d16.resize(size_t(m.rows * m.blocks_per_row())); break;
    case WeightFormat::Q4_0: m.nib.resize(n / 2); m.d16.resize(size_t(m.rows * m.blocks_per_row())); break;
  }
  std::vector<uint32_t> words;
  for (const Chunk& c : W->chunks) {
    const int64_t side = side_words_per_row(m.format, m.cols);
    words.resize(size_t(c.rows) * (W->stride * 4 + size_t(side)));
    HEARTH_CHECK(rec_.read(c.buffer, uint64_t(c.base) * 16, words.data(), words.size() * 4));
    for (int64_t r = 0; r < c.rows; ++r) unpack_row(words.data() + size_t(r) * W->stride * 4, c.row0 + r, m);
    const uint32_t* sides = words.data() + size_t(c.rows) * W->stride * 4;
    for (int64_t i = 0; i < c.rows * side; ++i) {
      float v;
      std::memcpy(&v, &sides[i], 4);
      if (m.format == WeightFormat::Int8) m.scale[size_t(c.row0 + i)] = v;
      if (m.format == WeightFormat::Int4) (i % 2 ? m.minv : m.scale)[size_t(c.row0 * side / 2 + i / 2)] = v;
      if (is_block_format(m.format)) m.d16[size_t(c.row0 * side + i)] = f32_to_f16(v);
    }
  }
  return m;
}

void WebGpuBackend::release(WeightId id) {
  if (id.id == 0 || id.id >= weights_.size() || !weights_[id.id]) return;
  rec_.flush();  // work already recorded still reads it; later uploads are queued after it
  Weight& w = *weights_[id.id];
  if (w.in_arena) {
    arena_free(w.chunks[0].buffer, w.arena_offset, w.bytes);
  } else {
    for (const auto& c : w.chunks) {
      rec_.forget_buffer(c.buffer);
      webgpu::bridge::destroy_buffer(c.buffer);
    }
    bytes_ -= w.bytes;
  }
  weights_[id.id].reset();
}

const WebGpuBackend::Weight* WebGpuBackend::weight(WeightId id) {
  if (id.id == 0 || id.id >= weights_.size() || !weights_[id.id]) {
    fail(err("WebGPU: weight ", id.id, " is not uploaded"));
    return nullptr;
  }
  return weights_[id.id].get();
}

}  // namespace hearth
