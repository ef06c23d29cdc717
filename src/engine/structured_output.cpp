// Response formats -> grammars, and the vocabulary trie.
#include "engine/structured_output.h"

#include "grammar/json_schema.h"

namespace hearth {

Result<ResponseFormat> parse_response_format(const Json& j, const std::string& what) {
  if (!j.is_object()) return err(what, ": expected an object with a type");
  const Json* t = j.find_non_null("type");
  if (!t || !t->is_string()) return err(what, ".type: expected \"text\", \"json_object\", \"json_schema\" or \"grammar\"");
  ResponseFormat f;
  const std::string& type = t->as_string();
  if (type == "text") return f;
  if (type == "json_object") {
    f.kind = ResponseFormat::Kind::JsonObject;
    return f;
  }
  if (type == "json_schema") {
    f.kind = ResponseFormat::Kind::JsonSchema;
    const Json* s = j.find_non_null("schema");
    if (!s) {
      if (const Json* js = j.find_non_null("json_schema")) s = js->find_non_null("schema");
    }
    if (!s) return err(what, ": type json_schema needs a schema (`schema`, or `json_schema.schema`)");
    f.schema = *s;
    return f;
  }
  if (type == "grammar") {
    f.kind = ResponseFormat::Kind::Grammar;
    const Json* g = j.find_non_null("grammar");
    if (!g || !g->is_string()) return err(what, ": type grammar needs `grammar`, the GBNF text");
    f.grammar = g->as_string();
    return f;
  }
  return err(what, ".type: \"", type, "\" is not one of text, json_object, json_schema, grammar");
}

Result<std::shared_ptr<const Grammar>> compile_response_format(const ResponseFormat& f, const std::string& what) {
  std::string text;
  switch (f.kind) {
    case ResponseFormat::Kind::Text: return err(what, ": a text response has no grammar");
    case ResponseFormat::Kind::JsonObject: text = json_object_gbnf(); break;
    case ResponseFormat::Kind::JsonSchema: {
      auto g = json_schema_to_gbnf(f.schema);
      if (!g.ok()) return err(what, ": ", g.message());
      text = *g;
      break;
    }
    case ResponseFormat::Kind::Grammar: text = f.grammar; break;
  }
  HEARTH_ASSIGN(Grammar g, parse_gbnf(text, what));
  return std::make_shared<const Grammar>(std::move(g));
}

std::shared_ptr<const TokenTrie> make_token_trie(const Tokenizer& tok, int64_t vocab_size) {
  std::vector<std::string> bytes(static_cast<size_t>(vocab_size));
  for (int64_t id = 0; id < vocab_size && id < tok.vocab_size(); ++id) bytes[size_t(id)] = tok.token_bytes(int32_t(id));
  return std::make_shared<const TokenTrie>(std::move(bytes));
}

}  // namespace hearth
