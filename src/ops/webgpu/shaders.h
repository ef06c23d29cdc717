// WGSL composition. The kernels live in src/ops/webgpu/wgsl/*.wgsl and are embedded into the
// build as strings (part.cmake). A pipeline's source is put together from pieces:
//   [enable subgroups;]  const declarations (the specialization: WG, OP, tile sizes, ...)
//   bindings (P: the kernel's struct Params, then one array per distinct buffer)  common.wgsl
//   [reduce_subgroup.wgsl | reduce_workgroup.wgsl]  [weights_common.wgsl weights_<format>.wgsl]
//   [<prelude>.wgsl]  <kernel>.wgsl
// and the kernel's buf_<name> identifiers are renamed to the binding of the buffer they name.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "ops/webgpu/fixed_vec.h"

namespace hearth::webgpu {

// The embedded text of wgsl/<name>.wgsl, or nullptr.
const char* wgsl_source(const std::string& name);

// One binding after P: a buffer and the operand names that refer to it.
struct Binding {
  uint32_t buffer = 0;
  bool write = false;
  bool weights = false;  // array<vec4<u32>> (quantized weights) instead of array<f32>
  bool vec4 = false;     // array<vec4<f32>>: a vec4 view of activations
  bool words = false;    // array<u32>
  std::vector<std::string> names;
};

// Built for every dispatch: string literals and a fixed buffer, no heap.
struct ShaderSpec {
  const char* kernel = "";     // wgsl file stem
  bool reduce = false;         // needs the workgroup reductions (struct Lane, wg_sum, ...)
  const char* weights = "";    // "", "f32", "f16", "int8", "int4"
  bool subgroups = false;      // reductions through subgroup operations (set by the recorder)
  Consts consts;               // WGSL const declarations
  bool needs_subgroups = false;  // the kernel itself uses subgroup operations
  const char* prelude = "";    // a wgsl piece composed right before the kernel ("" = none)
};

Result<std::string> compose_wgsl(const ShaderSpec& spec, const std::vector<Binding>& bindings);

// Replaces whole identifiers: every `from` that is not part of a longer identifier.
std::string rename_identifiers(const std::string& text, const std::vector<std::pair<std::string, std::string>>& map);

}  // namespace hearth::webgpu
