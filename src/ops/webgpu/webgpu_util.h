// Small helpers shared by the WebGPU backend's source files.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>

#include "ops/qmatrix.h"
#include "ops/webgpu/fixed_vec.h"

namespace hearth::webgpu {

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The weights_<key>.wgsl snippet of a format.
inline const char* format_key(WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return "f32";
    case WeightFormat::F16: return "f16";
    case WeightFormat::Int8: return "int8";
    case WeightFormat::Int4: return "int4";
    case WeightFormat::Q8_0: return "q8_0";
    case WeightFormat::Q4_0: return "q4_0";
  }
  return "f32";
}

}  // namespace hearth::webgpu
