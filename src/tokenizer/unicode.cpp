// Unicode properties (binary search over the generated range tables), UTF-8 validation and
// repair, and canonical normalization (NFD / NFC with algorithmic Hangul), following UAX #15.
#include "tokenizer/unicode.h"

#include <algorithm>
#include <array>
#include <vector>

#include "tokenizer/unicode_tables.h"

namespace hearth::unicode {
namespace {

using namespace tables;

template <class R>
const R* find_range(const R* ranges, size_t n, uint32_t cp) {
  size_t lo = 0, hi = n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (ranges[mid].hi < cp) {
      lo = mid + 1;
    } else if (ranges[mid].lo > cp) {
      hi = mid;
    } else {
      return &ranges[mid];
    }
  }
  return nullptr;
}

uint8_t classes_from_table(uint32_t cp) {
  const PropRange* r = find_range(kPropRanges, kPropRangeCount, cp);
  if (!r) return 0;
  Gc g = Gc(r->category);
  uint8_t c = 0;
  if (g >= Gc::Lu && g <= Gc::Lo) c |= kClassLetter;
  if (g >= Gc::Mn && g <= Gc::Me) c |= kClassMark;
  if (g >= Gc::Nd && g <= Gc::No) c |= kClassNumber;
  if (r->flags & kFlagWhiteSpace) c |= kClassWhiteSpace;
  if ((r->flags & kFlagAlphabetic) || (c & kClassMark) || g == Gc::Nd || g == Gc::Pc ||
      cp == 0x200C || cp == 0x200D) {
    c |= kClassWord;
  }
  return c;
}

struct AsciiClasses {
  std::array<uint8_t, 128> v{};
  AsciiClasses() {
    for (uint32_t c = 0; c < 128; ++c) v[c] = classes_from_table(c);
  }
};

// Hangul syllable composition constants (Unicode chapter 3.12).
constexpr uint32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28;
constexpr uint32_t kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose_into(uint32_t cp, std::vector<uint32_t>& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount) out.push_back(kTBase + s % kTCount);
    return;
  }
  if (cp < 0xC0) {
    out.push_back(cp);
    return;
  }
  size_t lo = 0, hi = kDecompositionCount;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (kDecompositions[mid].cp < cp) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < kDecompositionCount && kDecompositions[lo].cp == cp) {
    const Decomposition& d = kDecompositions[lo];
    out.insert(out.end(), kDecompositionData + d.offset, kDecompositionData + d.offset + d.length);
  } else {
    out.push_back(cp);
  }
}

// Primary composite of a + b, or 0.
uint32_t compose_pair(uint32_t a, uint32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount) {
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  }
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase &&
      b < kTBase + kTCount) {
    return a + (b - kTBase);
  }
  size_t lo = 0, hi = kCompositionCount;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    const CompositionPair& p = kCompositions[mid];
    if (p.first < a || (p.first == a && p.second < b)) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  if (lo < kCompositionCount && kCompositions[lo].first == a && kCompositions[lo].second == b) {
    return kCompositions[lo].composed;
  }
  return 0;
}

// Full canonical decomposition followed by the canonical ordering of combining marks.
std::vector<uint32_t> decompose_ordered(std::string_view s) {
  std::vector<uint32_t> cps;
  cps.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t len;
    uint32_t cp = decode_at(s, i, &len);
    i += len;
    decompose_into(cp, cps);
  }
  // Stable-sort every run of non-starters by combining class (O(k log k) per run).
  std::vector<std::pair<uint8_t, uint32_t>> run;
  for (size_t i = 0; i < cps.size();) {
    if (combining_class(cps[i]) == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    run.clear();
    while (j < cps.size()) {
      uint8_t c = combining_class(cps[j]);
      if (c == 0) break;
      run.emplace_back(c, cps[j]);
      ++j;
    }
    if (run.size() > 1) {
      std::stable_sort(run.begin(), run.end(),
                       [](const auto& x, const auto& y) { return x.first < y.first; });
      for (size_t k = 0; k < run.size(); ++k) cps[i + k] = run[k].second;
    }
    i = j;
  }
  return cps;
}

}  // namespace

Gc category(uint32_t cp) {
  const PropRange* r = find_range(kPropRanges, kPropRangeCount, cp);
  return r ? Gc(r->category) : Gc::Cn;
}

uint8_t classes(uint32_t cp) {
  static const AsciiClasses ascii;
  if (cp < 128) return ascii.v[cp];
  return classes_from_table(cp);
}

uint8_t combining_class(uint32_t cp) {
  if (cp < 0x300) return 0;
  const ValueRange* r = find_range(kCccRanges, kCccRangeCount, cp);
  return r ? r->value : 0;
}

