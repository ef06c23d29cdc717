// Finiteness checks of loaded data (weights, adapters): NaN or Inf in a weight makes every later
// result NaN, so loading fails naming the element. The scans run on every load of multi-GB
// models: they are branch-free over blocks (a max of |x| bit patterns, which the compiler
// vectorizes) and look element by element only inside a block that holds a bad value.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hearth {

// The index of the first NaN or infinite value among x[0, n), or n when all are finite.
size_t first_non_finite(const float* x, size_t n);

// The same over n f16 values spaced `stride` bytes apart starting at p (e.g. the scale at the
// start of each ggml block): the index of the first whose exponent is all ones, or n.
size_t first_non_finite_f16(const uint8_t* p, size_t n, size_t stride);

}  // namespace hearth
