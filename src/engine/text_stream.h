// TextStream: turns generated ids into the text a user should see, as they arrive: incremental
// detokenization that never splits a UTF-8 character, stop tokens hidden, and stop strings
// matched across token boundaries (the text up to the stop string is emitted, the rest dropped).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "engine/stop_strings.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

class TextStream {
 public:
  TextStream(const Tokenizer& tok, std::vector<int32_t> stop_ids, std::vector<std::string> stop_strings,
             bool skip_special = true);
  // Text completed by `id` (may be empty). After a stop string matched, returns "" and done().
  std::string push(int32_t id);
  // Whatever was held back, at the end of generation.
  std::string finish();
  bool done() const { return matcher_.stopped(); }

 private:
  StreamDecoder dec_;
  std::vector<int32_t> stop_ids_;
  StopStringMatcher matcher_;
};

}  // namespace hearth
