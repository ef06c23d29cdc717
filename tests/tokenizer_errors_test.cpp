// Bad tokenizer.json input: every malformed or unsupported file is a clear error that names the
// file and the key, never a crash (also on truncated and corrupted files).
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

const char* kWhat = "bad/tokenizer.json";

std::string with_model(const std::string& model, const std::string& rest = "") {
  return "{" + rest + (rest.empty() ? "" : ",") + "\"model\":" + model + "}";
}

const std::string kModel =
    R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2," ":3,"<unk>":4},"merges":["a b"]})";

// Loads `json` and expects an error whose message contains the file name and every fragment.
void expect_error(const std::string& json, std::initializer_list<const char*> fragments) {
  auto r = Tokenizer::load_json(json, kWhat);
  ASSERT_FALSE(r.ok()) << "loaded: " << json;
  EXPECT_NE(r.message().find(kWhat), std::string::npos) << r.message();
  for (const char* f : fragments) EXPECT_NE(r.message().find(f), std::string::npos) << r.message();
}

TEST(TokenizerErrors, MinimalFileLoads) {
  auto r = Tokenizer::load_json(with_model(kModel), kWhat);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->encode("ab a"), (std::vector<int32_t>{2, 3, 0}));
  EXPECT_EQ(r->decode(std::vector<int32_t>{2, 3, 0}), "ab   a");  // no decoder: joined by spaces
}

TEST(TokenizerErrors, MalformedJson) {
  expect_error("{\"model\": {", {"invalid JSON", "line 1"});
  expect_error("", {"invalid JSON"});
  expect_error("[1, 2]", {"top level"});
}

TEST(TokenizerErrors, Model) {
  expect_error("{}", {"model"});
  expect_error(with_model("[]"), {"model"});
  expect_error(with_model(R"({"type":"Unigram","vocab":[["a",0.0]]})"), {"model.type", "Unigram"});
  expect_error(with_model(R"({"type":"WordPiece","vocab":{"a":0}})"), {"model.type", "WordPiece"});
  expect_error(with_model(R"({"type":"BPE","merges":[]})"), {"model.vocab"});
  expect_error(with_model(R"({"type":"BPE","vocab":[],"merges":[]})"), {"model.vocab"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":-1},"merges":[]})"), {"model.vocab[\"a\"]"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":"0"},"merges":[]})"), {"model.vocab[\"a\"]"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":1e30},"merges":[]})"), {"model.vocab[\"a\"]"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0},"merges":{}})"), {"model.merges"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0},"merges":[],"unk_token":"<unk>"})"),
               {"model.unk_token", "<unk>"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0},"merges":[],"dropout":0.1})"),
               {"model.dropout"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0},"merges":[],"byte_fallback":"yes"})"),
               {"model.byte_fallback"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0},"merges":[],"end_of_word_suffix":"</w>"})"),
               {"model.end_of_word_suffix"});
}

TEST(TokenizerErrors, Merges) {
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a c"]})"),
               {"model.merges[0]", "'c'", "not in the vocabulary"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["a b",["x","b"]]})"),
               {"model.merges[1]", "'x'"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0,"b":1},"merges":["a b"]})"),
               {"model.merges[0]", "merged token 'ab'"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":["ab"]})"),
               {"model.merges[0]"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[7]})"),
               {"model.merges[0]"});
  expect_error(with_model(R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2},"merges":[["a"]]})"),
               {"model.merges[0]"});
}

