// StopStringMatcher tests: stops split across pieces, false starts, several and overlapping
// stop strings, finish(), UTF-8 holding, and chunking independence against a direct search.
#include "engine/stop_strings.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hearth {
namespace {

struct Streamed {
  std::string text;
  bool stopped = false;
  int index = -1;
};

Streamed stream(const std::vector<std::string>& stops, const std::vector<std::string>& pieces) {
  StopStringMatcher m(stops);
  Streamed r;
  for (const auto& p : pieces) {
    r.text += m.push(p);
    if (m.stopped()) break;
  }
  if (!m.stopped()) r.text += m.finish();
  r.stopped = m.stopped();
  r.index = m.matched_index();
  return r;
}

std::vector<std::string> chars(const std::string& s) {
  std::vector<std::string> v;
  for (char c : s) v.push_back(std::string(1, c));
  return v;
}

TEST(StopStrings, NoStopsPassesThrough) {
  StopStringMatcher m;
  EXPECT_EQ(m.push("Hello"), "Hello");
  EXPECT_EQ(m.push(", world"), ", world");
  EXPECT_EQ(m.finish(), "");
  EXPECT_FALSE(m.stopped());
}

TEST(StopStrings, StopInsideOnePiece) {
  StopStringMatcher m({"</s>"});
  EXPECT_EQ(m.push("Hello</s>world"), "Hello");
  EXPECT_TRUE(m.stopped());
  EXPECT_EQ(m.matched_index(), 0);
  EXPECT_EQ(m.push("more"), "");
  EXPECT_EQ(m.finish(), "");
}

TEST(StopStrings, StopSplitAcrossManyPieces) {
  StopStringMatcher m({"</answer>"});
  EXPECT_EQ(m.push("42 is it"), "42 is it");
  EXPECT_EQ(m.push("<"), "");
  EXPECT_EQ(m.push("/ans"), "");
  EXPECT_EQ(m.held(), "</ans");
  EXPECT_EQ(m.push("wer"), "");
  EXPECT_FALSE(m.stopped());
  EXPECT_EQ(m.push("> trailing"), "");
  EXPECT_TRUE(m.stopped());
  auto r = stream({"</answer>"}, chars("abc</answer>xyz"));
  EXPECT_EQ(r.text, "abc");
  EXPECT_TRUE(r.stopped);
}

TEST(StopStrings, FalseStartIsReleased) {
  StopStringMatcher m({"STOP"});
  EXPECT_EQ(m.push("go ST"), "go ");
  EXPECT_EQ(m.held(), "ST");
  EXPECT_EQ(m.push("ART"), "START");
  EXPECT_FALSE(m.stopped());
  // A prefix that restarts inside the held text.
  StopStringMatcher a({"aab"});
  std::string out;
  for (const auto& p : chars("aaab")) out += a.push(p);
  EXPECT_TRUE(a.stopped());
  EXPECT_EQ(out, "a");
}

TEST(StopStrings, FinishFlushesHeldText) {
  StopStringMatcher m({"</answer>"});
  EXPECT_EQ(m.push("abc</ans"), "abc");
  EXPECT_EQ(m.finish(), "</ans");
  EXPECT_FALSE(m.stopped());
  m.reset();
  EXPECT_EQ(m.push("x</answer>"), "x");
  EXPECT_TRUE(m.stopped());
}

TEST(StopStrings, FirstCompletedWins) {
  // "ab" completes before "abc".
  for (const auto& pieces : std::vector<std::vector<std::string>>{{"xabc"}, {"xa", "bc"}, chars("xabc")}) {
    auto r = stream({"abc", "ab"}, pieces);
    EXPECT_EQ(r.text, "x");
    EXPECT_EQ(r.index, 1);
  }
  // Both end at the same byte: the longer (earlier-starting) one wins.
  for (const auto& pieces : std::vector<std::vector<std::string>>{{"xabc"}, chars("xabc")}) {
    auto r = stream({"bc", "abc"}, pieces);
    EXPECT_EQ(r.text, "x");
    EXPECT_EQ(r.index, 1);
  }
  // A later-starting stop that ends first wins over an earlier-starting longer one.
  auto r = stream({"abcd", "bc"}, {"xabcd"});
  EXPECT_EQ(r.text, "xa");
  EXPECT_EQ(r.index, 1);
}

TEST(StopStrings, EmptyStopStringsAreIgnored) {
  auto r = stream({"", "END"}, {"abc", "EN", "D!"});
  EXPECT_EQ(r.text, "abc");
  EXPECT_EQ(r.index, 1);
}

TEST(StopStrings, HoldsIncompleteUtf8) {
  StopStringMatcher m({"<|end|>"});
  // "é" is C3 A9; "€" is E2 82 AC.
  EXPECT_EQ(m.push("caf\xC3"), "caf");
  EXPECT_EQ(m.push("\xA9 \xE2\x82"), "\xC3\xA9 ");
  EXPECT_EQ(m.push("\xAC<|"), "\xE2\x82\xAC");
  EXPECT_EQ(m.push("end|>"), "");
  EXPECT_TRUE(m.stopped());
  StopStringMatcher raw({}, /*hold_incomplete_utf8=*/false);
  EXPECT_EQ(raw.push("caf\xC3"), "caf\xC3");
  // finish() returns a dangling partial character rather than losing it.
  StopStringMatcher f;
  EXPECT_EQ(f.push("ab\xE2\x82"), "ab");
  EXPECT_EQ(f.finish(), "\xE2\x82");
}

// The reference: search the whole text at once.
Streamed direct(const std::vector<std::string>& stops, const std::string& text) {
  Streamed r;
  size_t best_end = std::string::npos, best_start = 0;
  for (size_t i = 0; i < stops.size(); ++i) {
    size_t p = text.find(stops[i]);
    if (p == std::string::npos) continue;
    size_t e = p + stops[i].size();
    if (e < best_end || (e == best_end && p < best_start)) {
      best_end = e;
      best_start = p;
      r.index = int(i);
    }
  }
  r.stopped = r.index >= 0;
  r.text = r.stopped ? text.substr(0, best_start) : text;
  return r;
}

TEST(StopStrings, ChunkingDoesNotMatter) {
  const std::vector<std::string> stops = {"abc", "bca", "cc", "abab"};
  uint64_t state = 12345;
  auto rnd = [&]() {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return uint32_t(state >> 33);
  };
  for (int trial = 0; trial < 2000; ++trial) {
    std::string text;
    const size_t len = 1 + rnd() % 20;
    for (size_t i = 0; i < len; ++i) text += char('a' + rnd() % 3);
    const Streamed want = direct(stops, text);
    for (int split = 0; split < 4; ++split) {
      std::vector<std::string> pieces;
      size_t pos = 0;
      while (pos < text.size()) {
        size_t n = 1 + rnd() % 4;
        pieces.push_back(text.substr(pos, n));
        pos += n;
      }
      const Streamed got = stream(stops, pieces);
      ASSERT_EQ(got.text, want.text) << "text " << text;
      ASSERT_EQ(got.stopped, want.stopped) << "text " << text;
      ASSERT_EQ(got.index, want.index) << "text " << text;
    }
  }
}

}  // namespace
}  // namespace hearth
