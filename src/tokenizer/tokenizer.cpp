// Tokenizer: loads tokenizer.json into its parts (added tokens, normalizer, pre-tokenizer, BPE
// model, decoder) and runs HF tokenizers' pipeline: split out added tokens, normalize each plain
// segment, split out normalized added tokens, pre-tokenize, BPE each word. Also the streaming
// decoder, which decodes a sliding window of ids the way HF's DecodeStream does.
#include "tokenizer/tokenizer.h"

#include <sys/stat.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <cstdio>

#include "formats/gguf.h"
#include "formats/json.h"
#include "tokenizer/added_tokens.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/bpe.h"
#include "tokenizer/decoders.h"
#include "tokenizer/normalize.h"
#include "tokenizer/pretokenize.h"
#include "tokenizer/unicode.h"

namespace hearth {
namespace tok {

struct TokenizerData {
  std::string source;
  BpeModel model;
  std::unique_ptr<Normalizer> normalizer;
  std::unique_ptr<PreTokenizer> pre_tokenizer;
  std::unique_ptr<Decoder> decoder;
  std::vector<AddedToken> added;
  std::vector<int32_t> added_index;  // id -> index into `added`, or -1
  std::vector<uint8_t> special;      // id -> 1 if an added token marked special
  std::vector<uint8_t> skipped;      // id -> 1 if decode(ids, skip_special) leaves it out
  AddedTokenMatcher raw_matcher;         // added tokens with normalized = false
  AddedTokenMatcher normalized_matcher;  // added tokens with normalized = true
  int32_t vocab_size = 0;

  bool has_text(int32_t id) const {
    if (id < 0 || id >= vocab_size) return false;
    return added_index[size_t(id)] >= 0 || model.has_token(id);
  }
  std::string_view text(int32_t id) const {
    if (id < 0 || id >= vocab_size) return {};
    int32_t a = added_index[size_t(id)];
    return a >= 0 ? std::string_view(added[size_t(a)].text) : model.token(id);
  }
  bool is_special(int32_t id) const { return id >= 0 && id < vocab_size && special[size_t(id)]; }
  bool is_skipped(int32_t id) const { return id >= 0 && id < vocab_size && skipped[size_t(id)]; }

