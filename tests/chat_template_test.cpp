// Chat template tests. Expected prompts are written out by hand from the templates' semantics
// (Qwen3 and Llama 3 from the fixtures' tokenizer_config.json, Llama 2 by family), plus the
// Jinja subset on its own, loading rules, errors, and the multi-turn prompt delta.
#include "chat/chat_template.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "chat/jinja.h"

namespace hearth {
namespace {

const std::string kTokDir = std::string(HEARTH_FIXTURES) + "/tokenizers/";

ChatTemplate load(const std::string& family) {
  auto t = ChatTemplate::from_tokenizer_config_file(kTokDir + family + ".tokenizer_config.json");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.message());
  return std::move(*t);
}

std::string render(const ChatTemplate& t, const std::vector<ChatMessage>& m, const ChatOptions& o = {}) {
  auto r = t.render(m, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? *r : std::string("<error>");
}

Json parse(const std::string& text) {
  auto j = parse_json(text, "test");
  EXPECT_TRUE(j.ok()) << (j.ok() ? "" : j.message());
  return j.ok() ? *j : Json();
}

// Renders a template source with `vars` given as a JSON object.
std::string jinja(const std::string& src, const std::string& vars = "{}") {
  auto prog = jinja::parse_template(src);
  if (!prog.ok()) return "ERR: " + prog.message();
  jinja::Globals g;
  jinja::add_builtin_globals(g);
  const Json v = parse(vars);
  for (const auto& kv : v.as_object()) g.emplace_back(kv.first, jinja::from_json(kv.second));
  auto out = jinja::render(**prog, g);
  return out.ok() ? *out : "ERR: " + out.message();
}

// ---- Qwen3 (real template from the fixtures) ----

TEST(ChatTemplateQwen3, SingleUserThinkingOnByDefault) {
  auto t = load("qwen3");
  EXPECT_EQ(t.kind(), ChatTemplate::Kind::Jinja);
  EXPECT_EQ(t.eos_token(), "<|im_end|>");
  EXPECT_EQ(render(t, {{"user", "Hello!"}}), "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateQwen3, ThinkingOff) {
  auto t = load("qwen3");
  ChatOptions o;
  o.enable_thinking = false;
  EXPECT_EQ(render(t, {{"user", "Hello!"}}, o),
            "<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n");
}

TEST(ChatTemplateQwen3, SystemAndMultiTurn) {
  auto t = load("qwen3");
  const std::vector<ChatMessage> m = {
      {"system", "You are terse."}, {"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}};
  const std::string want =
      "<|im_start|>system\nYou are terse.<|im_end|>\n"
      "<|im_start|>user\nQ1<|im_end|>\n"
      "<|im_start|>assistant\nA1<|im_end|>\n"
      "<|im_start|>user\nQ2<|im_end|>\n"
      "<|im_start|>assistant\n";
  EXPECT_EQ(render(t, m), want);
  ChatOptions off;
  off.enable_thinking = false;
  EXPECT_EQ(render(t, m, off), want + "<think>\n\n</think>\n\n");
  ChatOptions no_gen;
  no_gen.add_generation_prompt = false;
  EXPECT_EQ(render(t, m, no_gen), want.substr(0, want.size() - std::string("<|im_start|>assistant\n").size()));
}

TEST(ChatTemplateQwen3, ReasoningOfEarlierTurnsIsDropped) {
  auto t = load("qwen3");
  // An earlier assistant turn keeps only the text after </think>.
  EXPECT_EQ(render(t, {{"user", "Q1"}, {"assistant", "<think>\nsome reasoning\n</think>\n\nA1"}, {"user", "Q2"}}),
            "<|im_start|>user\nQ1<|im_end|>\n"
            "<|im_start|>assistant\nA1<|im_end|>\n"
            "<|im_start|>user\nQ2<|im_end|>\n"
            "<|im_start|>assistant\n");
  // The final assistant turn after the last user query keeps a normalized think block.
  ChatOptions no_gen;
  no_gen.add_generation_prompt = false;
  EXPECT_EQ(render(t, {{"user", "Q1"}, {"assistant", "<think>\nR\n</think>\n\nA1"}}, no_gen),
            "<|im_start|>user\nQ1<|im_end|>\n"
            "<|im_start|>assistant\n<think>\nR\n</think>\n\nA1<|im_end|>\n");
}

TEST(ChatTemplateQwen3, ToolCallsAndToolsThroughJsonMessages) {
  auto t = load("qwen3");
  Json msgs = parse(R"([
    {"role": "user", "content": "call"},
    {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "get", "arguments": {"x": 1}}}]},
    {"role": "tool", "content": "42"}])");
  auto r = t.render_json(msgs);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(*r,
            "<|im_start|>user\ncall<|im_end|>\n"
            "<|im_start|>assistant\n<tool_call>\n{\"name\": \"get\", \"arguments\": {\"x\": 1}}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\n<tool_response>\n42\n</tool_response><|im_end|>\n"
            "<|im_start|>assistant\n");
  ChatOptions o;
  o.variables.emplace_back("tools", parse(R"([{"type": "function", "function": {"name": "get"}}])"));
  auto r2 = t.render({{"user", "hi"}}, o);
  ASSERT_TRUE(r2.ok()) << r2.message();
  EXPECT_EQ(*r2,
            "<|im_start|>system\n# Tools\n\nYou may call one or more functions to assist with the user query.\n\n"
            "You are provided with function signatures within <tools></tools> XML tags:\n<tools>\n"
            "{\"type\": \"function\", \"function\": {\"name\": \"get\"}}\n</tools>\n\n"
            "For each function call, return a json object with function name and arguments within "
            "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
            "<args-json-object>}\n</tool_call><|im_end|>\n"
            "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n");
}

// ---- Llama 3 (real template from the fixtures: the original Llama 3 one, no date block) ----

TEST(ChatTemplateLlama3, SystemUserAndGenerationPrompt) {
  auto t = load("llama3");
  EXPECT_EQ(t.bos_token(), "<|begin_of_text|>");
  // Contents are trimmed; BOS only before the first message.
  EXPECT_EQ(render(t, {{"system", "You are a bot."}, {"user", " Hi there \n"}}),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nYou are a bot.<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(render(t, {{"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}}),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ1<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\nA1<|eot_id|>"
            "<|start_header_id|>user<|end_header_id|>\n\nQ2<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  // This template writes the assistant header unconditionally (it ignores
  // add_generation_prompt), and so does HF.
  ChatOptions no_gen;
  no_gen.add_generation_prompt = false;
  EXPECT_EQ(render(t, {{"user", "Q"}}, no_gen),
            "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nQ<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

TEST(ChatTemplateLlama3, DateBlockLikeLlama31) {
  // Llama 3.1/3.2 templates default date_string through strftime_now; the fixture's template
  // has no such block, so this uses a small template in the same style.
  const std::string src =
      "{{- bos_token }}{%- if not date_string is defined %}{%- if strftime_now is defined %}"
      "{%- set date_string = strftime_now(\"%d %b %Y\") %}{%- else %}{%- set date_string = \"26 Jul 2024\" %}"
      "{%- endif %}{%- endif %}"
      "{{- \"<|start_header_id|>system<|end_header_id|>\\n\\nCutting Knowledge Date: December 2023\\n\" }}"
      "{{- \"Today Date: \" + date_string + \"\\n\\n<|eot_id|>\" }}";
  Json config = parse(R"({"bos_token": {"content": "<|begin_of_text|>", "lstrip": false}})");
  auto t = ChatTemplate::from_jinja(src, &config);
  ASSERT_TRUE(t.ok()) << t.message();
  ChatOptions o;
  o.variables.emplace_back("date_string", Json::string("01 Jan 2025"));
  EXPECT_EQ(render(*t, {{"user", "x"}}, o),
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
            "Cutting Knowledge Date: December 2023\nToday Date: 01 Jan 2025\n\n<|eot_id|>");
  // Without date_string the template asks strftime_now for today: "DD Mon YYYY".
  const std::string today = render(*t, {{"user", "x"}});
  const size_t at = today.find("Today Date: ");
  ASSERT_NE(at, std::string::npos);
  const std::string date = today.substr(at + 12, 11);
  EXPECT_TRUE(std::isdigit(static_cast<unsigned char>(date[0])) && date[2] == ' ' && date[6] == ' ') << date;
}

// ---- Llama 2: no template in the files, recognized by family ----

TEST(ChatTemplateLlama2, BuiltInFormat) {
  auto t = load("llama2");
  EXPECT_EQ(t.kind(), ChatTemplate::Kind::Llama2);
  EXPECT_EQ(render(t, {{"user", "Hello"}}), "<s>[INST] Hello [/INST]");
  EXPECT_EQ(render(t, {{"system", "Be brief."}, {"user", "Q1 "}, {"assistant", " A1"}, {"user", "Q2"}}),
            "<s>[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nQ1 [/INST] A1 </s><s>[INST] Q2 [/INST]");
  auto bad = t.render({{"user", "a"}, {"user", "b"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("alternate"), std::string::npos) << bad.message();
}

// ---- Loading rules and errors ----

TEST(ChatTemplateLoading, UnknownFamilyWithoutTemplateIsAnError) {
  auto t = ChatTemplate::from_tokenizer_config(parse(R"({"tokenizer_class": "GPT2Tokenizer", "eos_token": "x"})"), "");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.message().find("no chat_template"), std::string::npos) << t.message();
}

TEST(ChatTemplateLoading, UnsupportedConstructsNameThemselves) {
  auto a = ChatTemplate::from_jinja("{% extends 'base.html' %}");
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.message().find("'{% extends %}'"), std::string::npos) << a.message();
  auto b = ChatTemplate::from_jinja("hi {% include 'x' %}");
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.message().find("include"), std::string::npos) << b.message();
  auto c = ChatTemplate::from_jinja("{% for m in messages recursive %}{% endfor %}");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("recursive"), std::string::npos) << c.message();
  // Unknown filters, tests and missing end tags.
  EXPECT_NE(jinja("{{ 'x'|frobnicate }}").find("unsupported Jinja filter 'frobnicate'"), std::string::npos);
  EXPECT_NE(jinja("{{ 1 is prime }}").find("unsupported Jinja test 'prime'"), std::string::npos);
  EXPECT_NE(jinja("{{ [1].append(2) }}").find("unsupported method '.append()'"), std::string::npos);
  EXPECT_NE(jinja("{% if true %}x").find("missing {% endif %}"), std::string::npos);
  EXPECT_NE(jinja("{{ x").find("unclosed"), std::string::npos);
  EXPECT_NE(jinja("a\n{{ 1 + }}").find("line 2"), std::string::npos);
}

TEST(ChatTemplateLoading, RaiseExceptionReachesTheCaller) {
  auto t = ChatTemplate::from_jinja("{% if messages[0].role != 'user' %}{{ raise_exception('first must be user') }}{% endif %}");
  ASSERT_TRUE(t.ok());
  auto r = t->render({{"assistant", "x"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("first must be user"), std::string::npos) << r.message();
}

TEST(ChatTemplateLoading, NamedTemplatesAndJinjaFileBeside) {
  Json config = parse(R"({"chat_template": [{"name": "default", "template": "D{{ messages|length }}"},
                                            {"name": "tool_use", "template": "T{{ tools if tools is none else tools|length }}"}]})");
  auto t = ChatTemplate::from_tokenizer_config(config, "");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(render(*t, {{"user", "a"}}), "D1");
  ChatOptions tools;
  tools.variables.emplace_back("tools", parse("[1, 2]"));
  EXPECT_EQ(render(*t, {{"user", "a"}}, tools), "T2");
  ChatOptions named;
  named.template_name = "tool_use";
  EXPECT_EQ(render(*t, {{"user", "a"}}, named), "TNone");  // tools defaults to None
  named.template_name = "nope";
  EXPECT_FALSE(t->render({{"user", "a"}}, named).ok());

  // chat_template.jinja next to a tokenizer_config.json without chat_template.
  const std::string dir = testing::TempDir();
  const std::string cfg_path = dir + "/hearth_ct_tokenizer_config.json";
  const std::string jinja_path = dir + "/chat_template.jinja";
  FILE* f = std::fopen(cfg_path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs(R"({"eos_token": "<e>"})", f);
  std::fclose(f);
  f = std::fopen(jinja_path.c_str(), "wb");
  ASSERT_NE(f, nullptr);
  std::fputs("{% for m in messages %}[{{ m.role }}:{{ m.content }}]{% endfor %}{{ eos_token }}\n", f);
  std::fclose(f);
  auto fromfile = ChatTemplate::from_tokenizer_config_file(cfg_path);
  std::remove(cfg_path.c_str());
  std::remove(jinja_path.c_str());
  ASSERT_TRUE(fromfile.ok()) << fromfile.message();
  EXPECT_EQ(render(*fromfile, {{"user", "a"}, {"assistant", "b"}}), "[user:a][assistant:b]<e>");
}

// ---- Multi-turn with a KV cache ----

TEST(ChatTemplateMultiTurn, AppendOnlyWhenHistoryRendersTheSame) {
  auto t = load("llama3");
  std::vector<ChatMessage> conv = {{"user", "Q1"}};
  const std::string prompt1 = render(t, conv);
  const std::string cached = prompt1 + "A1";  // the reply as generated (EOS not fed)
  conv.push_back({"assistant", "A1"});
  conv.push_back({"user", "Q2"});
  auto d = t.next_turn(conv, cached);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->keep_chars, cached.size());
  EXPECT_EQ(d->append,
            "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nQ2<|eot_id|>"
            "<|start_header_id|>assistant<|end_header_id|>\n\n");
  EXPECT_EQ(cached + d->append, d->prompt);
}

TEST(ChatTemplateMultiTurn, Qwen3ThinkingReplyRollsBack) {
  auto t = load("qwen3");
  std::vector<ChatMessage> conv = {{"user", "Q1"}};
  const std::string prompt1 = render(t, conv);
  // Without reasoning in the reply, the cache is reused whole.
  {
    auto c = conv;
    c.push_back({"assistant", "A1"});
    c.push_back({"user", "Q2"});
    auto d = t.next_turn(c, prompt1 + "A1");
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(d->keep_chars, prompt1.size() + 2);
    EXPECT_EQ(d->append, "<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n");
  }
  // The template drops the think block of the earlier reply: keep only up to the reply.
  const std::string reply = "<think>\nhmm\n</think>\n\nA1";
  conv.push_back({"assistant", reply});
  conv.push_back({"user", "Q2"});
  auto d = t.next_turn(conv, prompt1 + reply);
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->keep_chars, prompt1.size());
  EXPECT_EQ(d->append, "A1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n");
}

TEST(ChatTemplateMultiTurn, PromptDeltaKeepsWholeCharacters) {
  // "é" = C3 A9 and "è" = C3 A8 share their first byte; the delta must not split it.
  auto d = prompt_delta("a\xC3\xA9", "a\xC3\xA8!");
  EXPECT_EQ(d.keep_chars, 1u);
  EXPECT_EQ(d.append, "\xC3\xA8!");
  auto same = prompt_delta("abc", "abcdef");
  EXPECT_EQ(same.keep_chars, 3u);
  EXPECT_EQ(same.append, "def");
}

// ---- The Jinja subset on its own (expected values from Jinja2 semantics) ----

TEST(Jinja, WhitespaceControlLikeTransformers) {
  // trim_blocks drops the newline after a block tag; lstrip_blocks drops the indentation before it.
  EXPECT_EQ(jinja("  {% if true %}\n  x\n  {% endif %}\n"), "  x\n");
  EXPECT_EQ(jinja("a  {%- if true -%}  b  {%- endif -%}  c"), "abc");
  EXPECT_EQ(jinja("a\n  {%+ if true %}b{% endif %}"), "a\n  b");
  EXPECT_EQ(jinja("{{ 'x' }}\n{{ 'y' }}\n"), "x\ny");  // variables keep their newline; one trailing newline dropped
  EXPECT_EQ(jinja("{# note #}\nA{#- x -#} B"), "AB");
  EXPECT_EQ(jinja("{% raw %}{{ not }}{% endraw %}"), "{{ not }}");
  EXPECT_EQ(jinja("a\r\nb"), "a\nb");
}

TEST(Jinja, LoopsScopesAndNamespaces) {
  EXPECT_EQ(jinja("{% for x in ['a','b','c'] %}{{ loop.index }}{{ x }}{% if not loop.last %},{% endif %}{% endfor %}"),
            "1a,2b,3c");
  EXPECT_EQ(jinja("{% for x in [1,2,3] if x != 2 %}{{ loop.index0 }}/{{ loop.length }}{% else %}none{% endfor %}"),
            "0/21/2");
  EXPECT_EQ(jinja("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
  // A set inside a loop does not leak out; a namespace does.
  EXPECT_EQ(jinja("{% set v = 0 %}{% set ns = namespace(v=0) %}{% for i in [1,2] %}{% set v = i %}"
                  "{% set ns.v = ns.v + i %}{% endfor %}{{ v }} {{ ns.v }}"),
            "0 3");
  EXPECT_EQ(jinja("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }};{% endfor %}"), "a=1;b=2;");
  EXPECT_EQ(jinja("{% for i in range(6) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 4 %}{% break %}"
                  "{% endif %}{{ i }}{% endfor %}"),
            "023");
  EXPECT_EQ(jinja("{% macro tag(name, v='d') %}<{{ name }}={{ v }}>{% endmacro %}{{ tag('a') }}{{ tag('b', v=2) }}"),
            "<a=d><b=2>");
  EXPECT_EQ(jinja("{% set x %}in{{ 1 }}{% endset %}[{{ x }}]{% filter upper %}up{% endfilter %}"), "[in1]UP");
}

TEST(Jinja, ExpressionsFollowPython) {
  EXPECT_EQ(jinja("{{ messages|length - 1 }}", R"({"messages": [1, 2, 3]})"), "2");
  EXPECT_EQ(jinja("{{ 7 // 2 }} {{ -7 % 3 }} {{ 1 / 4 }} {{ 2 ** 10 }} {{ 'ab' * 2 }} {{ 1 ~ none }}"),
            "3 2 0.25 1024 abab 1None");
  EXPECT_EQ(jinja("{{ [1, 'a', none, true, 2.0] }} {{ {'k': 'v'} }} {{ (1,) }}"),
            "[1, 'a', None, True, 2.0] {'k': 'v'} (1,)");
  EXPECT_EQ(jinja("{{ 0.1 + 0.2 }} {{ 1e22 }} {{ 1e-5 }} {{ 3.0 }}"), "0.30000000000000004 1e+22 1e-05 3.0");
  EXPECT_EQ(jinja("{{ 'abcdef'[::-1] }} {{ 'héllo'[1:3] }} {{ [1, 2, 3][-1] }} {{ [1, 2, 3][1:] }}"),
            "fedcba él 3 [2, 3]");
  EXPECT_EQ(jinja("{{ 'a' if false }}|{{ 'x' if 0 else 'y' }} {{ none or 'd' }} {{ 1 < 2 < 3 }} {{ 'b' not in 'abc' }}"),
            "|y d True False");
  EXPECT_EQ(jinja("{{ u is defined }} {{ u|default('dv') }} {{ u }}|"), "False dv |");
  EXPECT_NE(jinja("{{ u.x }}").find("'u' is undefined"), std::string::npos);
  EXPECT_NE(jinja("{{ 'a' + 1 }}").find("can only concatenate str"), std::string::npos);
}

TEST(Jinja, FiltersAndMethods) {
  EXPECT_EQ(jinja("{{ x|tojson }}", R"({"x": {"b": [1, 2.5, null], "a": "é\"<"}})"),
            "{\"b\": [1, 2.5, null], \"a\": \"é\\\"<\"}");
  EXPECT_EQ(jinja("{{ x|tojson(indent=2) }}", R"({"x": {"a": [1]}})"), "{\n  \"a\": [\n    1\n  ]\n}");
  EXPECT_EQ(jinja("{{ '  a b  '|trim }}|{{ 'x,y,,z'.split(',') }}|{{ ' a  b '.split() }}|{{ 'xxhixx'.strip('x') }}"),
            "a b|['x', 'y', '', 'z']|['a', 'b']|hi");
  EXPECT_EQ(jinja("{{ 'Hello'.startswith('He') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'a-b'.replace('-', '+') }}"),
            "True True a+b");
  EXPECT_EQ(jinja("{{ m|selectattr('role', 'equalto', 'user')|map(attribute='c')|join(',') }}",
                  R"({"m": [{"role": "user", "c": "1"}, {"role": "x", "c": "2"}, {"role": "user", "c": "3"}]})"),
            "1,3");
  EXPECT_EQ(jinja("{{ [3, 1, 2]|sort }} {{ ['b', 'A']|sort }} {{ [1, 1, 2]|unique|list }} {{ [1, 2]|sum }}"),
            "[1, 2, 3] ['A', 'b'] [1, 2] 3");
  EXPECT_EQ(jinja("{{ 'a\\nb'|indent(2) }}|{{ 2.5|round }}|{{ '42'|int + 1 }}|{{ 'x'|upper }}{{ 'Ab C'|lower }}"),
            "a\n  b|2.0|43|Xab c");
  EXPECT_EQ(jinja("{{ d.get('a') }} {{ d.get('z', 5) }} {{ d.keys()|list }} {{ d['a'] }} {{ d.a }}", R"({"d": {"a": 1}})"),
            "1 5 ['a'] 1 1");
  EXPECT_EQ(jinja("{{ '%s=%d'|format('n', 3) }} {{ '%s!' % 'hi' }}"), "n=3 hi!");
}

}  // namespace
}  // namespace hearth
