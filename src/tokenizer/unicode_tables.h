// The Unicode tables generated at build time by tools/gen_unicode_tables.py (see part.cmake).
// Every table is sorted by code point; unicode.cpp binary-searches them.
#pragma once
#include <cstddef>
#include <cstdint>

namespace hearth::unicode::tables {

// A run of code points sharing a general category (hearth::unicode::Gc) and property flags.
struct PropRange {
  uint32_t lo, hi;
  uint8_t category;
  uint8_t flags;  // kFlagWhiteSpace | kFlagAlphabetic
};
constexpr uint8_t kFlagWhiteSpace = 1;
constexpr uint8_t kFlagAlphabetic = 2;

// A run of code points sharing a small value (combining class, NFC quick-check 1=Maybe 2=No).
struct ValueRange {
  uint32_t lo, hi;
  uint8_t value;
};

// Full canonical decomposition of `cp`: kDecompositionData[offset .. offset+length).
struct Decomposition {
  uint32_t cp;
  uint16_t offset;
  uint8_t length;
};

// first + second -> composed (primary composites only), sorted by (first, second).
struct CompositionPair {
  uint32_t first, second, composed;
};

extern const PropRange kPropRanges[];
extern const size_t kPropRangeCount;
extern const ValueRange kCccRanges[];
extern const size_t kCccRangeCount;
extern const ValueRange kNfcQcRanges[];
extern const size_t kNfcQcRangeCount;
extern const Decomposition kDecompositions[];
extern const size_t kDecompositionCount;
extern const uint32_t kDecompositionData[];
extern const CompositionPair kCompositions[];
extern const size_t kCompositionCount;

}  // namespace hearth::unicode::tables
