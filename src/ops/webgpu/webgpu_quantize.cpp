// WebGpuBackend: quantization on the device at load. Checkpoint data (BF16 or F16) streams to
// the GPU in slices of rows, each quantized by quantize_int4.wgsl (a group per invocation, the
// clipping search included) or quantize_int8.wgsl (a row per workgroup) straight into the
// weight's place, with the bits the host's quantizer gives: the host neither converts nor
// quantizes, which is what loading a large model used to wait on.
#include <algorithm>
#include <cstring>

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
constexpr int64_t kSliceBytes = 32 << 20;  // checkpoint data per slice
}

std::vector<WeightId> WebGpuBackend::upload_quantized(std::span<const RawMatrix> ms, WeightFormat format, bool search,
                                                      ThreadPool* pool) {
  bool device = format == WeightFormat::Int4 || format == WeightFormat::Int8;
  for (const RawMatrix& m : ms) device = device && (m.dtype == DType::BF16 || m.dtype == DType::F16) && m.rows > 0 && m.cols > 0;
  if (!device) return Backend::upload_quantized(ms, format, search, pool);
  std::vector<Shape> shapes;
  for (const RawMatrix& m : ms) shapes.push_back(Shape{format, m.rows, m.cols});
  const std::vector<WeightId> ids = place_group(shapes);
  for (size_t i = 0; i < ids.size() && status().ok(); ++i) fill_quantized(*weights_[ids[i].id], ms[i], search);
  return ids;
}

void WebGpuBackend::fill_quantized(const Weight& W, const RawMatrix& m, bool search) {
  const bool int4 = W.format == WeightFormat::Int4;
  const int64_t cols = m.cols, groups = ceil_div(cols, QMatrix::kGroup), row_words = int64_t(W.stride) * 4;
  const int64_t slice_rows = std::max<int64_t>(1, kSliceBytes / (cols * 2));
  std::vector<uint32_t> host;
  const auto* src = static_cast<const uint8_t*>(m.data);
  const webgpu::Consts source = cb("SRC_BF16", m.dtype == DType::BF16) + cb("SRC_F16", m.dtype == DType::F16);
  for (const Chunk& c : W.chunks) {
    for (int64_t s = 0; s < c.rows; s += slice_rows) {
      const int64_t n = std::min(slice_rows, c.rows - s);
      const int64_t elems = n * cols, words = ceil_div(elems, 2);
      host.assign(size_t(words), 0u);
      std::memcpy(host.data(), src + (c.row0 + s) * cols * 2, size_t(elems) * 2);
      ensure_scratch(staging_, staging_cap_, words);
      rec_.flush();  // the slice before is read by work already recorded: submit that first
      webgpu::bridge::write_buffer(gpu(staging_), uint64_t(staging_.offset) * 4, host.data(), host.size() * 4);
      DispatchDesc d;
      d.operands = {{"src", gpu(staging_), false, false, false, true}, {"dst", c.buffer, true, false, false, true}};
      const u32 dst_base = c.base * 4 + u32(s * row_words);
      if (int4) {
        webgpu::QuantizeInt4Params p{u32(staging_.offset) * 2, u32(n), u32(cols), u32(groups), dst_base, u32(row_words),
                                     c.scale_off + u32(2 * s * groups)};
        d.set_params(p);
        d.shader = {"quantize_int4", false, "", false, cu("WG", 64) + webgpu::Consts(source) + cb("SEARCH", search)};
        rec_.grid(uint64_t(ceil_div(n * groups, 64)), &d.x, &d.y);
      } else {
        webgpu::QuantizeInt8Params p{u32(staging_.offset) * 2, u32(n), u32(cols), dst_base, u32(row_words),
                                     c.scale_off + u32(s)};
        d.set_params(p);
        d.shader = {"quantize_int8", true, "", false, cu("WG", 256) + webgpu::Consts(source)};
        rec_.grid(uint64_t(n), &d.x, &d.y);
      }
      rec_.dispatch(d);
    }
  }
}

}  // namespace hearth
