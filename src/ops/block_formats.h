// Q8_0 and Q4_0 matrices (QMatrix's split layout of ggml's blocks, see qmatrix.h): filling one
// from the blocks of a GGUF tensor, writing its rows back as ggml blocks, dequantizing a row,
// quantizing f32 data with ggml's reference quantizers, and the Q8_0 quantization of
// activations that the products use.
#pragma once
#include <cstdint>
#include <span>

#include "ops/qmatrix.h"

namespace hearth {

// An empty Q8_0 / Q4_0 matrix of [rows, cols] (cols % 32 == 0) with its storage allocated.
QMatrix make_block_matrix(WeightFormat f, int64_t rows, int64_t cols);
// Copies rows r0..r0+n-1 from ggml blocks (n * cols / 32 blocks of 34 or 18 bytes, back to back).
void set_block_rows(QMatrix& m, int64_t r0, int64_t n, const uint8_t* blocks);
// Writes row r as ggml blocks (cols / 32 blocks of 34 or 18 bytes) to out.
void get_block_row(const QMatrix& m, int64_t r, uint8_t* out);
// Bytes of one row as ggml blocks.
int64_t block_row_bytes(WeightFormat f, int64_t cols);

void dequant_block_row(const QMatrix& m, int64_t r, float* out);
// Fills m (format, rows and cols set) from f32 data [rows, cols] with ggml's reference quantizers.
void quantize_block_matrix(std::span<const float> w, QMatrix& m, ThreadPool* pool);

// Activations for Q8_0 / Q4_0 products: each row of x [T, n] (n % 32 == 0) quantized to Q8_0
// blocks (ggml's reference quantizer): q [T, n] int8, d [T, n / 32] as f32 (the f16 scale's value).
struct QuantizedRows {
  std::vector<int8_t> q;
  std::vector<float> d;
};
void quantize_rows_q8_0(const float* x, int64_t T, int64_t n, QuantizedRows& out);

}  // namespace hearth
