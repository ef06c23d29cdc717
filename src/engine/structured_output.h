// Structured output: the grammar a request's response format asks for (any JSON object, JSON
// valid under a schema, or a GBNF grammar), and a matcher for it over the tokenizer's
// vocabulary, which the engine uses to mask the logits of each step (engine.h).
#pragma once
#include <memory>
#include <string>

#include "core/error.h"
#include "formats/json.h"
#include "grammar/grammar.h"
#include "grammar/matcher.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

struct ResponseFormat {
  enum class Kind { Text, JsonObject, JsonSchema, Grammar };
  Kind kind = Kind::Text;
  Json schema;          // JsonSchema
  std::string grammar;  // Grammar: GBNF text
};

// Reads {type: "text" | "json_object" | "json_schema" | "grammar", ...}: the schema as `schema`
// or, as OpenAI writes it, `json_schema: {name, schema, strict}`; the grammar as `grammar`.
// `what` names the option in errors ("response_format").
Result<ResponseFormat> parse_response_format(const Json& j, const std::string& what);

// The grammar of a response format (not Text).
Result<std::shared_ptr<const Grammar>> compile_response_format(const ResponseFormat& f, const std::string& what);

// The vocabulary's byte strings in a trie, for ids 0..vocab_size-1 (ids the tokenizer does not
// know, and special tokens, have none).
std::shared_ptr<const TokenTrie> make_token_trie(const Tokenizer& tok, int64_t vocab_size);

}  // namespace hearth
