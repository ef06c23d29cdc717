// Tokenizers carried in GGUF metadata: the Qwen3 and Llama 3 (byte-level "gpt2") and Llama 2
// style (sentencepiece "llama", merges rebuilt from scores) tokenizer.json fixtures written as
// tokenizer.ggml.* keys and read back give Hugging Face's ids and texts for the reference
// strings; the chat template and special tokens come along; bad tokenizer metadata is an error.
#include <fstream>

#include "chat/chat_template.h"
#include "formats/gguf_writer.h"
#include "test_util.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

using test::fixture;

// The GGUF file (no tensors) for a fixture's tokenizer.json and tokenizer_config.json.
std::string gguf_for(const std::string& name) {
  const std::string tok_path = fixture("tokenizers/" + name + ".tokenizer.json");
  auto tok = read_json_file(tok_path);
  EXPECT_TRUE(tok.ok()) << tok.message();
  auto kv = gguf_tokenizer_metadata(*tok, tok_path);
  EXPECT_TRUE(kv.ok()) << kv.message();
  GgufWriter w;
  w.add("general.architecture", GgufValue::of_string("llama"));
  for (auto& [k, v] : *kv) w.add(k, v);
  auto cfg = read_json_file(fixture("tokenizers/" + name + ".tokenizer_config.json"));
  EXPECT_TRUE(cfg.ok());
  if (const Json* t = cfg->find_non_null("chat_template"); t && t->is_string()) w.add("tokenizer.chat_template", GgufValue::of_string(t->as_string()));
  const std::string path = test::temp_dir("gguf_tok") + "/" + name + ".gguf";
  const auto bytes = w.serialize({});
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  return path;
}

class GgufTokenizer : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTokenizer, EncodesAndDecodesLikeHuggingFace) {
  const std::string name = GetParam();
  auto ref = read_json_file(fixture("tokenizers/reference_public.json"));
  ASSERT_TRUE(ref.ok());
  const std::string path = gguf_for(name);
  auto g = GgufFile::open(path);
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(*g->get_string("tokenizer.ggml.model"), name == "llama2" ? "llama" : "gpt2");
  if (name != "llama2") {
    EXPECT_EQ(*g->get_string("tokenizer.ggml.pre"), name == "qwen3" ? "qwen2" : "llama-bpe");
  }
  auto tok = Tokenizer::load_for_model(path);
  ASSERT_TRUE(tok.ok()) << tok.message();
  auto orig = Tokenizer::load_file(fixture("tokenizers/" + name + ".tokenizer.json"));
  ASSERT_TRUE(orig.ok());
  EXPECT_EQ(tok->vocab_size(), orig->vocab_size());
  const Json* cases = ref->find(name);
  ASSERT_NE(cases, nullptr);
  ASSERT_GE(cases->size(), 5u);
  for (const auto& c : cases->as_array()) {
    const std::string& text = c.find("text")->as_string();
    const std::vector<int32_t> ids = test::ids_of(*c.find("ids"));
    EXPECT_EQ(tok->encode(text), ids) << name << ": " << text;
    EXPECT_EQ(tok->decode(ids), c.find("decoded")->as_string()) << name << ": " << text;
  }
  for (int32_t id = 0; id < orig->vocab_size(); id += 97) {
    EXPECT_EQ(tok->is_special(id), orig->is_special(id)) << id;
    EXPECT_EQ(tok->token_text(id), orig->token_text(id)) << id;
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, GgufTokenizer, ::testing::Values("qwen3", "llama3", "llama2"));

TEST(GgufTokenizerTemplate, ChatTemplateAndSpecialTokensComeAlong) {
  const std::string path = gguf_for("qwen3");
  auto a = ChatTemplate::for_model(path);
  auto b = ChatTemplate::from_tokenizer_config_file(fixture("tokenizers/qwen3.tokenizer_config.json"));
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE(b.ok()) << b.message();
  const std::vector<ChatMessage> msgs = {{"system", "Be brief."}, {"user", "Hi <there>"}, {"assistant", "Hello."}, {"user", "2+2?"}};
  EXPECT_EQ(*a->render(msgs), *b->render(msgs));
}

TEST(GgufTokenizerTemplate, NoTokenizerMetadataGivesAnEmptyTokenizer) {
  GgufWriter w;
  w.add("general.architecture", GgufValue::of_string("qwen2"));
  const std::string path = test::temp_dir("gguf_tok") + "/none.gguf";
  const auto bytes = w.serialize({});
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  auto t = Tokenizer::load_for_model(path);
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_FALSE(t->loaded());
}

TEST(GgufTokenizerTemplate, BadMetadataIsAnError) {
  auto check = [](const std::function<void(GgufWriter&)>& fill, const std::string& needle) {
    GgufWriter w;
    fill(w);
    const std::string path = test::temp_dir("gguf_tok") + "/bad.gguf";
    const auto bytes = w.serialize({});
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
    auto t = Tokenizer::load_for_model(path);
    ASSERT_FALSE(t.ok()) << needle;
    EXPECT_NE(t.message().find(needle), std::string::npos) << t.message();
    EXPECT_NE(t.message().find(path), std::string::npos) << t.message();
  };
  check([](GgufWriter& w) { w.add("tokenizer.ggml.tokens", GgufValue::string_array({"a"})); }, "tokenizer.ggml.model is missing");
  check([](GgufWriter& w) {
    w.add("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
    w.add("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b", "ab"}));
    w.add("tokenizer.ggml.merges", GgufValue::string_array({"a b"}));
    w.add("tokenizer.ggml.pre", GgufValue::of_string("falcon"));
  }, "tokenizer.ggml.pre \"falcon\" is not supported");
  check([](GgufWriter& w) {
    w.add("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
    w.add("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b"}));
    w.add("tokenizer.ggml.merges", GgufValue::string_array({"a c"}));
  }, "is not in the vocabulary");
  check([](GgufWriter& w) {
    w.add("tokenizer.ggml.model", GgufValue::of_string("llama"));
    w.add("tokenizer.ggml.tokens", GgufValue::string_array({"a", "b"}));
    w.add("tokenizer.ggml.scores", GgufValue::float_array(GgufType::F32, {0.0}));
  }, "scores has 1 entries for 2 tokens");
  check([](GgufWriter& w) {
    w.add("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
    w.add("tokenizer.ggml.tokens", GgufValue::int_array(GgufType::I32, {1, 2}));
  }, "tokenizer.ggml.tokens must be an array of strings");
}

}  // namespace
}  // namespace hearth
