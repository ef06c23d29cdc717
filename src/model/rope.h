// Rotary-embedding frequencies for every supported scaling type, computed in f32 in the same
// order of operations as Hugging Face transformers, so cos/sin match to the last bit or two.
#pragma once
#include "formats/config.h"
#include "ops/backend.h"

namespace hearth {

RopeTable make_rope_table(const ModelConfig& c);

}  // namespace hearth
