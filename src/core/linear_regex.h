// A regular-expression matcher whose time is linear in the text (a Thompson NFA simulated over
// the text once), for patterns that come from downloaded files, e.g. a LoRA adapter's
// target_modules: backtracking matchers such as std::regex take exponential time on patterns
// like "(.*.*)*x$" and recurse once per character.
//
// The syntax is the part of Python's `re` such patterns use: literals; `.` (any byte but \n);
// classes [abc] [a-z] [^...]; escapes \d \D \w \W \s \S and escaped punctuation; groups (...)
// and (?:...) and (?P<name>...); alternation |; quantifiers * + ? {n} {n,} {n,m} (also lazy,
// which does not change whether a match exists); anchors ^ and $. Matching is on bytes (ASCII
// classes). Anything else (backreferences, lookaround, flags) is an error naming it.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace hearth {

class LinearRegex {
 public:
  static Result<LinearRegex> compile(std::string_view pattern);
  // Whether the whole text matches (Python's re.fullmatch).
  bool full_match(std::string_view text) const;

  struct Inst {
    enum class Op : uint8_t { Byte, Class, Split, Jump, AssertStart, AssertEnd, Match };
    Op op = Op::Match;
    uint8_t byte = 0;
    int32_t x = 0, y = 0;  // Split: both targets; Jump: x; Class: index into classes_
  };

 private:
  std::vector<Inst> prog_;
  std::vector<std::vector<bool>> classes_;  // 256 flags each
  friend class RegexCompiler;
};

}  // namespace hearth
