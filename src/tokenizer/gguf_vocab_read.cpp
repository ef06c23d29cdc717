// GGUF tokenizer metadata -> tokenizer.json (see gguf_vocab.h).
#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "tokenizer/gguf_vocab.h"
#include "tokenizer/gguf_vocab_regex.h"
#include "tokenizer/unicode.h"

namespace hearth {

namespace {

Json str(std::string s) { return Json::string(std::move(s)); }
Json integer(int64_t v) { return Json::number(double(v), true); }
Json obj(Json::Object o) { return Json::object(std::move(o)); }

Json byte_level(bool use_regex) {
  return obj({{"type", str("ByteLevel")}, {"add_prefix_space", Json::boolean(false)},
              {"trim_offsets", Json::boolean(false)}, {"use_regex", Json::boolean(use_regex)}});
}

// The pre-tokenizer (and normalizer) that tokenizer.ggml.pre names.
Status gpt2_pipeline(const GgufFile& g, const std::string& pre, Json::Object& root, bool* ignore_merges) {
  auto split_then_bytes = [](const char* regex) {
    Json split = obj({{"type", str("Split")}, {"pattern", obj({{"Regex", str(regex)}})}, {"behavior", str("Isolated")},
                      {"invert", Json::boolean(false)}});
    return obj({{"type", str("Sequence")}, {"pretokenizers", Json::array({split, byte_level(false)})}});
  };
  if (pre == "qwen2") {
    root.emplace_back("normalizer", obj({{"type", str("NFC")}}));
    root.emplace_back("pre_tokenizer", split_then_bytes(kQwen2Regex));
  } else if (pre == "llama-bpe" || pre == "llama3") {
    root.emplace_back("pre_tokenizer", split_then_bytes(kLlama3Regex));
    *ignore_merges = true;
  } else if (pre == "gpt-2" || pre == "gpt2" || pre == "default") {
    root.emplace_back("pre_tokenizer", byte_level(true));
  } else {
    return err(g.path(), ": tokenizer.ggml.pre \"", pre, "\" is not supported (expected qwen2, llama-bpe, gpt-2 or default)");
  }
  root.emplace_back("decoder", byte_level(true));
  return {};
}

// Merges of a sentencepiece vocabulary from its scores: every split of a normal token into two
// vocabulary tokens, ranked by the token's score (highest first), then by the ids of the halves.
// Tokens longer than kMaxMergeToken bytes (none in real vocabularies) get no merges, which keeps
// a hostile file from asking for quadratic work.
constexpr size_t kMaxMergeToken = 1024;
Json::Array merges_from_scores(const std::vector<std::string>& tokens, const std::vector<double>& scores,
                               const std::vector<int64_t>& types) {
  std::unordered_map<std::string_view, int64_t> id;
  for (size_t i = 0; i < tokens.size(); ++i) id.emplace(tokens[i], int64_t(i));
  struct M {
    double score;
    int64_t token, left, right;
  };
  std::vector<M> ms;
  for (size_t t = 0; t < tokens.size(); ++t) {
    if ((!types.empty() && types[t] != kTokenNormal) || tokens[t].size() > kMaxMergeToken) continue;
    const std::string_view s = tokens[t];
    for (size_t k = 0; k < s.size();) {
      const size_t n = unicode::valid_sequence_length(s, k);
      k += n ? n : 1;
      if (k >= s.size()) break;
      auto l = id.find(s.substr(0, k)), r = id.find(s.substr(k));
      if (l != id.end() && r != id.end()) ms.push_back({scores[t], int64_t(t), l->second, r->second});
    }
  }
  std::stable_sort(ms.begin(), ms.end(), [](const M& a, const M& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.token != b.token) return a.token < b.token;
    return a.left != b.left ? a.left < b.left : a.right < b.right;
  });
  Json::Array out;
  out.reserve(ms.size());
  for (const M& m : ms) out.push_back(Json::array({str(tokens[size_t(m.left)]), str(tokens[size_t(m.right)])}));
  return out;
}

Status spm_pipeline(const GgufFile& g, Json::Object& root) {
  HEARTH_ASSIGN(bool prefix, g.get_bool("tokenizer.ggml.add_space_prefix", true));
  const std::string meta = "\xE2\x96\x81";
  Json replace = obj({{"type", str("Replace")}, {"pattern", obj({{"String", str(" ")}})}, {"content", str(meta)}});
  Json::Array norms;
  if (prefix) norms.push_back(obj({{"type", str("Prepend")}, {"prepend", str(meta)}}));
  norms.push_back(replace);
  root.emplace_back("normalizer", obj({{"type", str("Sequence")}, {"normalizers", Json::array(std::move(norms))}}));
  Json::Array decs = {obj({{"type", str("Replace")}, {"pattern", obj({{"String", str(meta)}})}, {"content", str(" ")}}),
                      obj({{"type", str("ByteFallback")}}), obj({{"type", str("Fuse")}})};
  if (prefix) decs.push_back(obj({{"type", str("Strip")}, {"content", str(" ")}, {"start", integer(1)}, {"stop", integer(0)}}));
  root.emplace_back("decoder", obj({{"type", str("Sequence")}, {"decoders", Json::array(std::move(decs))}}));
  return {};
}

}  // namespace

