// Normalizers of tokenizer.json (NFC, NFD, Prepend, Replace, Strip, Sequence): they rewrite each
// piece of input text (the text between added tokens) before pre-tokenization.
#pragma once
#include <memory>
#include <string>

#include "core/error.h"
#include "formats/json.h"

namespace hearth::tok {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  // Rewrites `s` (valid UTF-8) in place.
  virtual void apply(std::string& s) const = 0;
};

// Builds a normalizer from its JSON; `where` names it in errors ("file: normalizer").
Result<std::unique_ptr<Normalizer>> parse_normalizer(const Json& j, const std::string& where);

}  // namespace hearth::tok
