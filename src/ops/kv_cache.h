// The KV cache's storage formats. A cache is [ctx, n_kv_heads] rows of head_dim values, kept in a
// backend buffer of f32 elements; a row is stored as
//   f32:  head_dim floats;
//   f16:  head_dim halves, two per element (head_dim even): half the memory, ~3 significant
//         digits, converted back to f32 for the math;
//   int8: head_dim signed bytes, four per element (head_dim % 4 == 0), then one f32 scale per
//         row (one per head and position: the per-head-group scale), value = q * scale with
//         scale = max|x| / 127 and q = round(x / scale): about a quarter of the memory.
// encode_kv_row / decode_kv_row are the one definition of these formats; backends call them
// (the CPU attention decodes each visible row and computes in f32).
#pragma once
#include <cstdint>

#include "ops/backend_types.h"

namespace hearth {

const char* kv_dtype_name(KvDType t);
// f32 elements a row of head_dim values takes.
int64_t kv_row_elements(KvDType t, int64_t head_dim);
// Whether head_dim can be stored as `t` (f16: even; int8: a multiple of 4).
bool kv_dtype_fits(KvDType t, int64_t head_dim);
// x: [head_dim] -> dst: [kv_row_elements]
void encode_kv_row(const float* x, int64_t head_dim, KvDType t, float* dst);
// src: [kv_row_elements] -> out: [head_dim]
void decode_kv_row(const float* src, int64_t head_dim, KvDType t, float* out);

}  // namespace hearth
