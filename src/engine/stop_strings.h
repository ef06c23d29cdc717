// Stop strings for streamed generation: decides which part of the text generated so far can be
// shown now, holds back a tail that might be the start of a stop string, and reports when a
// stop string is complete (the text before it is emitted, the stop string and anything after
// it are dropped).
//
// Use, per generation:
//   StopStringMatcher stops({"\nUser:", "</answer>"});
//   for each new token:
//     std::string piece = detokenize(token);      // the UTF-8 text this token adds
//     emit(stops.push(piece));                    // may be "" while text is held back
//     if (stops.stopped()) break;                 // a stop string completed
//   if (!stops.stopped()) emit(stops.finish());   // end of generation (EOS, max tokens)
//
// Rules:
//   - Matching is on bytes, over the whole stream: a stop string split across any number of
//     pieces is found exactly as if the text had come in one piece.
//   - Several stop strings: the one whose match ENDS first in the stream wins (it is the first
//     one to be complete while streaming); if two end at the same byte, the longer one (the
//     one that starts earlier) wins. E.g. stops "ab" and "abc" on "xabc" stop at "ab" and
//     emit "x"; stops "bc" and "abc" on "xabc" stop at "abc" (both end together) and emit "x".
//     The result does not depend on how the text was split into pieces.
//   - Held back: the longest tail that could still grow into a stop string (a proper prefix
//     of one), and, unless disabled, an incomplete UTF-8 sequence at the very end so that what
//     push() returns is always whole characters (byte-level tokenizers split characters).
//   - finish() returns whatever is held (also a trailing partial stop string or broken UTF-8:
//     nothing is lost). After a stop, push() and finish() return "".
//   - Empty stop strings are ignored.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace hearth {

class StopStringMatcher {
 public:
  explicit StopStringMatcher(std::vector<std::string> stop_strings = {},
                             bool hold_incomplete_utf8 = true);

  // Feeds the text the newest token adds; returns the text that is now safe to emit.
  std::string push(std::string_view piece);
  // Ends the stream: returns the text still held back (empty after a stop).
  std::string finish();

  bool stopped() const { return matched_ >= 0; }
  // Index (into the constructor's list) of the stop string that matched, or -1.
  int matched_index() const { return matched_; }
  // Text currently held back (not yet emitted).
  const std::string& held() const { return held_; }
  // Forgets the stream (keeps the stop strings) for a new generation.
  void reset();

 private:
  std::vector<std::string> stops_;  // as given (empties kept so indices match)
  size_t max_len_ = 0;
  bool hold_utf8_;
  std::string held_;
  int matched_ = -1;
};

}  // namespace hearth
