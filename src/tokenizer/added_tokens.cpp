// Added-token matching: a byte trie searched leftmost-longest (like the Aho-Corasick automaton of
// HF tokenizers), then the single_word / lstrip / rstrip rules, where "word" and "space" are the
// \w and \s of Rust's regex crate.
#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace hearth::tok {
namespace {

// The code point that ends text[0, end) (valid UTF-8, end > 0).
uint32_t last_char(std::string_view text, size_t end, size_t* start) {
  size_t b = end - 1;
  while (b > 0 && (uint8_t(text[b]) & 0xC0) == 0x80) --b;
  size_t len;
  *start = b;
  return unicode::decode_at(text, b, &len);
}

bool ends_with_word(std::string_view text, size_t end) {
  if (end == 0) return false;
  size_t b;
  return unicode::is_word_char(last_char(text, end, &b));
}

bool starts_with_word(std::string_view text, size_t begin) {
  if (begin >= text.size()) return false;
  size_t len;
  return unicode::is_word_char(unicode::decode_at(text, begin, &len));
}

// Start of the whitespace run that ends at `end`.
size_t spaces_before(std::string_view text, size_t end) {
  while (end > 0) {
    size_t b;
    if (!unicode::is_whitespace(last_char(text, end, &b))) break;
    end = b;
  }
  return end;
}

// End of the whitespace run that starts at `begin`.
size_t spaces_after(std::string_view text, size_t begin) {
  while (begin < text.size()) {
    size_t len;
    if (!unicode::is_whitespace(unicode::decode_at(text, begin, &len))) break;
    begin += len;
  }
  return begin;
}

}  // namespace

int32_t AddedTokenMatcher::child(int32_t node, uint8_t byte) const {
  auto it = children_.find((uint64_t(uint32_t(node)) << 8) | byte);
  return it == children_.end() ? -1 : it->second;
}

void AddedTokenMatcher::add(std::string_view pattern, const AddedToken& token) {
  if (pattern.empty()) return;
  int32_t node = 0;
  for (char c : pattern) {
    uint64_t key = (uint64_t(uint32_t(node)) << 8) | uint8_t(c);
    auto it = children_.find(key);
    if (it == children_.end()) {
      int32_t fresh = int32_t(terminal_.size());
      terminal_.push_back(-1);
      children_.emplace(key, fresh);
      node = fresh;
    } else {
      node = it->second;
    }
  }
  if (terminal_[size_t(node)] >= 0) return;  // the same pattern twice: the first one wins
  terminal_[size_t(node)] = int32_t(tokens_.size());
  tokens_.push_back(token);
  first_byte_[uint8_t(pattern[0])] = true;
}

void AddedTokenMatcher::split(std::string_view text, SegmentSink sink) const {
  size_t n = text.size();
  size_t done = 0;  // end of what has been emitted
  size_t pos = 0;
  while (pos < n && !tokens_.empty()) {
    if (!first_byte_[uint8_t(text[pos])]) {
      ++pos;
      continue;
    }
    int32_t node = 0, best = -1;
    size_t best_end = 0;
    for (size_t j = pos; j < n; ++j) {
      node = child(node, uint8_t(text[j]));
      if (node < 0) break;
      if (terminal_[size_t(node)] >= 0) {
        best = terminal_[size_t(node)];
        best_end = j + 1;
      }
    }
    if (best < 0) {
      ++pos;
      continue;
    }
    const AddedToken& tok = tokens_[size_t(best)];
    size_t start = pos, stop = best_end;
    pos = best_end;  // the search resumes after the match, whether it is kept or not
    if (tok.single_word) {
      bool space_before = start == 0 || !ends_with_word(text, start);
      bool space_after = stop == n || !starts_with_word(text, stop);
      if (!space_before || !space_after) continue;
    }
    if (tok.lstrip) start = std::max(spaces_before(text, start), done);
    if (tok.rstrip) stop = spaces_after(text, stop);
    if (start < done) continue;  // inside spaces an earlier rstrip already took
    if (start > done) sink(done, start, -1);
    sink(start, stop, tok.id);
    done = stop;
  }
  if (done < n) sink(done, n, -1);
}

}  // namespace hearth::tok
