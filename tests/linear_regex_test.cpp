// LinearRegex against what Python's re.fullmatch gives (the expected values were worked out from
// Python's documented semantics), on the patterns LoRA target_modules use, and its time on the
// patterns that make backtracking matchers take exponential time.
#include "core/linear_regex.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace hearth {
namespace {

bool full(const std::string& pattern, const std::string& text) {
  auto re = LinearRegex::compile(pattern);
  EXPECT_TRUE(re.ok()) << pattern << ": " << (re.ok() ? "" : re.message());
  return re.ok() && re->full_match(text);
}

TEST(LinearRegex, PeftTargetModulePatterns) {
  const std::string pat = R"(.*\.(q_proj|v_proj))";
  EXPECT_TRUE(full(pat, "model.layers.0.self_attn.q_proj"));
  EXPECT_TRUE(full(pat, "model.layers.11.self_attn.v_proj"));
  EXPECT_FALSE(full(pat, "model.layers.0.self_attn.k_proj"));
  EXPECT_FALSE(full(pat, "model.layers.0.self_attn.q_proj.lora_A"));  // full match, not search
  const std::string layers = R"(^model\.layers\.([0-9]|1[0-5])\.(self_attn|mlp)\.\w+_proj$)";
  EXPECT_TRUE(full(layers, "model.layers.15.mlp.down_proj"));
  EXPECT_FALSE(full(layers, "model.layers.16.mlp.down_proj"));
  EXPECT_TRUE(full(R"((?:.*\.)?(q_proj))", "q_proj"));
  EXPECT_TRUE(full(R"((?P<m>.*)_proj)", "gate_proj"));
}

TEST(LinearRegex, SyntaxLikePython) {
  EXPECT_TRUE(full("a{2,3}b?", "aaa"));
  EXPECT_FALSE(full("a{2,3}", "aaaa"));
  EXPECT_TRUE(full("a{2}", "aa"));
  EXPECT_TRUE(full("a{,2}", "aa"));
  EXPECT_TRUE(full("x{a}", "x{a}"));  // not a repeat: a literal brace, as in Python
  EXPECT_TRUE(full("[^a-c]+", "xyz"));
  EXPECT_FALSE(full("[^a-c]+", "xbz"));
  EXPECT_TRUE(full("[]a]", "]"));
  EXPECT_TRUE(full(R"(\d+\.\d*)", "3.14"));
  EXPECT_TRUE(full("a|b|", ""));
  EXPECT_TRUE(full("(a*)*", "aaaa"));
  EXPECT_TRUE(full("a.c", "abc"));
  EXPECT_FALSE(full("a.c", "a\nc"));
  EXPECT_TRUE(full("a+?", "aa"));
  for (const char* bad : {"(", ")", "a**", "*a", "[a-", "a{3,2}", R"(\1)", "(?=a)", "a\\"}) {
    auto re = LinearRegex::compile(bad);
    EXPECT_FALSE(re.ok()) << bad;
    if (!re.ok()) EXPECT_NE(re.message().find("regular expression"), std::string::npos) << re.message();
  }
}

TEST(LinearRegex, CatastrophicPatternsTakeLinearTime) {
  const std::string text(20000, 'a');
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(full("(.*.*)*x$", text));
  EXPECT_FALSE(full("(a|a)*b", text));
  EXPECT_FALSE(full("(a*)*b", text));
  EXPECT_TRUE(full("(a|aa)*", text));
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(s, 2.0);
}

TEST(LinearRegex, SizeLimits) {
  EXPECT_FALSE(LinearRegex::compile("(a{1000}){1000}").ok());
  EXPECT_FALSE(LinearRegex::compile(std::string(200, '(') + "a" + std::string(200, ')')).ok());
  std::string stars = "a";
  for (int i = 0; i < 100000; ++i) stars += "*";
  EXPECT_FALSE(LinearRegex::compile(stars).ok());
}

}  // namespace
}  // namespace hearth
