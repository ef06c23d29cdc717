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
//  - Q8_0: ggml's Q8_0 (GGUF files): blocks of 32 along cols (cols % 32 == 0), each an f16 scale
//          d and 32 int8 q; w = q * d. Stored split: i8 q8[rows * cols], u16 d16[rows * cols / 32].
//  - Q4_0: ggml's Q4_0: blocks of 32, an f16 scale d and 16 bytes; byte j of a block holds
//          element j (low nibble) and element j + 16 (high nibble); w = (q - 8) * d. Stored
//          split: u8 nib[rows * cols / 2] (each block's 16 bytes, in order), u16 d16 as Q8_0.
//          Products with Q8_0 and Q4_0 weights quantize each row of x to Q8_0 blocks first and
//          sum integer block dot products, as ggml does (ref::matmul states the arithmetic).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace hearth {

class ThreadPool;

enum class WeightFormat { F32, F16, Int8, Int4, Q8_0, Q4_0 };
// Q8_0 and Q4_0: ggml's blocks of 32.
inline bool is_block_format(WeightFormat f) { return f == WeightFormat::Q8_0 || f == WeightFormat::Q4_0; }
const char* weight_format_name(WeightFormat f);

struct QMatrix {
  static constexpr int64_t kGroup = 128;
  static constexpr int64_t kBlock = 32;  // Q8_0, Q4_0
  WeightFormat format = WeightFormat::F32;
  int64_t rows = 0, cols = 0;
  std::vector<float> f32;      // F32
  std::vector<uint16_t> f16;   // F16
  std::vector<int8_t> q8;      // Int8, Q8_0
  std::vector<uint8_t> nib;    // Q4_0: rows * cols / 2 bytes
  std::vector<uint16_t> d16;   // Q8_0, Q4_0: f16 block scales [rows * cols / 32]
  std::vector<uint32_t> q4;    // Int4: rows * groups() * 16 words
  std::vector<float> scale;    // Int8: [rows]; Int4: [rows * groups]
  std::vector<float> minv;     // Int4: [rows * groups]

  int64_t groups() const { return (cols + kGroup - 1) / kGroup; }
  int64_t words_per_row() const { return groups() * (kGroup / 8); }
  int64_t blocks_per_row() const { return cols / kBlock; }  // Q8_0, Q4_0
  size_t bytes() const;
  // Dequantizes row r into out[cols].
  void dequant_row(int64_t r, float* out) const;
};

// Builds a QMatrix from f32 data [rows, cols]. Int4 uses a per-group search over clipped ranges
// with a least-squares fit of scale and minimum (see quantize.cpp); the pool parallelizes rows.
// search = false skips the clipping search (int4 only): min/max range plus the least-squares
// refinement, about 10x faster to load, slightly less accurate. Q8_0 and Q4_0 use ggml's
// reference quantizers (cols must be a multiple of 32).
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
