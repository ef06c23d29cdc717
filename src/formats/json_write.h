// Writes a Json tree as JSON text (config.json, tokenizer.json, ... of converted models):
// strings escaped per RFC 8259 (UTF-8 kept as is), integers as integers, other numbers in the
// shortest form that reads back to the same double.
#pragma once
#include <string>

#include "core/error.h"
#include "formats/json.h"

namespace hearth {

// indent > 0: one member or element per line, nested `indent` spaces deeper (the large arrays
// of a tokenizer.json stay on one line each when `compact_arrays`).
std::string json_text(const Json& j, int indent = 2, bool compact_arrays = false);
Status write_json_file(const std::string& path, const Json& j, int indent = 2, bool compact_arrays = false);

}  // namespace hearth
