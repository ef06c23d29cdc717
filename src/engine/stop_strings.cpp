// Stop-string matching over streamed text (see stop_strings.h for the rules).
#include "engine/stop_strings.h"

#include <algorithm>

namespace hearth {

namespace {

// Length of an incomplete UTF-8 sequence at the end of `s` (0 if it ends on a whole
// character or with bytes that can never complete one).
size_t incomplete_utf8_tail(std::string_view s) {
  // Look back at most 3 bytes for a lead byte whose sequence runs past the end.
  const size_t n = s.size();
  for (size_t back = 1; back <= 3 && back <= n; ++back) {
    const unsigned char c = static_cast<unsigned char>(s[n - back]);
    if ((c & 0xc0) == 0x80) continue;  // continuation byte: keep looking for the lead
    size_t need = 0;
    if ((c & 0xe0) == 0xc0) need = 2;
    else if ((c & 0xf0) == 0xe0) need = 3;
    else if ((c & 0xf8) == 0xf0) need = 4;
    return (need > back) ? back : 0;  // ASCII or invalid lead bytes: nothing to wait for
  }
  return 0;
}

}  // namespace

StopStringMatcher::StopStringMatcher(std::vector<std::string> stop_strings,
                                     bool hold_incomplete_utf8)
    : stops_(std::move(stop_strings)), hold_utf8_(hold_incomplete_utf8) {
  for (const auto& s : stops_) max_len_ = std::max(max_len_, s.size());
}

void StopStringMatcher::reset() {
  held_.clear();
  matched_ = -1;
}

std::string StopStringMatcher::push(std::string_view piece) {
  if (stopped()) return {};
  held_.append(piece);

  // A complete stop string: the match that ends first wins, then the longer one.
  size_t best_start = std::string::npos, best_end = std::string::npos;
  int best = -1;
  for (size_t i = 0; i < stops_.size(); ++i) {
    const std::string& s = stops_[i];
    if (s.empty()) continue;
    const size_t pos = held_.find(s);
    if (pos == std::string::npos) continue;
    const size_t end = pos + s.size();
    if (end < best_end || (end == best_end && pos < best_start)) {
      best_start = pos;
      best_end = end;
      best = int(i);
    }
  }
  if (best >= 0) {
    matched_ = best;
    std::string out = held_.substr(0, best_start);
    held_.clear();
    return out;
  }

  // Hold back the earliest tail that is a proper prefix of some stop string.
  size_t keep_from = held_.size();
  const size_t lo = held_.size() >= max_len_ ? held_.size() - max_len_ + 1 : 0;
  for (size_t i = lo; i < held_.size() && keep_from == held_.size(); ++i) {
    const std::string_view tail = std::string_view(held_).substr(i);
    for (const auto& s : stops_) {
      if (s.size() > tail.size() && s.compare(0, tail.size(), tail) == 0) {
        keep_from = i;
        break;
      }
    }
  }
  if (hold_utf8_) {
    const size_t partial = incomplete_utf8_tail(std::string_view(held_).substr(0, keep_from));
    keep_from -= partial;
  }
  std::string out = held_.substr(0, keep_from);
  held_.erase(0, keep_from);
  return out;
}

std::string StopStringMatcher::finish() {
  if (stopped()) return {};
  std::string out;
  out.swap(held_);
  return out;
}

}  // namespace hearth
