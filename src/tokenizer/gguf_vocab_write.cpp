// tokenizer.json -> GGUF tokenizer metadata (see gguf_vocab.h). Byte-level BPE becomes "gpt2"
// with its merges and the tokenizer.ggml.pre name of its split regex; sentencepiece-style BPE
// (byte fallback, U+2581 for spaces) becomes "llama" with scores that rank each token by the
// first merge that makes it, so the merges rebuilt from the scores are the file's own.
#include <algorithm>
#include <unordered_map>

#include "tokenizer/gguf_vocab.h"
#include "tokenizer/gguf_vocab_regex.h"

namespace hearth {

namespace {

constexpr int64_t kMaxTokens = int64_t(1) << 24;

bool mentions_type(const Json* j, const std::string& type) {
  if (!j || j->is_null()) return false;
  if (const Json* t = j->find("type"); t && t->is_string() && t->as_string() == type) return true;
  for (const char* list : {"pretokenizers", "normalizers", "decoders"}) {
    if (const Json* l = j->find(list); l && l->is_array()) {
      for (const Json& e : l->as_array()) {
        if (mentions_type(&e, type)) return true;
      }
    }
  }
  return false;
}

// The regex of the Split pre-tokenizer, if any.
std::string split_regex(const Json* pre) {
  if (!pre || pre->is_null()) return "";
  if (const Json* p = pre->find("pattern")) {
    if (const Json* r = p->find("Regex"); r && r->is_string()) return r->as_string();
  }
  if (const Json* l = pre->find("pretokenizers"); l && l->is_array()) {
    for (const Json& e : l->as_array()) {
      std::string r = split_regex(&e);
      if (!r.empty()) return r;
    }
  }
  return "";
}

Result<std::string> pre_name(const Json& root, const std::string& what) {
  const std::string regex = split_regex(root.find("pre_tokenizer"));
  if (regex == kQwen2Regex) return std::string("qwen2");
  if (regex == kLlama3Regex) return std::string("llama-bpe");
  if (regex.empty()) return std::string("gpt-2");
  return err(what, ": the pre-tokenizer's split regex has no GGUF name (supported: the Qwen2, Llama 3 and GPT-2 patterns)");
}

// "a b" for a merge given as a string or as a pair.
Result<std::pair<std::string, std::string>> merge_pair(const Json& e, const std::string& what, size_t i) {
  if (e.is_string()) {
    const std::string& s = e.as_string();
    const size_t sp = s.find(' ');
    if (sp == std::string::npos) return err(what, ": merges[", i, "] is not \"a b\"");
    return std::make_pair(s.substr(0, sp), s.substr(sp + 1));
  }
  if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) return std::make_pair(e[0].as_string(), e[1].as_string());
  return err(what, ": merges[", i, "] is neither \"a b\" nor [a, b]");
}

}  // namespace

Result<std::vector<std::pair<std::string, GgufValue>>> gguf_tokenizer_metadata(const Json& root, const std::string& what) {
  const Json* model = root.find("model");
  if (!model || !model->is_object()) return err(what, ": model: missing or not an object");
  if (const Json* t = model->find_non_null("type"); t && (!t->is_string() || t->as_string() != "BPE")) return err(what, ": only BPE tokenizers can be written to GGUF");
  const Json* vocab = model->find("vocab");
  if (!vocab || !vocab->is_object()) return err(what, ": model.vocab: missing or not an object");
  // Tokens by id (gaps get llama.cpp's [PADn] names), added tokens included.
  std::vector<std::string> tokens;
  std::vector<int64_t> types;
  auto put = [&](int64_t id, const std::string& text, int64_t type) -> Status {
    if (id < 0 || id >= kMaxTokens) return err(what, ": token id ", id, " is out of range");
    if (int64_t(tokens.size()) <= id) {
      const size_t old = tokens.size();
      tokens.resize(size_t(id + 1));
      types.resize(size_t(id + 1), kTokenUnused);
      for (size_t i = old; i < tokens.size(); ++i) tokens[i] = "[PAD" + std::to_string(i) + "]";
    }
    tokens[size_t(id)] = text;
    types[size_t(id)] = type;
    return {};
  };
  for (const auto& [text, id] : vocab->as_object()) {
    if (!id.is_integer()) return err(what, ": model.vocab[\"", text, "\"] is not an id");
    HEARTH_CHECK(put(id.as_int(), text, kTokenNormal));
  }
  if (const Json* added = root.find_non_null("added_tokens"); added && added->is_array()) {
    for (const Json& a : added->as_array()) {
      const Json* id = a.find("id");
      const Json* content = a.find("content");
      const Json* special = a.find("special");
      if (!id || !id->is_integer() || !content || !content->is_string()) return err(what, ": added_tokens: an entry lacks id or content");
      HEARTH_CHECK(put(id->as_int(), content->as_string(), special && special->is_bool() && special->as_bool() ? kTokenControl : kTokenUserDefined));
    }
  }
  std::vector<std::pair<std::string, GgufValue>> kv;
  const Json* merges = model->find_non_null("merges");
  const bool byte_level = mentions_type(root.find("pre_tokenizer"), "ByteLevel") || mentions_type(root.find("decoder"), "ByteLevel");
  if (byte_level) {
    HEARTH_ASSIGN(std::string pre, pre_name(root, what));
    kv.emplace_back("tokenizer.ggml.model", GgufValue::of_string("gpt2"));
    kv.emplace_back("tokenizer.ggml.pre", GgufValue::of_string(pre));
    std::vector<std::string> ms;
    for (size_t i = 0; merges && i < merges->size(); ++i) {
      HEARTH_ASSIGN(auto p, merge_pair((*merges)[i], what, i));
      ms.push_back(p.first + " " + p.second);
    }
    kv.emplace_back("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
    kv.emplace_back("tokenizer.ggml.token_type", GgufValue::int_array(GgufType::I32, types));
    kv.emplace_back("tokenizer.ggml.merges", GgufValue::string_array(std::move(ms)));
    return kv;
  }
  // Sentencepiece style: score = minus the rank of the first merge that makes the token.
  std::unordered_map<std::string, int64_t> first_rank;
  for (size_t i = 0; merges && i < merges->size(); ++i) {
    HEARTH_ASSIGN(auto p, merge_pair((*merges)[i], what, i));
    first_rank.emplace(p.first + p.second, int64_t(i));
  }
  std::vector<double> scores(tokens.size(), -1e9);
  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (auto it = first_rank.find(t); it != first_rank.end()) scores[i] = -double(it->second);
    if (types[i] == kTokenNormal && t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') types[i] = kTokenByte;
  }
  if (const Json* unk = model->find_non_null("unk_token"); unk && unk->is_string()) {
    auto it = std::find(tokens.begin(), tokens.end(), unk->as_string());
    if (it != tokens.end()) types[size_t(it - tokens.begin())] = kTokenUnknown;
  }
  const bool prefix = mentions_type(root.find("normalizer"), "Prepend") || mentions_type(root.find("pre_tokenizer"), "Metaspace");
  kv.emplace_back("tokenizer.ggml.model", GgufValue::of_string("llama"));
  kv.emplace_back("tokenizer.ggml.tokens", GgufValue::string_array(tokens));
  kv.emplace_back("tokenizer.ggml.scores", GgufValue::float_array(GgufType::F32, std::move(scores)));
  kv.emplace_back("tokenizer.ggml.token_type", GgufValue::int_array(GgufType::I32, types));
  kv.emplace_back("tokenizer.ggml.add_space_prefix", GgufValue::of_bool(prefix));
  return kv;
}

}  // namespace hearth
