// TextStream: StreamDecoder + StopStringMatcher.
#include "engine/text_stream.h"

#include <algorithm>

namespace hearth {

TextStream::TextStream(const Tokenizer& tok, std::vector<int32_t> stop_ids, std::vector<std::string> stop_strings,
                       bool skip_special)
    : dec_(tok, skip_special), stop_ids_(std::move(stop_ids)), matcher_(std::move(stop_strings)) {}

std::string TextStream::push(int32_t id) {
  if (matcher_.stopped()) return "";
  if (std::find(stop_ids_.begin(), stop_ids_.end(), id) != stop_ids_.end()) return "";
  return matcher_.push(dec_.step(id));
}

std::string TextStream::finish() {
  if (matcher_.stopped()) return "";
  std::string tail = matcher_.push(dec_.flush());
  if (matcher_.stopped()) return tail;
  return tail + matcher_.finish();
}

}  // namespace hearth
