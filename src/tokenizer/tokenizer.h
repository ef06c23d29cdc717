// Text <-> token ids with a Hugging Face tokenizer.json: byte-level BPE (GPT-2, Llama 3, Qwen2 /
// 2.5 / 3) and sentencepiece-style BPE with byte fallback (Llama 2). encode() and decode() give
// what HF tokenizers gives for encode(text, add_special_tokens=False) and decode(ids); the
// StreamDecoder turns ids into text one at a time for streaming generation.
//
// Input text that is not valid UTF-8 is repaired before encoding: every byte that is not part of
// a valid UTF-8 sequence is replaced by U+FFFD (so "a\xFFb" encodes like "a\uFFFDb").
//
// Added tokens get their ids the way HF tokenizers assigns them on load (a content that is in the
// model vocabulary takes that id, others follow the vocabulary in file order); for well-formed
// files these are the ids written in "added_tokens".
//
// Unicode properties (\p{L}, \p{N}, \s) and NFC come from tables generated from Unicode 15.0.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth {

namespace tok {
struct TokenizerData;
}

class Tokenizer {
 public:
  // An empty tokenizer: encode() gives no ids, decode() no text. Use load_file / load_json.
  Tokenizer() = default;

  // Loads a tokenizer.json, or the tokenizer.json inside a model folder.
  static Result<Tokenizer> load_file(const std::string& path);
  // Parses the text of a tokenizer.json; `what` names it in error messages.
  static Result<Tokenizer> load_json(std::string_view text, const std::string& what);
  // The same from a parsed tokenizer.json object.
  static Result<Tokenizer> load_parsed(const Json& root, const std::string& what);
  // The tokenizer of a model path: a .gguf file's tokenizer metadata, or a folder's
  // tokenizer.json; an empty tokenizer (loaded() false) for a file or folder without one.
  static Result<Tokenizer> load_for_model(const std::string& path);

  bool loaded() const { return d_ != nullptr; }
  // Token ids of `text`, without BOS/EOS (HF encode with add_special_tokens=False). Added tokens
  // (special or not) written in the text are recognized.
  std::vector<int32_t> encode(std::string_view text) const;
  // Text of `ids` (HF decode); unknown ids are skipped, special tokens too if skip_special.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;

  // One past the largest id of the vocabulary and the added tokens.
  int32_t vocab_size() const;
  // The id of a token string as written in tokenizer.json ("Ġhello", "<|im_end|>").
  std::optional<int32_t> token_id(std::string_view token) const;
  // The token string of an id as written in tokenizer.json; empty for an unknown id.
  std::string token_text(int32_t id) const;
  // Added tokens marked "special" (skipped by decode(ids, true)).
  bool is_special(int32_t id) const;
  // Any token of "added_tokens".
  bool is_added(int32_t id) const;
  // The file (or `what`) the tokenizer was loaded from.
  const std::string& source() const;

 private:
  friend class StreamDecoder;
  explicit Tokenizer(std::shared_ptr<const tok::TokenizerData> d) : d_(std::move(d)) {}
  std::shared_ptr<const tok::TokenizerData> d_;  // immutable; copies share it
};

// Decodes a stream of ids one at a time. Each step returns the text that the new id completes:
// incomplete UTF-8 (a character split over several byte tokens) is held back until it completes,
// and the leading-space handling of Metaspace / Strip decoders matches a whole-sequence decode, so
// the concatenation of everything step() and flush() return equals tokenizer.decode(all ids)
// whenever that decode contains no U+FFFD (invalid byte sequences are emitted as U+FFFD once
// known, or at flush()). The decoder keeps the tokenizer's data alive; it is not thread-safe.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special_tokens = false);
  // The newly completed text (often empty while a multi-byte character is incomplete).
  std::string step(int32_t id);
  // The rest: held-back bytes come out as U+FFFD. The stream then starts over.
  std::string flush();
  void reset();

 private:
  std::shared_ptr<const tok::TokenizerData> d_;
  bool skip_special_;
  std::vector<int32_t> ids_;  // the context token(s) then the ids not yet emitted
  std::string prefix_;        // decode of ids_[0, prefix_index_)
  size_t prefix_index_ = 0;
};

}  // namespace hearth
