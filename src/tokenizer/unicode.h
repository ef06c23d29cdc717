// Unicode support for the tokenizer: UTF-8 decoding and repair, character properties (general
// category, White_Space, Alphabetic) from the generated tables, and NFC / NFD normalization.
// The tables come from the Unicode Character Database that the build reads (Debian's unicode-data,
// Unicode 15.0); see tools/gen_unicode_tables.py.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.h"

namespace hearth::unicode {

// General categories, in the order the generator writes them (Cn = unassigned).
enum class Gc : uint8_t {
  Cn, Lu, Ll, Lt, Lm, Lo, Mn, Mc, Me, Nd, Nl, No, Pc, Pd, Ps, Pe, Pi, Pf, Po, Sm, Sc, Sk, So,
  Zs, Zl, Zp, Cc, Cf, Cs, Co
};

// Character classes as bits, for the pre-tokenizer matchers.
enum : uint8_t {
  kClassLetter = 1,      // \p{L}
  kClassNumber = 2,      // \p{N}
  kClassWhiteSpace = 4,  // \s: the White_Space property (as Oniguruma and Rust's regex use it)
  kClassMark = 8,        // \p{M}
  kClassWord = 16,       // \w of Rust's regex: Alphabetic, M, Nd, Pc, Join_Control
};

Gc category(uint32_t cp);
// Bit set of kClass* for a code point (ASCII is answered from a small table).
uint8_t classes(uint32_t cp);
inline bool is_letter(uint32_t cp) { return classes(cp) & kClassLetter; }
inline bool is_number(uint32_t cp) { return classes(cp) & kClassNumber; }
inline bool is_whitespace(uint32_t cp) { return classes(cp) & kClassWhiteSpace; }
inline bool is_word_char(uint32_t cp) { return classes(cp) & kClassWord; }
uint8_t combining_class(uint32_t cp);

// ---- UTF-8 ----
// Length of the valid UTF-8 sequence starting at s[i], or 0 if the byte there does not start one
// (stray continuation byte, overlong form, surrogate, beyond U+10FFFF or truncated).
size_t valid_sequence_length(std::string_view s, size_t i);
// Decodes the sequence at s[i] and sets *len to its length. A sequence cut short (by the end of
// s or a missing continuation byte) reads as U+FFFD of length 1; valid text decodes exactly.
uint32_t decode_at(std::string_view s, size_t i, size_t* len);
using ::hearth::append_utf8;  // core/utf8.h
bool is_valid_utf8(std::string_view s);
// Replaces every byte that is not part of a valid UTF-8 sequence with U+FFFD.
std::string replace_invalid_bytes(std::string_view s);
// Rust's String::from_utf8_lossy: each maximal invalid subpart becomes one U+FFFD.
std::string utf8_lossy(std::string_view s);

// ---- Normalization (input must be valid UTF-8) ----
std::string nfc(std::string_view s);
std::string nfd(std::string_view s);
// True when nfc(s) == s is certain from the NFC_QC property alone (the common fast path).
bool is_nfc_quick(std::string_view s);

}  // namespace hearth::unicode
