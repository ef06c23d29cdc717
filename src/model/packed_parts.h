// The parts a pack stores a matrix as (shared by writing, model/packed_model.cpp, and reading,
// model/packed_checkpoint.cpp): per weight format its arrays, by name.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "ops/qmatrix.h"

namespace hearth {

struct PackedPart {
  const char* name;
  void* data;
  size_t bytes;
};
// The parts of q (in q.format, [q.rows, q.cols]); with resize, its arrays sized first.
std::vector<PackedPart> packed_parts(QMatrix& q, bool resize);
// A weight format from its weight_format_name.
std::optional<WeightFormat> format_from_name(const std::string& s);

}  // namespace hearth
