// Fuzz target: the JSON reader, and config.json / generation_config.json on what it parses,
// then what loading derives from a config: memory sizes and the RoPE table.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/warning.h"
#include "formats/config.h"
#include "formats/json.h"
#include "model/memory_estimate.h"
#include "model/rope.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto j = hearth::parse_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!j.ok()) return 0;
  (void)hearth::parse_generation_config(*j, "generation_config.json");
  auto c = hearth::parse_model_config(*j, "config.json");
  if (!c.ok()) return 0;
  for (hearth::ModelDType d : {hearth::ModelDType::F32, hearth::ModelDType::Int4}) {
    (void)hearth::estimate_memory(*c, d, c->max_position_embeddings, 512).total();
  }
  if (c->head_dim <= 4096) (void)hearth::make_rope_table(*c);
  return 0;
}
