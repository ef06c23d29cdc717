// Weight matrices in the formats every backend reads: f32, f16, int8 per output row, and int4
// in groups of 128 along the input dimension. The CPU and WebGPU backends share this layout, so
// a model is quantized once on load and uploaded as is.
//
// A matrix W is [rows = out_features, cols = in_features], row-major like PyTorch's Linear.
//  - F32:  f32[rows * cols].
//  - F16:  u16[rows * cols] IEEE half bits.
//  - Int8: i8 q[rows * cols], f32 scale[rows]; w = q * scale (symmetric, q in [-127, 127]).
//  - Int4: groups of 128 along cols (the last one may be shorter); each row holds
//          groups * 16 u32 words. Word k (0..15) of a group packs the elements k + 16 j of the
//          group in bits 4j..4j+3 (j = 0..7), so nibble j of 8 consecutive words is 8
//          consecutive elements: one shift by a constant unpacks 8 lanes on any SIMD unit or
//          GPU. f32 scale[rows * groups] and f32 minv[rows * groups]; w = minv + q * scale
//          (asymmetric, q in [0, 15]). Unused nibbles of a short last group are 0.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hearth {

class ThreadPool;

enum class WeightFormat { F32, F16, Int8, Int4 };
const char* weight_format_name(WeightFormat f);

struct QMatrix {
  static constexpr int64_t kGroup = 128;
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0, cols = 0;
  std::vector<float> f32;      // F32
  std::vector<uint16_t> f16;   // F16
  std::vector<int8_t> q8;      // Int8
  std::vector<uint32_t> q4;    // Int4: rows * groups() * 16 words
  std::vector<float> scale;    // Int8: [rows]; Int4: [rows * groups]
  std::vector<float> minv;     // Int4: [rows * groups]

  int64_t groups() const { return (cols + kGroup - 1) / kGroup; }
  int64_t words_per_row() const { return groups() * (kGroup / 8); }
  size_t bytes() const;
  // Dequantizes row r into out[cols].
  void dequant_row(int64_t r, float* out) const;
};

// Builds a QMatrix from f32 data [rows, cols]. Int4 uses a per-group search over clipped ranges
// with a least-squares fit of scale and minimum (see quantize.cpp); the pool parallelizes rows.
// search = false skips the clipping search (int4 only): min/max range plus the least-squares
// refinement, about 10x faster to load, slightly less accurate.
QMatrix quantize_matrix(std::span<const float> w, int64_t rows, int64_t cols, WeightFormat f,
                        ThreadPool* pool, bool search = true);

// quantize_matrix of checkpoint data (BF16, F16 or F32 values; converted to f32 a row at a time).
struct RawMatrix;
QMatrix quantize_raw(const RawMatrix& m, WeightFormat f, ThreadPool* pool, bool search = true);

// Quantizes one int4 group of n <= 128 values: writes nibbles into q (n values 0..15).
void quantize_int4_group(const float* w, int n, uint8_t* q, float* scale, float* minv, bool search = true);
// The int8 value of w for a row scale s > 0: the q in [-127, 127] whose thresholds
// (|q| - 1/2) s <= |w| < (|q| + 1/2) s hold, each threshold the product s (2k + 1) rounded, then
// halved (the GPU quantizer's exact arithmetic).
int8_t quantize_int8_value(float w, float s, float inv_s);

}  // namespace hearth