TEST(TokenizerErrors, Components) {
  expect_error(with_model(kModel, R"("pre_tokenizer":{"type":"BertPreTokenizer"})"),
               {"pre_tokenizer.type", "BertPreTokenizer"});
  expect_error(with_model(kModel, R"("pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"ByteLevel"},{"type":"Nope"}]})"),
               {"pre_tokenizer.pretokenizers[1].type", "Nope"});
  expect_error(with_model(kModel, R"("pre_tokenizer":{"type":"Split","pattern":{"Regex":"\\w+|\\d"},"behavior":"Isolated"})"),
               {"pre_tokenizer.pattern.Regex", "\\w+|\\d"});
  expect_error(with_model(kModel, R"("pre_tokenizer":{"type":"Split","pattern":{"String":" "},"behavior":"Sideways"})"),
               {"pre_tokenizer.behavior", "Sideways"});
  expect_error(with_model(kModel, R"("pre_tokenizer":{"type":"Metaspace","replacement":"ab"})"),
               {"pre_tokenizer.replacement"});
  expect_error(with_model(kModel, R"("pre_tokenizer":{"type":"Metaspace","prepend_scheme":"sometimes"})"),
               {"pre_tokenizer.prepend_scheme"});
  expect_error(with_model(kModel, R"("pre_tokenizer":7)"), {"pre_tokenizer"});
  expect_error(with_model(kModel, R"("normalizer":{"type":"Lowercase"})"), {"normalizer.type", "Lowercase"});
  expect_error(with_model(kModel, R"("normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"NFKC"}]})"),
               {"normalizer.normalizers[1].type", "NFKC"});
  expect_error(with_model(kModel, R"("normalizer":{"type":"Replace","pattern":{"Regex":" +"},"content":" "})"),
               {"normalizer.pattern"});
  expect_error(with_model(kModel, R"("decoder":{"type":"WordPiece"})"), {"decoder.type", "WordPiece"});
  expect_error(with_model(kModel, R"("decoder":{"type":"Sequence","decoders":[{"type":"Fuse"},{}]})"),
               {"decoder.decoders[1].type"});
  expect_error(with_model(kModel, R"("decoder":{"type":"Strip","content":"ab","start":1,"stop":0})"),
               {"decoder.content"});
}

TEST(TokenizerErrors, AddedTokens) {
  expect_error(with_model(kModel, R"("added_tokens":{})"), {"added_tokens"});
  expect_error(with_model(kModel, R"("added_tokens":[{"id":5}])"), {"added_tokens[0].content"});
  expect_error(with_model(kModel, R"("added_tokens":[{"id":5,"content":"x"},{"content":"y"}])"),
               {"added_tokens[1].id"});
  expect_error(with_model(kModel, R"("added_tokens":[{"id":5,"content":"x","special":"no"}])"),
               {"added_tokens[0].special"});
}

TEST(TokenizerErrors, MissingFile) {
  auto r = Tokenizer::load_file("/nonexistent/folder/tokenizer.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.message().find("/nonexistent/folder/tokenizer.json"), std::string::npos) << r.message();
  auto d = Tokenizer::load_file(HEARTH_SOURCE_DIR);  // a folder without tokenizer.json
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.message().find("tokenizer.json"), std::string::npos) << d.message();
}

TEST(TokenizerErrors, TruncatedAndCorruptedFilesNeverCrash) {
  std::string good = with_model(
      R"({"type":"BPE","vocab":{"a":0,"b":1,"ab":2,"Ġ":3,"<0x41>":4},"merges":["a b"],"byte_fallback":true})",
      R"("added_tokens":[{"id":5,"content":"<s>","special":true,"lstrip":true}],)"
      R"("normalizer":{"type":"Sequence","normalizers":[{"type":"NFC"},{"type":"Prepend","prepend":"x"}]},)"
      R"("pre_tokenizer":{"type":"Sequence","pretokenizers":[{"type":"Digits"},{"type":"ByteLevel","add_prefix_space":true}]},)"
      R"("decoder":{"type":"Sequence","decoders":[{"type":"ByteLevel"},{"type":"Strip","content":" ","start":1,"stop":0}]})");
  ASSERT_TRUE(Tokenizer::load_json(good, kWhat).ok());
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = Tokenizer::load_json(good.substr(0, n), kWhat);
    EXPECT_FALSE(r.ok());
  }
  std::mt19937 rng(7);
  const char junk[] = "{}[]\",:0-9aZ \\\xFF";
  for (int i = 0; i < 2000; ++i) {
    std::string s = good;
    for (int k = 0; k < 3; ++k) s[rng() % s.size()] = junk[rng() % (sizeof junk - 1)];
    auto r = Tokenizer::load_json(s, kWhat);
    if (r.ok()) {  // still a valid file: it must also work
      std::vector<int32_t> ids = r->encode("ab 12 <s> \xC3\xA9");
      (void)r->decode(ids);
    } else {
      EXPECT_NE(r.message().find(kWhat), std::string::npos) << r.message();
    }
  }
}

}  // namespace
}  // namespace hearth
