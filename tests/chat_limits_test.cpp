// A chat template is code from a downloaded file: hostile or broken ones must end in an error
// naming the line, quickly, never a hang, a huge allocation, a crash or signed overflow.
#include <gtest/gtest.h>

#include <chrono>
#include <string>

#include "chat/chat_template.h"
#include "chat/jinja.h"

namespace hearth {
namespace {

// Renders `src`; returns the output or "ERR: <message>".
std::string run(const std::string& src, const jinja::RenderLimits& limits = {}) {
  auto prog = jinja::parse_template(src);
  if (!prog.ok()) return "ERR: " + prog.message();
  jinja::Globals g;
  jinja::add_builtin_globals(g);
  auto out = jinja::render(**prog, g, limits);
  return out.ok() ? *out : "ERR: " + out.message();
}

// The render fails with a message containing `needle`, within a few seconds.
void expect_error(const std::string& src, const std::string& needle) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string out = run(src);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(out.rfind("ERR: chat template line", 0), 0u) << src << " -> " << out.substr(0, 200);
  EXPECT_NE(out.find(needle), std::string::npos) << src << " -> " << out.substr(0, 200);
  EXPECT_LT(s, 10.0) << src;
}

TEST(ChatTemplateLimits, HugeRepetitionIsRefusedBeforeAllocating) {
  expect_error("{{ 'abcd' * 4611686018427387904 }}", "integer overflow");     // 4 * 2^62 overflows
  expect_error("{{ 'abcd' * 1152921504606846976 }}", "exceed the limit");     // 2^60: 4 EiB
  expect_error("{{ [1, 2] * 4611686018427387904 }}", "integer overflow");
  expect_error("{{ ([1] * 1000000) * 1000 }}", "limit");
  EXPECT_EQ(run("{{ 'ab' * 3 }}|{{ [1] * 2 }}|{{ 'x' * -1 }}"), "ababab|[1, 1]|");
}

TEST(ChatTemplateLimits, IntegerArithmeticIsChecked) {
  expect_error("{{ 9223372036854775807 + 1 }}", "integer overflow");
  expect_error("{{ -9223372036854775807 - 2 }}", "integer overflow");
  expect_error("{{ 4294967296 * 4294967296 }}", "integer overflow");
  expect_error("{{ 2 ** 64 }}", "integer overflow");
  expect_error("{{ (-9223372036854775807 - 1) // -1 }}", "integer overflow");
  expect_error("{{ -(-9223372036854775807 - 1) }}", "integer overflow");
  expect_error("{{ [9223372036854775807, 1] | sum }}", "integer overflow");
  expect_error("{{ 99999999999999999999 }}", "too large");
  // In range: exact, as Python.
  EXPECT_EQ(run("{{ 2 ** 62 }} {{ 3 ** 39 }} {{ (-2) ** 63 }} {{ 7 // -2 }} {{ -7 % 3 }}"),
            "4611686018427387904 4052555153018976267 -9223372036854775808 -4 2");
}

TEST(ChatTemplateLimits, NestedLoopsStopAtTheStepLimit) {
  expect_error("{% for i in range(1000000) %}{% for j in range(1000000) %}{% endfor %}{% endfor %}", "steps");
  expect_error("{{ range(10000000000) | length }}", "limit");
  expect_error("{% set ns = namespace(s='x') %}{% for i in range(100) %}{% set ns.s = ns.s + ns.s %}{% endfor %}",
               "limit");
  expect_error("{{ range(1000000) | unique | length }}", "steps");  // quadratic filter, counted
}

TEST(ChatTemplateLimits, OutputAndStringSizesAreBounded) {
  jinja::RenderLimits small;
  small.max_output_bytes = 1000;
  EXPECT_NE(run("{% for i in range(1000) %}xx{% endfor %}", small).find("output exceeds"), std::string::npos);
  expect_error("{{ 'x' | center(4611686018427387904) }}", "exceed the limit");
  expect_error("{{ 'x' | indent(4611686018427387904) }}", "exceed the limit");
  expect_error("{{ ('x' * 10000000) | replace('x', 'yyyyyyyyyy') }}", "exceed the limit");
  expect_error("{{ '%999999999s' | format('x') }}", "larger than 999");
  expect_error("{{ 1e300 | int }}{{ '%d' % 1e300 }}", "too large");
}

TEST(ChatTemplateLimits, ValuesCannotNestWithoutBound) {
  // A namespace holding namespaces (a chain or a cycle) is refused; lists nest at most 600 deep.
  expect_error("{% set ns = namespace() %}{% set ns.me = ns %}", "namespace cannot hold");
  expect_error("{% set ns = namespace(l=[]) %}{% for i in range(100000) %}{% set ns.l = [ns.l] %}{% endfor %}",
               "nested more than");
  EXPECT_EQ(run("{% set ns = namespace(l=[]) %}{% for i in range(3) %}{% set ns.l = ns.l + [i] %}{% endfor %}{{ ns.l }}"),
            "[0, 1, 2]");
}

TEST(ChatTemplateLimits, LongOperatorChainsAreAParseError) {
  std::string src = "{{ 1";
  for (int i = 0; i < 100000; ++i) src += " + 1";
  src += " }}";
  const std::string out = run(src);
  EXPECT_NE(out.find("too long"), std::string::npos) << out.substr(0, 200);
  std::string filters = "{{ 'x'";
  for (int i = 0; i < 100000; ++i) filters += "|trim";
  EXPECT_NE(run(filters + " }}").find("too long"), std::string::npos);
}

TEST(ChatTemplateLimits, RealTemplatesOverLongConversationsStayInside) {
  // Qwen3's real template over 2,000 turns of 1 KB each renders without touching a limit.
  auto t = ChatTemplate::from_tokenizer_config_file(std::string(HEARTH_FIXTURES) + "/tokenizers/qwen3.tokenizer_config.json");
  ASSERT_TRUE(t.ok()) << t.message();
  std::vector<ChatMessage> conv;
  for (int i = 0; i < 1000; ++i) {
    conv.push_back({"user", std::string(1000, 'q')});
    conv.push_back({"assistant", "<think>\nr\n</think>\n\n" + std::string(1000, 'a')});
  }
  conv.push_back({"user", "last"});
  auto r = t->render(conv);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_GT(r->size(), 2000000u);
}

}  // namespace
}  // namespace hearth
