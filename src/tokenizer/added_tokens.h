// Added tokens (the "added_tokens" of tokenizer.json, special or not): found in the text before
// pre-tokenization with leftmost-longest matching, honouring single_word / lstrip / rstrip the way
// HF tokenizers' AddedVocabulary does.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/pretokenize.h"

namespace hearth::tok {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  std::string text;  // what decode shows: the content, normalized if `normalized`
  bool special = false;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = false;
};

// Receives [begin, end) of a segment and the id of the added token it is, or -1 for plain text.
using SegmentSink = FnRef<void(size_t begin, size_t end, int32_t id)>;

class AddedTokenMatcher {
 public:
  // `pattern` is what is searched for (the content, or its normalized form).
  void add(std::string_view pattern, const AddedToken& token);
  bool empty() const { return tokens_.empty(); }
  // Cuts `text` into plain segments and added tokens, in order, covering all of it.
  void split(std::string_view text, SegmentSink sink) const;

 private:
  int32_t child(int32_t node, uint8_t byte) const;
  std::vector<AddedToken> tokens_;
  std::vector<int32_t> terminal_ = {-1};  // node -> index into tokens_, or -1
  std::unordered_map<uint64_t, int32_t> children_;  // (node << 8 | byte) -> node
  bool first_byte_[256] = {};
};

}  // namespace hearth::tok
