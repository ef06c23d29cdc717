// WebGpuBackend weight upload: QMatrix rows packed into vec4<u32> units as the weights_*.wgsl
// snippets read them, with the scales / minimums after the rows. Matrices that fit go into
// shared arena buffers (so one dispatch can read several of them); bigger ones get buffers of
// their own, split by rows into chunks within the device's binding limit.
#include <algorithm>
#include <cstring>

#include "ops/webgpu/webgpu_backend.h"
#include "ops/webgpu/webgpu_util.h"

namespace hearth {

namespace {

// vec4<u32> units per row.
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
  }
}

// Writes rows r0..r0+rows-1 of w at byte `offset` of `buffer`: packed rows, then the scales and
// minimums (int4: (scale, minimum) pairs, min_off = scale_off + 1). Fills c's offsets (c.base,
// c.scale_off, c.min_off).
void write_rows(const QMatrix& w, int64_t r0, int64_t rows, uint32_t stride, uint32_t buffer, uint64_t offset,
                std::vector<uint32_t>& staging, uint32_t* base, uint32_t* scale_off, uint32_t* min_off) {
  // Rows go up in slices of ~8 MiB, so no second copy of a whole matrix is ever held.
  const int64_t slice_rows = std::max<int64_t>(1, (8 << 20) / (int64_t(stride) * 16));
  for (int64_t s = 0; s < rows; s += slice_rows) {
    const int64_t n = std::min(slice_rows, rows - s);
    staging.resize(size_t(n) * stride * 4);
    for (int64_t i = 0; i < n; ++i) pack_row(w, r0 + s + i, stride, staging.data() + size_t(i) * stride * 4);
    webgpu::bridge::write_buffer(buffer, offset + uint64_t(s) * stride * 16, staging.data(), staging.size() * 4);
  }
  const uint64_t data_bytes = uint64_t(rows) * stride * 16;
  *base = uint32_t(offset / 16);
  *scale_off = uint32_t((offset + data_bytes) / 4);
  *min_off = *scale_off;
  if (w.format == WeightFormat::Int8) {
    webgpu::bridge::write_buffer(buffer, offset + data_bytes, w.scale.data() + r0, uint64_t(rows) * 4);
  } else if (w.format == WeightFormat::Int4) {
    // (scale, minimum) pairs, interleaved: one 8-byte load per group.
    const int64_t g = w.groups();
    *min_off = *scale_off + 1;
    staging.resize(size_t(2 * rows * g));
    for (int64_t i = 0; i < rows * g; ++i) {
      std::memcpy(&staging[size_t(2 * i)], &w.scale[size_t(r0 * g + i)], 4);
      std::memcpy(&staging[size_t(2 * i + 1)], &w.minv[size_t(r0 * g + i)], 4);
    }
    webgpu::bridge::write_buffer(buffer, offset + data_bytes, staging.data(), staging.size() * 4);
  }
}

}  // namespace

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

namespace {
// Bytes of one row as uploaded: packed units, then its scale / minimum words.
int64_t row_bytes(const QMatrix& w) { return int64_t(units_per_row(w)) * 16 + side_words_per_row(w) * 4; }
// Bytes w takes in an arena: its rows, rounded up to the arenas' 256-byte granularity.
uint64_t arena_bytes(const QMatrix& w) { return (uint64_t(w.rows * row_bytes(w)) + 255) / 256 * 256; }
}  // namespace

WeightId WebGpuBackend::upload_placed(const QMatrix& w, uint32_t buffer, uint64_t offset) {
  auto W = std::make_unique<Weight>();
  W->format = w.format;
  W->rows = w.rows;
  W->cols = w.cols;
  W->stride = units_per_row(w);
  W->in_arena = true;
  W->arena_offset = offset;
  W->bytes = arena_bytes(w);
  Chunk c;
  c.rows = w.rows;
  c.buffer = buffer;
  std::vector<uint32_t> staging;
  write_rows(w, 0, w.rows, W->stride, c.buffer, offset, staging, &c.base, &c.scale_off, &c.min_off);
  W->chunks.push_back(c);
  weights_.push_back(std::move(W));
  return WeightId{uint32_t(weights_.size() - 1)};
}

std::vector<WeightId> WebGpuBackend::upload_group(std::vector<QMatrix> ws) {
  for (auto& w : ws) if (is_block_format(w.format)) return std::vector<WeightId>(ws.size(), upload(std::move(w)));
  settle();
  // One arena block for all of them, each at a 256-byte boundary inside it.
  uint64_t total = 0;
  for (const auto& w : ws) total += arena_bytes(w);
  uint32_t buffer = 0;
  uint64_t offset = 0;
  std::vector<WeightId> ids;
  if (total <= arena_limit() && arena_alloc(total, &buffer, &offset)) {
    for (const auto& w : ws) {
      ids.push_back(upload_placed(w, buffer, offset));
      offset += arena_bytes(w);
    }
  } else {
    for (auto& w : ws) ids.push_back(upload(std::move(w)));
  }
  return ids;
}

WeightId WebGpuBackend::upload(QMatrix w) {
  if (is_block_format(w.format)) { fail(err("WebGPU: ", weight_format_name(w.format), " weights (from a GGUF file) have no WebGPU kernels; load this model on the CPU backend")); return WeightId{}; }
  settle();
  uint32_t buffer = 0;
  uint64_t offset = 0;
  if (arena_bytes(w) <= arena_limit() && arena_alloc(arena_bytes(w), &buffer, &offset)) {
    return upload_placed(w, buffer, offset);
  }
  // Buffers of its own, split by rows within the binding limit.
  auto W = std::make_unique<Weight>();
  W->format = w.format;
  W->rows = w.rows;
  W->cols = w.cols;
  W->stride = units_per_row(w);
  const int64_t rb = row_bytes(w);
  uint64_t limit = std::min(info_.max_storage_binding, info_.max_buffer);
  if (opt_.max_chunk_bytes) limit = std::min(limit, opt_.max_chunk_bytes);
  if (rb > int64_t(limit)) {
    fail(err("WebGPU: one row of a ", w.rows, "x", w.cols, " matrix (", rb, " bytes) is larger than ",
             opt_.max_chunk_bytes ? "the weight buffer limit (weightBufferBytes) of " : "the device's binding limit of ",
             limit, " bytes"));
  }
  std::vector<uint32_t> staging;
  Chunk c;
  const int64_t rows_per_chunk = std::max<int64_t>(1, int64_t(limit) / rb);
  for (int64_t r0 = 0; r0 < w.rows; r0 += rows_per_chunk) {
    c.row0 = r0;
    c.rows = std::min(rows_per_chunk, w.rows - r0);
    const uint64_t bytes = std::max<uint64_t>(16, uint64_t(c.rows * rb + 15) / 16 * 16);
    c.buffer = webgpu::bridge::create_buffer(bytes, webgpu::BufferKind::Storage);
    if (!c.buffer) {
      fail(err("WebGPU: cannot allocate ", bytes >> 20, " MiB for weights: ", webgpu::bridge::last_error()));
      break;
    }
    W->bytes += bytes;
    write_rows(w, r0, c.rows, W->stride, c.buffer, 0, staging, &c.base, &c.scale_off, &c.min_off);
    W->chunks.push_back(c);
  }
  bytes_ += W->bytes;
  weights_.push_back(std::move(W));
  return WeightId{uint32_t(weights_.size() - 1)};
}

void WebGpuBackend::release(WeightId id) {
  if (id.id == 0 || id.id >= weights_.size() || !weights_[id.id]) return;
  settle();
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