  void encode(std::string_view text, std::vector<int32_t>& out) const;
  std::string decode(std::span<const int32_t> ids, bool skip_special) const;
};

void TokenizerData::encode(std::string_view text, std::vector<int32_t>& out) const {
  BpeScratch scratch;
  auto word = [&](std::string_view w, bool) { model.encode(w, out, scratch); };
  auto pre_tokenize = [&](std::string_view piece, bool at_start) {
    if (piece.empty()) return;
    if (pre_tokenizer) {
      pre_tokenizer->split(piece, at_start, word);
    } else {
      model.encode(piece, out, scratch);
    }
  };
  auto segment = [&](std::string_view seg, bool at_start) {
    std::string normalized;
    std::string_view ns = seg;
    if (normalizer) {
      normalized.assign(seg);
      normalizer->apply(normalized);
      ns = normalized;
    }
    if (ns.empty()) return;
    if (normalized_matcher.empty()) {
      pre_tokenize(ns, at_start);
      return;
    }
    normalized_matcher.split(ns, [&](size_t b, size_t e, int32_t id) {
      if (id >= 0) {
        out.push_back(id);
      } else {
        pre_tokenize(ns.substr(b, e - b), at_start && b == 0);
      }
    });
  };
  raw_matcher.split(text, [&](size_t b, size_t e, int32_t id) {
    if (id >= 0) {
      out.push_back(id);
    } else {
      segment(text.substr(b, e - b), b == 0);
    }
  });
}

std::string TokenizerData::decode(std::span<const int32_t> ids, bool skip_special) const {
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (int32_t id : ids) {
    if (!has_text(id) || (skip_special && is_skipped(id))) continue;
    tokens.emplace_back(text(id));
  }
  std::string out;
  if (decoder) {
    decoder->decode_chain(tokens);
    for (const std::string& t : tokens) out += t;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) {
      if (i) out += ' ';
      out += tokens[i];
    }
  }
  return out;
}

namespace {

Result<bool> flag(const Json& j, const char* key, bool def, const std::string& where) {
  const Json* v = j.find_non_null(key);
  if (!v) return def;
  if (!v->is_bool()) return err(where, ".", key, ": expected a boolean");
  return v->as_bool();
}

Result<AddedToken> parse_added_token(const Json& j, const std::string& where) {
  if (!j.is_object()) return err(where, ": expected an object");
  AddedToken t;
  const Json* id = j.find_non_null("id");
  if (!id || !id->is_integer() || id->as_int() < 0 || id->as_int() >= (1 << 24)) {
    return err(where, ".id: expected an id in [0, 16777216)");
  }
  t.id = int32_t(id->as_int());
  const Json* content = j.find_non_null("content");
  if (!content || !content->is_string()) return err(where, ".content: missing or not a string");
  if (!unicode::is_valid_utf8(content->as_string())) return err(where, ".content: invalid UTF-8");
  t.content = content->as_string();
  HEARTH_ASSIGN(t.special, flag(j, "special", false, where));
  HEARTH_ASSIGN(t.single_word, flag(j, "single_word", false, where));
  HEARTH_ASSIGN(t.lstrip, flag(j, "lstrip", false, where));
  HEARTH_ASSIGN(t.rstrip, flag(j, "rstrip", false, where));
  HEARTH_ASSIGN(t.normalized, flag(j, "normalized", !t.special, where));
  return t;
}

Status build(const Json& root, tok::TokenizerData& d) {
  const std::string& src = d.source;
  if (!root.is_object()) return err(src, ": expected a JSON object at the top level");
  if (const Json* n = root.find_non_null("normalizer")) {
    HEARTH_ASSIGN(d.normalizer, parse_normalizer(*n, src + ": normalizer"));
  }
  if (const Json* p = root.find_non_null("pre_tokenizer")) {
    HEARTH_ASSIGN(d.pre_tokenizer, parse_pre_tokenizer(*p, src + ": pre_tokenizer"));
  }
  if (const Json* dec = root.find_non_null("decoder")) {
    HEARTH_ASSIGN(d.decoder, parse_decoder(*dec, src + ": decoder"));
  }
  const Json* model = root.find_non_null("model");
  if (!model || !model->is_object()) return err(src, ": model: missing or not an object");
  const Json* type = model->find_non_null("type");
  if (type && (!type->is_string() || type->as_string() != "BPE")) {
    return err(src, ": model.type: unsupported model '", type->is_string() ? type->as_string() : "?",
               "' (only BPE is supported)");
  }
  if (!type && !model->find("merges")) {
    return err(src, ": model.type: missing, and the model has no merges (only BPE is supported)");
  }
  bool byte_level = d.pre_tokenizer && d.pre_tokenizer->byte_level();
  HEARTH_ASSIGN(d.model, BpeModel::parse(*model, byte_level, src + ": model"));

  // Added tokens get their ids the way HF tokenizers assigns them when it loads the file: a
  // content already in the model vocabulary takes that id, a new one the next id after the
  // model's entries (in well-formed files these are the ids written in the JSON).
  std::unordered_map<std::string, int32_t> seen;
  int32_t next_id = int32_t(d.model.entry_count());
  if (const Json* added = root.find_non_null("added_tokens")) {
    if (!added->is_array()) return err(src, ": added_tokens: expected an array");
    for (size_t i = 0; i < added->size(); ++i) {
      HEARTH_ASSIGN(AddedToken t,
                    parse_added_token((*added)[i], src + ": added_tokens[" + std::to_string(i) + "]"));
      if (t.content.empty() || seen.count(t.content)) continue;
      int32_t in_model = d.model.find(t.content);
      t.id = in_model >= 0 ? in_model : next_id++;
      seen.emplace(t.content, t.id);
      t.text = t.content;
      if (t.normalized && d.normalizer) d.normalizer->apply(t.text);
      d.added.push_back(std::move(t));
    }
  }
  int32_t vocab_size = d.model.id_count();
  for (const AddedToken& t : d.added) vocab_size = std::max(vocab_size, t.id + 1);
  d.vocab_size = vocab_size;
  d.added_index.assign(size_t(vocab_size), -1);
  d.special.assign(size_t(vocab_size), 0);
  d.skipped.assign(size_t(vocab_size), 0);
  std::unordered_set<std::string> special_contents;
  for (size_t i = 0; i < d.added.size(); ++i) {
    const AddedToken& t = d.added[i];
    d.added_index[size_t(t.id)] = int32_t(i);
    if (t.special) {
      d.special[size_t(t.id)] = 1;
      special_contents.insert(t.content);
    }
    if (!t.normalized) {
      d.raw_matcher.add(t.content, t);
    } else {
      d.normalized_matcher.add(t.text, t);
    }
  }
  // HF's skip_special_tokens compares token strings with the special contents.
  for (const std::string& c : special_contents) {
    int32_t id = d.model.find(c);
    if (id >= 0 && d.added_index[size_t(id)] < 0) d.skipped[size_t(id)] = 1;
  }
  for (const AddedToken& t : d.added) {
    if (special_contents.count(t.text)) d.skipped[size_t(t.id)] = 1;
  }
  return Status();
}

bool is_directory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

}  // namespace
}  // namespace tok

// ---- Tokenizer ----

Result<Tokenizer> Tokenizer::load_json(std::string_view text, const std::string& what) {
  HEARTH_ASSIGN(Json root, parse_json(text, what));
  return load_parsed(root, what);
}

