// Grammars for constrained generation: a GBNF subset parsed into byte-level rules that a
// pushdown matcher (grammar/matcher.h) runs one byte at a time.
//
// GBNF subset (the format llama.cpp popularized):
//   rule-name ::= alternatives        a rule; `root` is where matching starts
//   a b                                sequence;   a | b   alternatives;   ( ... )  group
//   "text"                             literal, escapes \n \r \t \\ \" \' \[ \] \xHH \uHHHH \UHHHHHHHH
//   [a-z0-9_] [^"\\]                   character class of code points (ranges, negation, escapes)
//   .                                  any character
//   x*  x+  x?  x{m}  x{m,}  x{m,n}    repetition
//   # comment                          to the end of the line
// A rule runs until the next `name ::=` (so alternatives may span lines).
// Characters are UTF-8: a class becomes alternatives of byte-range sequences that match exactly
// the UTF-8 encodings of its code points (surrogates excluded), so the matcher works on bytes and
// tokens that split a character are handled like any other bytes.
// Rejected with a message naming the rule: undefined rules, a missing root, left recursion
// (also through rules that can match nothing), repetition of something that can match nothing,
// repetition counts above 10000, grammars above 200000 symbols.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace hearth {

// A set of bytes.
struct ByteSet {
  std::array<uint64_t, 4> bits{};
  bool has(uint8_t b) const { return (bits[b >> 6] >> (b & 63)) & 1; }
  void add(uint8_t b) { bits[b >> 6] |= uint64_t(1) << (b & 63); }
  void add_range(uint8_t lo, uint8_t hi) {
    for (int b = lo; b <= hi; ++b) add(uint8_t(b));
  }
};

// Byte-level rules. All alternatives' symbols are stored in one array, each alternative ended
// by an End symbol; a rule lists where its alternatives start.
struct Grammar {
  enum class Kind : uint8_t { End, Bytes, Ref };
  struct Symbol {
    Kind kind = Kind::End;
    uint32_t arg = 0;  // Bytes: index into sets; Ref: rule index
  };
  std::vector<Symbol> symbols;
  std::vector<ByteSet> sets;
  std::vector<std::vector<uint32_t>> rule_alts;  // rule -> start indices into symbols
  std::vector<std::string> rule_names;           // for messages (generated rules get name-N)
  uint32_t root = 0;
};

// Parses GBNF text; `what` names it in errors ("--grammar FILE").
Result<Grammar> parse_gbnf(std::string_view text, const std::string& what);

}  // namespace hearth
