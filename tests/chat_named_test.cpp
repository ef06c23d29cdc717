// Built-in chat formats (--chat-template NAME): each renders conversations exactly as the real
// template of its family does (the fixtures' Qwen3 and Llama 3 tokenizer_config.json templates,
// the Llama 2 family format), plus ChatML and the plain transcript written out by hand.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "chat/named_templates.h"

namespace hearth {
namespace {

const std::string kTokDir = std::string(HEARTH_FIXTURES) + "/tokenizers/";

ChatTemplate real(const std::string& family) {
  auto t = ChatTemplate::from_tokenizer_config_file(kTokDir + family + ".tokenizer_config.json");
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.message());
  return std::move(*t);
}

ChatTemplate named(const std::string& name, const Json* config = nullptr) {
  auto t = ChatTemplate::named(name, config);
  EXPECT_TRUE(t.ok()) << (t.ok() ? "" : t.message());
  return std::move(*t);
}

std::string render(const ChatTemplate& t, const std::vector<ChatMessage>& m, const ChatOptions& o = {}) {
  auto r = t.render(m, o);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.message());
  return r.ok() ? *r : std::string("<error>");
}

const std::vector<std::vector<ChatMessage>> kConversations = {
    {{"user", "Hello!"}},
    {{"system", "You are terse."}, {"user", "Q1"}, {"assistant", "A1"}, {"user", "Q2"}},
    {{"user", " padded \n"}, {"assistant", "reply"}, {"user", "again"}},
};

TEST(NamedTemplates, Qwen3RendersLikeTheRealTemplate) {
  const ChatTemplate mine = named("qwen3"), ref = real("qwen3");
  ChatOptions off;
  off.enable_thinking = false;
  ChatOptions no_gen;
  no_gen.add_generation_prompt = false;
  for (const auto& conv : kConversations) {
    EXPECT_EQ(render(mine, conv), render(ref, conv));
    EXPECT_EQ(render(mine, conv, off), render(ref, conv, off));
    EXPECT_EQ(render(mine, conv, no_gen), render(ref, conv, no_gen));
  }
  // Reasoning: dropped from turns before the last user message, kept after it.
  const std::vector<ChatMessage> think = {{"user", "Q1"}, {"assistant", "<think>\nR1\n</think>\n\nA1"}, {"user", "Q2"}};
  EXPECT_EQ(render(mine, think), render(ref, think));
  const std::vector<ChatMessage> last = {{"user", "Q1"}, {"assistant", "<think>\nR\n</think>\n\nA1"}};
  EXPECT_EQ(render(mine, last, no_gen), render(ref, last, no_gen));
}

TEST(NamedTemplates, Llama3RendersLikeTheRealTemplate) {
  const ChatTemplate mine = named("llama3"), ref = real("llama3");
  EXPECT_EQ(mine.bos_token(), "<|begin_of_text|>");
  for (const auto& conv : kConversations) EXPECT_EQ(render(mine, conv), render(ref, conv));
}

TEST(NamedTemplates, Llama2IsTheFamilyFormat) {
  const ChatTemplate mine = named("llama2"), ref = real("llama2");
  EXPECT_EQ(mine.kind(), ChatTemplate::Kind::Llama2);
  for (const auto& conv : kConversations) EXPECT_EQ(render(mine, conv), render(ref, conv));
}

TEST(NamedTemplates, ChatmlAndPlain) {
  EXPECT_EQ(render(named("chatml"), kConversations[1]),
            "<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nQ1<|im_end|>\n"
            "<|im_start|>assistant\nA1<|im_end|>\n<|im_start|>user\nQ2<|im_end|>\n<|im_start|>assistant\n");
  const ChatTemplate plain = named("plain");
  EXPECT_EQ(render(plain, kConversations[1]), "You are terse.\n\nUser: Q1\nAssistant: A1\n\nUser: Q2\nAssistant:");
  // A reply as generated (leading space) renders back exactly, so the next turn extends the cache.
  EXPECT_EQ(render(plain, {{"user", "hi"}, {"assistant", " yes"}, {"user", "ok"}}),
            "User: hi\nAssistant: yes\n\nUser: ok\nAssistant:");
  ASSERT_EQ(plain.stop_strings().size(), 1u);
  EXPECT_EQ(plain.stop_strings()[0], "\nUser:");
}

TEST(NamedTemplates, SpecialTokensComeFromTheTokenizerConfigWhenGiven) {
  auto cfg = parse_json(R"({"bos_token": "<BOS>"})", "test");
  ASSERT_TRUE(cfg.ok());
  EXPECT_EQ(render(named("llama3", &*cfg), {{"user", "x"}}).substr(0, 5), "<BOS>");
}

TEST(NamedTemplates, NameOrFileAndErrors) {
  auto t = ChatTemplate::from_name_or_file("qwen3");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->origin(), "qwen3");
  auto missing = ChatTemplate::from_name_or_file("/nonexistent/template.jinja");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("/nonexistent/template.jinja"), std::string::npos) << missing.message();
  EXPECT_NE(missing.message().find("chatml, llama2, llama3, qwen3, plain"), std::string::npos) << missing.message();
  EXPECT_FALSE(ChatTemplate::named("vicuna").ok());
}

TEST(NamedTemplates, ConfigHasTemplate) {
  auto with = parse_json(R"({"chat_template": "{{ x }}"})", "t");
  auto without = parse_json(R"({"eos_token": "<|endoftext|>"})", "t");
  auto llama2 = parse_json(R"({"tokenizer_class": "LlamaTokenizer", "bos_token": "<s>", "eos_token": "</s>"})", "t");
  EXPECT_TRUE(ChatTemplate::config_has_template(*with, ""));
  EXPECT_FALSE(ChatTemplate::config_has_template(*without, ""));
  EXPECT_TRUE(ChatTemplate::config_has_template(*llama2, ""));
}

}  // namespace
}  // namespace hearth