Result<Tokenizer> Tokenizer::load_for_model(const std::string& path) {
  if (is_gguf_file(path)) {
    HEARTH_ASSIGN(auto file, MappedFile::open(path, /*force_ranges=*/true));  // the metadata only
    HEARTH_ASSIGN(GgufFile g, GgufFile::parse(std::move(file)));
    if (!g.find("tokenizer.ggml.model") && !g.find("tokenizer.ggml.tokens")) return Tokenizer();  // a model without one
    HEARTH_ASSIGN(Json root, tokenizer_json_from_gguf(g));
    return load_parsed(root, path + " (tokenizer metadata)");
  }
  const std::string file = path + "/tokenizer.json";
  if (FILE* f = std::fopen(file.c_str(), "rb")) {
    std::fclose(f);
    return load_file(file);
  }
  return Tokenizer();
}

Result<Tokenizer> Tokenizer::load_parsed(const Json& root, const std::string& what) {
  auto d = std::make_shared<tok::TokenizerData>();
  d->source = what;
  HEARTH_CHECK(tok::build(root, *d));
  return Tokenizer(std::move(d));
}

Result<Tokenizer> Tokenizer::load_file(const std::string& path) {
  std::string file = path;
  if (tok::is_directory(path)) {
    file = path + (path.empty() || path.back() == '/' ? "" : "/") + "tokenizer.json";
  }
  auto text = read_text_file(file);
  if (!text.ok()) {
    return err(file, ": cannot read the tokenizer (expected a tokenizer.json or a folder with one)");
  }
  return load_json(*text, file);
}

std::vector<int32_t> Tokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  if (!d_) return out;
  if (unicode::is_valid_utf8(text)) {
    d_->encode(text, out);
  } else {
    std::string fixed = unicode::replace_invalid_bytes(text);
    d_->encode(fixed, out);
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int32_t> ids, bool skip_special) const {
  return d_ ? d_->decode(ids, skip_special) : std::string();
}

int32_t Tokenizer::vocab_size() const { return d_ ? d_->vocab_size : 0; }

std::optional<int32_t> Tokenizer::token_id(std::string_view token) const {
  if (!d_) return std::nullopt;
  for (const tok::AddedToken& t : d_->added) {
    if (t.content == token) return t.id;
  }
  int32_t id = d_->model.find(token);
  if (id < 0) return std::nullopt;
  return id;
}

std::string Tokenizer::token_text(int32_t id) const {
  return d_ ? std::string(d_->text(id)) : std::string();
}

bool Tokenizer::is_special(int32_t id) const { return d_ && d_->is_special(id); }

bool Tokenizer::is_added(int32_t id) const {
  return d_ && id >= 0 && id < d_->vocab_size && d_->added_index[size_t(id)] >= 0;
}

const std::string& Tokenizer::source() const {
  static const std::string none;
  return d_ ? d_->source : none;
}

// ---- StreamDecoder ----
// The window holds the ids of the last emitted chunk (context, so that decoders which treat the
// first token specially see the same thing as in a full decode) followed by the pending ids.

namespace {
constexpr size_t kMaxPending = 32;  // past this, bytes that never complete are given up on

bool ends_incomplete(const std::string& s) {
  return s.size() >= 3 && s.compare(s.size() - 3, 3, "\xEF\xBF\xBD") == 0;
}
}  // namespace

StreamDecoder::StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens)
    : d_(tokenizer.d_), skip_special_(skip_special_tokens) {}

void StreamDecoder::reset() {
  ids_.clear();
  prefix_.clear();
  prefix_index_ = 0;
}

std::string StreamDecoder::step(int32_t id) {
  if (!d_ || !d_->has_text(id) || (skip_special_ && d_->is_skipped(id))) return {};
  if (prefix_.empty() && !ids_.empty()) {
    std::string p = d_->decode(ids_, skip_special_);
    if (!ends_incomplete(p)) {
      prefix_ = std::move(p);
      prefix_index_ = ids_.size();
    }
  }
  ids_.push_back(id);
  std::string s = d_->decode(ids_, skip_special_);
  bool give_up = ids_.size() - prefix_index_ > kMaxPending;
  if (s.size() <= prefix_.size() || (ends_incomplete(s) && !give_up)) return {};
  std::string out;
  if (s.compare(0, prefix_.size(), prefix_) == 0) {
    out = s.substr(prefix_.size());
  } else {
    // The context decodes differently now (only with invalid byte runs): emit the new ids alone.
    out = d_->decode(std::span<const int32_t>(ids_).subspan(prefix_index_), skip_special_);
  }
  size_t new_prefix_index = ids_.size() - prefix_index_;
  ids_.erase(ids_.begin(), ids_.begin() + long(prefix_index_));
  prefix_ = d_->decode(ids_, skip_special_);
  prefix_index_ = new_prefix_index;
  return out;
}

std::string StreamDecoder::flush() {
  std::string out;
  if (d_ && ids_.size() > prefix_index_) {
    std::string s = d_->decode(ids_, skip_special_);
    if (s.compare(0, prefix_.size(), prefix_) == 0) {
      out = s.substr(prefix_.size());
    } else {
      out = d_->decode(std::span<const int32_t>(ids_).subspan(prefix_index_), skip_special_);
    }
  }
  reset();
  return out;
}

}  // namespace hearth
