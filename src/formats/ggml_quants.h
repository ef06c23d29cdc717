// ggml block formats, value for value as the ggml specification defines them: dequantization of
// F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K and Q6_K rows to f32, and
// the reference quantizers of Q8_0, Q4_0 and Q4_1 (the ones ggml_quantize_chunk runs without an
// importance matrix: same rounding, same f16 scales, so the bytes are identical).
//
// Block layouts (32 values per block unless noted; d, m and dmin are IEEE half):
//  Q4_0: d, 16 bytes; byte j holds value j (low nibble) and j + 16 (high); v = (q - 8) d.
//  Q4_1: d, m, 16 bytes as Q4_0; v = q d + m.
//  Q5_0: d, u32 qh (bit j = fifth bit of value j), 16 bytes as Q4_0; v = (q - 16) d.
//  Q5_1: d, m, u32 qh, 16 bytes; v = q d + m.
//  Q8_0: d, 32 int8; v = q d.
//  K-quants (256 values): see ggml_quants.cpp.
#pragma once
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/ggml_types.h"

namespace hearth {

constexpr int64_t kQ8_0Block = 32;
constexpr int64_t kQ8_0Bytes = 34;
constexpr int64_t kQ4_0Bytes = 18;

// True for the types dequantize_row handles.
bool ggml_can_dequantize(GgmlType t);
// Dequantizes n values (a multiple of the type's block) from `src` into out[n].
void dequantize_row(GgmlType t, const uint8_t* src, int64_t n, float* out);

// Reference quantizers: n (a multiple of 32) values into n / 32 blocks at dst.
void quantize_row_q8_0(const float* x, int64_t n, uint8_t* dst);
void quantize_row_q4_0(const float* x, int64_t n, uint8_t* dst);
void quantize_row_q4_1(const float* x, int64_t n, uint8_t* dst);

// The Q8_0 quantizer split into its parts (activations in the Q8_0 / Q4_0 matrix products):
// q[32] and the f16 bits of the scale of one block of 32 values.
void quantize_block_q8_0(const float* x, int8_t* q, uint16_t* d16);

}  // namespace hearth