Result<Json> tokenizer_json_from_gguf(const GgufFile& g) {
  HEARTH_ASSIGN(std::string kind, g.get_string("tokenizer.ggml.model"));
  if (kind != "gpt2" && kind != "llama") return err(g.path(), ": tokenizer.ggml.model \"", kind, "\" is not supported (expected gpt2 or llama)");
  HEARTH_ASSIGN(const std::vector<std::string>* tokens, g.get_strings("tokenizer.ggml.tokens"));
  std::vector<int64_t> types;
  if (g.find("tokenizer.ggml.token_type")) {
    HEARTH_ASSIGN(const std::vector<int64_t>* t, g.get_ints("tokenizer.ggml.token_type"));
    if (t->size() != tokens->size()) return err(g.path(), ": tokenizer.ggml.token_type has ", t->size(), " entries for ", tokens->size(), " tokens");
    types = *t;
  }
  Json::Object root;
  Json::Object model = {{"type", str("BPE")}, {"dropout", Json()}};
  bool ignore_merges = false;
  if (kind == "gpt2") {
    HEARTH_ASSIGN(std::string pre, g.get_string("tokenizer.ggml.pre", "default"));
    HEARTH_CHECK(gpt2_pipeline(g, pre, root, &ignore_merges));
    HEARTH_ASSIGN(const std::vector<std::string>* merges, g.get_strings("tokenizer.ggml.merges"));
    Json::Array m;
    m.reserve(merges->size());
    for (const std::string& s : *merges) m.push_back(str(s));
    model.emplace_back("merges", Json::array(std::move(m)));
  } else {
    HEARTH_CHECK(spm_pipeline(g, root));
    HEARTH_ASSIGN(const std::vector<double>* scores, g.get_floats("tokenizer.ggml.scores"));
    if (scores->size() != tokens->size()) return err(g.path(), ": tokenizer.ggml.scores has ", scores->size(), " entries for ", tokens->size(), " tokens");
    model.emplace_back("merges", Json::array(merges_from_scores(*tokens, *scores, types)));
    const bool has_bytes = std::find(tokens->begin(), tokens->end(), "<0x00>") != tokens->end();
    model.emplace_back("byte_fallback", Json::boolean(has_bytes));
    model.emplace_back("fuse_unk", Json::boolean(true));
    int64_t unk = -1;
    HEARTH_ASSIGN(unk, g.get_int("tokenizer.ggml.unknown_token_id", -1));
    for (size_t i = 0; unk < 0 && i < types.size(); ++i) {
      if (types[i] == kTokenUnknown) unk = int64_t(i);
    }
    if (unk >= int64_t(tokens->size())) return err(g.path(), ": tokenizer.ggml.unknown_token_id ", unk, " is outside the vocabulary");
    if (unk >= 0) model.emplace_back("unk_token", str((*tokens)[size_t(unk)]));
  }
  model.emplace_back("ignore_merges", Json::boolean(ignore_merges));
  Json::Object vocab;
  vocab.reserve(tokens->size());
  for (size_t i = 0; i < tokens->size(); ++i) vocab.emplace_back((*tokens)[i], integer(int64_t(i)));
  model.emplace_back("vocab", Json::object(std::move(vocab)));
  // Control and unknown tokens are special added tokens, user-defined ones plain added tokens.
  Json::Array added;
  for (size_t i = 0; i < types.size(); ++i) {
    const int64_t t = types[i];
    if (t != kTokenControl && t != kTokenUserDefined && t != kTokenUnknown) continue;
    if ((*tokens)[i].empty()) continue;
    added.push_back(obj({{"id", integer(int64_t(i))}, {"content", str((*tokens)[i])}, {"single_word", Json::boolean(false)},
                         {"lstrip", Json::boolean(false)}, {"rstrip", Json::boolean(false)},
                         {"normalized", Json::boolean(false)}, {"special", Json::boolean(t != kTokenUserDefined)}}));
  }
  root.emplace_back("added_tokens", Json::array(std::move(added)));
  root.emplace_back("model", Json::object(std::move(model)));
  return Json::object(std::move(root));
}

Result<Json> tokenizer_config_from_gguf(const GgufFile& g) {
  HEARTH_ASSIGN(const std::vector<std::string>* tokens, g.get_strings("tokenizer.ggml.tokens"));
  HEARTH_ASSIGN(std::string kind, g.get_string("tokenizer.ggml.model"));
  Json::Object c;
  if (g.find("tokenizer.chat_template")) {
    HEARTH_ASSIGN(std::string t, g.get_string("tokenizer.chat_template"));
    c.emplace_back("chat_template", str(t));
  }
  for (const char* name : {"bos", "eos", "unknown", "padding"}) {
    const std::string key = std::string("tokenizer.ggml.") + name + "_token_id";
    if (!g.find(key)) continue;
    HEARTH_ASSIGN(int64_t id, g.get_int(key));
    if (id < 0 || id >= int64_t(tokens->size())) return err(g.path(), ": ", key, " ", id, " is outside the vocabulary");
    const std::string field = name == std::string("unknown") ? "unk_token" : name == std::string("padding") ? "pad_token" : std::string(name) + "_token";
    c.emplace_back(field, str((*tokens)[size_t(id)]));
  }
  for (const char* name : {"add_bos_token", "add_eos_token"}) {
    const std::string key = std::string("tokenizer.ggml.") + name;
    if (!g.find(key)) continue;
    HEARTH_ASSIGN(bool b, g.get_bool(key));
    c.emplace_back(name, Json::boolean(b));
  }
  if (kind == "llama") c.emplace_back("tokenizer_class", str("LlamaTokenizerFast"));
  return obj(std::move(c));
}

}  // namespace hearth
