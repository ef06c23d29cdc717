// Tokenizers in GGUF metadata, both ways: the tokenizer.json that a GGUF file's tokenizer.ggml.*
// keys describe (so the Tokenizer is built by the same code as for a Hugging Face folder), and
// the tokenizer.ggml.* keys for a tokenizer.json.
//
// tokenizer.ggml.model "gpt2": byte-level BPE with tokens, merges and token types; the
// pre-tokenizer named by tokenizer.ggml.pre ("qwen2", "llama-bpe" / "llama3", "gpt-2" /
// "default"). "llama": sentencepiece-style BPE with tokens, scores, token types and byte
// fallback (<0xNN> tokens); the merges are rebuilt from the scores the way Hugging Face's
// converter does (every split of a token into two vocabulary tokens, ranked by the token's
// score), and tokenizer.ggml.add_space_prefix (default true) prepends U+2581.
// Token types: 1 normal, 2 unknown, 3 control (special added tokens), 4 user-defined
// (non-special added tokens), 5 unused, 6 byte.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "formats/gguf.h"
#include "formats/json.h"

namespace hearth {

enum GgufTokenType : int64_t {
  kTokenNormal = 1, kTokenUnknown = 2, kTokenControl = 3, kTokenUserDefined = 4, kTokenUnused = 5, kTokenByte = 6,
};

// The tokenizer.json object for the file's tokenizer.ggml.* metadata.
Result<Json> tokenizer_json_from_gguf(const GgufFile& g);

// The tokenizer_config.json object for the same metadata: chat_template
// (tokenizer.chat_template), bos_token / eos_token / unk_token / pad_token (the texts of the
// tokenizer.ggml.*_token_id tokens), add_bos_token / add_eos_token, and tokenizer_class
// LlamaTokenizerFast for "llama" vocabularies.
Result<Json> tokenizer_config_from_gguf(const GgufFile& g);

// The tokenizer.ggml.* keys (model, pre, tokens, token_type, merges or scores) for a parsed
// tokenizer.json; `what` names it in errors. bos / eos ids and the chat template are the
// caller's (they live in other files of a Hugging Face folder).
Result<std::vector<std::pair<std::string, GgufValue>>> gguf_tokenizer_metadata(const Json& tokenizer_json,
                                                                               const std::string& what);

}  // namespace hearth