size_t valid_sequence_length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> int { return i + k < s.size() ? uint8_t(s[i + k]) : -1; };
  auto cont = [&](size_t k, int lo = 0x80, int hi = 0xBF) {
    int b = byte(k);
    return b >= lo && b <= hi;
  };
  int b0 = byte(0);
  if (b0 < 0) return 0;
  if (b0 < 0x80) return 1;
  if (b0 < 0xC2) return 0;
  if (b0 < 0xE0) return cont(1) ? 2 : 0;
  if (b0 < 0xF0) {
    int lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 < 0xF5) {
    int lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

uint32_t decode_at(std::string_view s, size_t i, size_t* len) {
  const uint8_t b0 = uint8_t(s[i]);
  if (b0 < 0x80) {
    *len = 1;
    return b0;
  }
  // A sequence cut short by the end of the text, or without its continuation bytes, is one
  // byte of U+FFFD (token texts from a file need not be valid UTF-8).
  const size_t n = b0 < 0xC0 ? 0 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : b0 < 0xF8 ? 4 : 0;
  bool ok = n > 0 && i + n <= s.size();
  for (size_t k = 1; ok && k < n; ++k) ok = (uint8_t(s[i + k]) & 0xC0) == 0x80;
  if (!ok) {
    *len = 1;
    return 0xFFFD;
  }
  auto c = [&](size_t k) { return uint32_t(uint8_t(s[i + k]) & 0x3F); };
  *len = n;
  if (n == 2) return (uint32_t(b0 & 0x1F) << 6) | c(1);
  if (n == 3) return (uint32_t(b0 & 0x0F) << 12) | (c(1) << 6) | c(2);
  return (uint32_t(b0 & 0x07) << 18) | (c(1) << 12) | (c(2) << 6) | c(3);
}

bool is_valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    if (uint8_t(s[i]) < 0x80) {
      ++i;
      continue;
    }
    size_t n = valid_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string replace_invalid_bytes(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    size_t n = valid_sequence_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.data() + i, n);
      i += n;
    }
  }
  return out;
}

std::string utf8_lossy(std::string_view s) {
  if (is_valid_utf8(s)) return std::string(s);
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < s.size();) {
    size_t n = valid_sequence_length(s, i);
    if (n) {
      out.append(s.data() + i, n);
      i += n;
      continue;
    }
    // The maximal subpart: the longest prefix of a well-formed sequence (at least one byte).
    auto b = [&](size_t k) -> int { return i + k < s.size() ? uint8_t(s[i + k]) : -1; };
    auto in = [](int v, int lo, int hi) { return v >= lo && v <= hi; };
    int b0 = b(0);
    size_t skip = 1;
    if (in(b0, 0xE0, 0xEF)) {
      int lo = b0 == 0xE0 ? 0xA0 : 0x80, hi = b0 == 0xED ? 0x9F : 0xBF;
      if (in(b(1), lo, hi)) skip = 2;
    } else if (in(b0, 0xF0, 0xF4)) {
      int lo = b0 == 0xF0 ? 0x90 : 0x80, hi = b0 == 0xF4 ? 0x8F : 0xBF;
      if (in(b(1), lo, hi)) {
        skip = 2;
        if (in(b(2), 0x80, 0xBF)) skip = 3;
      }
    }
    out += "\xEF\xBF\xBD";
    i += skip;
  }
  return out;
}

bool is_nfc_quick(std::string_view s) {
  uint8_t last_ccc = 0;
  for (size_t i = 0; i < s.size();) {
    uint8_t b = uint8_t(s[i]);
    if (b < 0x80) {
      ++i;
      last_ccc = 0;
      continue;
    }
    size_t len;
    uint32_t cp = decode_at(s, i, &len);
    i += len;
    if (cp < 0x300) {
      last_ccc = 0;
      continue;
    }
    uint8_t ccc = combining_class(cp);
    if (ccc != 0 && last_ccc > ccc) return false;
    if (find_range(kNfcQcRanges, kNfcQcRangeCount, cp)) return false;  // Maybe or No
    last_ccc = ccc;
  }
  return true;
}

std::string nfd(std::string_view s) {
  bool ascii = std::all_of(s.begin(), s.end(), [](char c) { return uint8_t(c) < 0x80; });
  if (ascii) return std::string(s);
  std::vector<uint32_t> cps = decompose_ordered(s);
  std::string out;
  out.reserve(s.size() + s.size() / 2);
  for (uint32_t cp : cps) append_utf8(out, cp);
  return out;
}

std::string nfc(std::string_view s) {
  if (is_nfc_quick(s)) return std::string(s);
  std::vector<uint32_t> cps = decompose_ordered(s);
  // Canonical composition: a character C composes with the last starter S unless something
  // between them blocks it (a starter, or a mark whose class is >= C's class).
  size_t out_n = 0;
  long starter = -1;
  uint8_t last_ccc = 0;
  for (size_t i = 0; i < cps.size(); ++i) {
    uint32_t c = cps[i];
    uint8_t ccc = combining_class(c);
    if (starter >= 0) {
      bool adjacent = out_n == size_t(starter) + 1;
      if (adjacent || (last_ccc != 0 && last_ccc < ccc)) {
        uint32_t composed = compose_pair(cps[size_t(starter)], c);
        if (composed) {
          cps[size_t(starter)] = composed;
          continue;
        }
      }
    }
    if (ccc == 0) starter = long(out_n);
    last_ccc = ccc;
    cps[out_n++] = c;
  }
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < out_n; ++i) append_utf8(out, cps[i]);
  return out;
}

}  // namespace hearth::unicode
