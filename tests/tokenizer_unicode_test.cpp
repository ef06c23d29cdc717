// Unit tests of the tokenizer's Unicode layer (generated property tables, UTF-8 validation and
// repair, NFC / NFD) and of the hand-written split-regex matchers.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace hearth {
namespace {

using namespace unicode;

TEST(TokenizerUnicode, Classes) {
  EXPECT_TRUE(is_letter('a'));
  EXPECT_TRUE(is_letter(0x4E2D));   // 中
  EXPECT_TRUE(is_letter(0xD55C));   // 한
  EXPECT_TRUE(is_letter(0x2F800));  // CJK compatibility ideograph supplement
  EXPECT_FALSE(is_letter('1'));
  EXPECT_FALSE(is_letter(0x301));
  EXPECT_TRUE(is_number('7'));
  EXPECT_TRUE(is_number(0x216B));  // Ⅻ (Nl)
  EXPECT_TRUE(is_number(0xBD));    // ½ (No)
  EXPECT_TRUE(is_number(0x663));   // Arabic-Indic three (Nd)
  EXPECT_FALSE(is_number('x'));
  for (uint32_t cp : {0x9u, 0xAu, 0xBu, 0xCu, 0xDu, 0x20u, 0x85u, 0xA0u, 0x1680u, 0x2000u, 0x200Au,
                      0x2028u, 0x2029u, 0x202Fu, 0x205Fu, 0x3000u}) {
    EXPECT_TRUE(is_whitespace(cp)) << std::hex << cp;
  }
  for (uint32_t cp : {0x200Bu, 0x180Eu, 0x1Cu, 0xFEFFu, uint32_t('a')}) {
    EXPECT_FALSE(is_whitespace(cp)) << std::hex << cp;
  }
  EXPECT_TRUE(classes(0x301) & kClassMark);
  EXPECT_TRUE(is_word_char('_'));
  EXPECT_TRUE(is_word_char(0x200D));
  EXPECT_TRUE(is_word_char(0x24B6));  // Ⓐ: Alphabetic although So
  EXPECT_FALSE(is_word_char('-'));
  EXPECT_EQ(category('A'), Gc::Lu);
  EXPECT_EQ(category(0x1F600), Gc::So);
  EXPECT_EQ(category(0xE000), Gc::Co);
  EXPECT_EQ(category(0x378), Gc::Cn);  // unassigned
  EXPECT_EQ(combining_class(0x301), 230);
  EXPECT_EQ(combining_class(0x323), 220);
  EXPECT_EQ(combining_class('a'), 0);
}

TEST(TokenizerUnicode, Utf8) {
  EXPECT_TRUE(is_valid_utf8("plain \xC3\xA9 \xE4\xB8\xAD \xF0\x9F\xA6\x99"));
  EXPECT_FALSE(is_valid_utf8("\xC0\x80"));          // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // beyond U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE4\xB8"));          // truncated
  EXPECT_FALSE(is_valid_utf8("\x80"));
  // Repair replaces every invalid byte; lossy decoding (Rust's) every maximal invalid subpart.
  EXPECT_EQ(replace_invalid_bytes("a\xE4\xB8" "b\xFF"), "a\xEF\xBF\xBD\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(utf8_lossy("a\xE4\xB8" "b\xFF"), "a\xEF\xBF\xBD" "b\xEF\xBF\xBD");
  EXPECT_EQ(utf8_lossy("\xF0\x9F\xA6"), "\xEF\xBF\xBD");
  EXPECT_EQ(utf8_lossy("\xF0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");
  EXPECT_EQ(utf8_lossy("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  size_t len;
  EXPECT_EQ(decode_at("\xF0\x9F\xA6\x99", 0, &len), 0x1F999u);
  EXPECT_EQ(len, 4u);
  std::string s;
  unicode::append_utf8(s, 0x10FFFF);
  EXPECT_EQ(s, "\xF4\x8F\xBF\xBF");
}

TEST(TokenizerUnicode, Normalization) {
  EXPECT_EQ(nfc("e\xCC\x81"), "\xC3\xA9");                             // e + acute -> é
  EXPECT_EQ(nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");  // jamo -> 각
  EXPECT_EQ(nfc("\xEA\xB0\x80\xE1\x86\xA8"), "\xEA\xB0\x81");          // LV + T -> LVT
  EXPECT_EQ(nfc("\xE2\x84\xAB"), "\xC3\x85");                          // Å (singleton) -> U+00C5
  EXPECT_EQ(nfc("\xE0\xA5\x98"), "\xE0\xA4\x95\xE0\xA4\xBC");          // excluded from composition
  EXPECT_EQ(nfc("o\xCC\x82\xCC\xA3"), "\xE1\xBB\x99");                 // reordered, then ộ
  EXPECT_EQ(nfc("o\xCC\xA3\xCC\x82"), "\xE1\xBB\x99");
  EXPECT_EQ(nfc("A\xCC\x8A\xCC\x81"), "\xC7\xBA");                     // Ǻ
  EXPECT_EQ(nfc("a\xCC\x81\xCC\x81"), "\xC3\xA1\xCC\x81");             // second acute is blocked
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
  EXPECT_TRUE(is_nfc_quick("caf\xC3\xA9 \xE4\xB8\xAD"));
  EXPECT_FALSE(is_nfc_quick("cafe\xCC\x81"));
  EXPECT_EQ(nfd("\xC3\xA9"), "e\xCC\x81");
  EXPECT_EQ(nfd("\xEA\xB0\x81"), "\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8");
  EXPECT_EQ(nfd("\xE1\xBB\x99"), "o\xCC\xA3\xCC\x82");
}

std::vector<std::string> split_with(const std::string& pattern, const std::string& text) {
  auto alts = tok::parse_split_regex(pattern);
  EXPECT_TRUE(alts.ok()) << alts.message();
  std::vector<std::pair<size_t, size_t>> m;
  if (alts.ok()) tok::find_regex_matches(*alts, text, m);
  std::vector<std::string> out;
  for (auto [b, e] : m) out.push_back(text.substr(b, e - b));
  return out;
}

const std::string kQwen =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const std::string kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const std::string kGpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

using V = std::vector<std::string>;

TEST(TokenizerRegex, Qwen2Pattern) {
  EXPECT_EQ(split_with(kQwen, "Hello  world\n\n  x"), (V{"Hello", " ", " world", "\n\n", " ", " x"}));
  EXPECT_EQ(split_with(kQwen, "I'M don't 12345 ok!!\r\n"),
            (V{"I", "'M", " don", "'t", " ", "1", "2", "3", "4", "5", " ok", "!!\r\n"}));
  EXPECT_EQ(split_with(kQwen, "  a\tb  "), (V{" ", " a", "\tb", "  "}));
  EXPECT_EQ(split_with(kQwen, "x = (1 + 22);\n\n\ty"),
            (V{"x", " =", " (", "1", " +", " ", "2", "2", ");\n\n", "\ty"}));
  EXPECT_EQ(split_with(kQwen, "\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C\xE4\xBD\xA0 123"),
            (V{"\xE4\xB8\xAD\xE6\x96\x87", "\xEF\xBC\x8C\xE4\xBD\xA0", " ", "1", "2", "3"}));
  // Case-insensitive contractions include U+017F LONG S, which folds to 's'.
  EXPECT_EQ(split_with(kQwen, "it'\xC5\xBF"), (V{"it", "'\xC5\xBF"}));
}

TEST(TokenizerRegex, Llama3AndGpt2Patterns) {
  EXPECT_EQ(split_with(kLlama3, "I'M don't 12345 ok!!\r\n"),
            (V{"I", "'M", " don", "'t", " ", "123", "45", " ok", "!!\r\n"}));
  EXPECT_EQ(split_with(kLlama3, "x = (1 + 22);\n\n\ty"),
            (V{"x", " =", " (", "1", " +", " ", "22", ");\n\n", "\ty"}));
  EXPECT_EQ(split_with(kGpt2, "Hello  world\n\n  x"), (V{"Hello", " ", " world", "\n\n ", " x"}));
  EXPECT_EQ(split_with(kGpt2, "I'M don't 12345 ok!!\r\n"),
            (V{"I", "'", "M", " don", "'t", " 12345", " ok", "!!", "\r\n"}));
  EXPECT_EQ(split_with(kGpt2, "x = (1 + 22);\n\n\ty"),
            (V{"x", " =", " (", "1", " +", " 22", ");", "\n\n", "\t", "y"}));
  auto gpt2 = tok::parse_split_regex(kGpt2);
  ASSERT_TRUE(gpt2.ok());
  EXPECT_EQ(*gpt2, tok::gpt2_regex());
}

TEST(TokenizerRegex, UnknownPatternIsAnError) {
  auto r = tok::parse_split_regex("\\w+|[^\\w\\s]+");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("\\w+"), std::string::npos) << r.message();
  EXPECT_FALSE(tok::parse_split_regex("'s|'t").ok());  // an incomplete contraction list
}

}  // namespace
}  // namespace hearth
