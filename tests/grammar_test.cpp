// Grammars: GBNF parsing and its errors, UTF-8 character classes, the JSON grammars (texts that
// are and are not JSON), JSON Schema -> grammar over instances that do and do not validate, and
// token masks from the trie walk equal to checking every token one by one.
#include <chrono>
#include <random>

#include "engine/structured_output.h"
#include "grammar/json_schema.h"
#include "test_util.h"

namespace hearth {
namespace {

std::shared_ptr<const Grammar> compile(const std::string& text) {
  auto g = parse_gbnf(text, "test grammar");
  EXPECT_TRUE(g.ok()) << g.message() << "\n" << text;
  if (!g.ok()) return nullptr;
  return std::make_shared<const Grammar>(std::move(*g));
}

// Whether `text` is a whole sentence of the grammar.
bool matches(const std::shared_ptr<const Grammar>& g, const std::string& text) {
  GrammarMatcher m(g, std::make_shared<TokenTrie>(std::vector<std::string>{"x"}));
  return m.accept_bytes(text) && m.is_complete();
}

TEST(Gbnf, SequencesAlternativesRepetitionsAndClasses) {
  auto g = compile(R"(
    root ::= greeting " " name ("!" | "?")?   # a comment
    greeting ::= "hi" | "hello"
    name ::= [A-Z] [a-z]{1,4}
  )");
  ASSERT_TRUE(g);
  for (const char* ok : {"hi Bob", "hello Alice!", "hi Ed?"}) EXPECT_TRUE(matches(g, ok)) << ok;
  for (const char* bad : {"hi bob", "hi B", "hello Alexandra", "hey Bob", "hi Bob!!", ""}) EXPECT_FALSE(matches(g, bad)) << bad;
  auto rep = compile("root ::= \"a\"{2} \"b\"{1,} \"c\"*");
  for (const char* ok : {"aab", "aabbbccc"}) EXPECT_TRUE(matches(rep, ok)) << ok;
  for (const char* bad : {"ab", "aaab", "aa"}) EXPECT_FALSE(matches(rep, bad)) << bad;
}

TEST(Gbnf, Utf8ClassesMatchWholeCharacters) {
  auto g = compile("root ::= [à-ü]+ [^a-z\\x00-\\x1f]");
  ASSERT_TRUE(g);
  EXPECT_TRUE(matches(g, "éèA"));
  EXPECT_TRUE(matches(g, "ü€"));       // 3-byte character from the negated class
  EXPECT_TRUE(matches(g, "ü\xF0\x9F\x98\x80"));  // and a 4-byte one
  EXPECT_FALSE(matches(g, "éa"));
  EXPECT_FALSE(matches(g, "ÿA"));      // U+00FF is past ü
  EXPECT_FALSE(matches(g, "é\xFF"));   // not UTF-8
  EXPECT_FALSE(matches(g, "é\xED\xA0\x80"));  // an encoded surrogate
  auto any = compile("root ::= \"<\" . \">\"");
  EXPECT_TRUE(matches(any, "<ж>"));
  EXPECT_FALSE(matches(any, "<\xC3>"));
  auto esc = compile(R"(root ::= "\x41\u00e9\n\"\\" [\]\-])");
  EXPECT_TRUE(matches(esc, "Aé\n\"\\]"));
  EXPECT_TRUE(matches(esc, "Aé\n\"\\-"));
}

TEST(Gbnf, BadGrammarsAreNamedErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {"root ::= foo", "undefined rule foo"},
      {"start ::= \"a\"", "no rule named root"},
      {"root ::= root \"a\" | \"b\"", "left-recursive"},
      {"root ::= a\na ::= b \"x\"\nb ::= \"\" | a", "left-recursive"},
      {"root ::= (\"a\"?)*", "left-recursive"},
      {"root ::= \"abc", "unterminated string"},
      {"root ::= [a-", "unterminated character class"},
      {"root ::= \"\\q\"", "unknown escape"},
      {"root ::= \"a\"{99999}", "above 10000"},
      {"root ::= \"a\"{3,2}", "n < m"},
      {"root ::= [z-a]", "backwards"},
      {"root ::= \"a\"\nroot ::= \"b\"", "defined twice"},
      {"root = \"a\"", "expected ::="},
  };
  for (const auto& [text, want] : cases) {
    auto g = parse_gbnf(text, "g.gbnf");
    ASSERT_FALSE(g.ok()) << text;
    EXPECT_NE(g.message().find(want), std::string::npos) << text << " -> " << g.message();
    EXPECT_EQ(g.message().rfind("g.gbnf", 0), 0u) << g.message();
  }
}

TEST(JsonGrammar, AcceptsJsonObjectsOnly) {
  auto g = compile(json_object_gbnf());
  ASSERT_TRUE(g);
  for (const char* ok : {"{}", "{ }", R"({"a":1})", R"({"a": [1, 2.5, -3e10, true, null, "x\"\\\u00e9"], "b": {"c": {}}})",
                         "{\n  \"k\": \"v\"\n}", R"({"ü": "€"})"}) {
    EXPECT_TRUE(matches(g, ok)) << ok;
  }
  for (const char* bad : {"[]", "{", R"({"a":})", R"({"a":1,})", R"({'a':1})", R"({"a":01})", R"({"a":"\x"})",
                          "{\"a\":\"\n\"}", R"({"a":1}})", R"({"a": tru})", "1"}) {
    EXPECT_FALSE(matches(g, bad)) << bad;
  }
}

struct SchemaCase {
  const char* schema;
  std::vector<const char*> valid, invalid;
};

const std::vector<SchemaCase>& schema_cases() {
  static const std::vector<SchemaCase> cases = {
      {R"({"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name","age"]})",
       {R"({"name":"Ann","age":31})", R"({ "name" : "A\"b", "age" : 0 })"},
       {R"({"name":"Ann"})", R"({"age":3,"name":"x"})", R"({"name":"Ann","age":-1})", R"({"name":"Ann","age":1.5})", "{}"}},
      {R"({"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"null"},"c":{"type":"number"}},"required":["b"]})",
       {R"({"b":null})", R"({"a":true,"b":null})", R"({"b":null,"c":-2.5e3})", R"({"a":false,"b":null,"c":0})"},
       {R"({"a":true})", R"({"b":null,"a":true})", R"({"a":true,"b":null,})", R"({"b":1})"}},
      {R"({"type":"array","items":{"enum":["red","green",3,null]},"minItems":1,"maxItems":3})",
       {R"(["red"])", R"(["green",3,null])"},
       {"[]", R"(["red","red","red","red"])", R"(["blue"])", R"([4])"}},
      {R"({"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","maxLength":3}},
          "meta":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":12}},"required":["id"]}},
          "required":["meta"]})",
       {R"({"meta":{"id":12}})", R"({"tags":["a","abc",""],"meta":{"id":1}})"},
       {R"({"meta":{"id":13}})", R"({"meta":{"id":0}})", R"({"tags":["abcd"],"meta":{"id":1}})", R"({"tags":[],"meta":{}})"}},
      {R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},"next":{"anyOf":[{"$ref":"#/$defs/node"},{"type":"null"}]}},
          "required":["v","next"]}},"$ref":"#/$defs/node"})",
       {R"({"v":1,"next":null})", R"({"v":1,"next":{"v":2,"next":null}})"},
       {R"({"v":1})", R"({"v":1,"next":{"v":2}})"}},
      {R"({"type":"object","properties":{"kind":{"const":"point"},"xy":{"type":"array","prefixItems":[{"type":"number"},{"type":"number"}]},
          "label":{"type":["string","null"],"minLength":2}},"required":["kind","xy","label"]})",
       {R"({"kind":"point","xy":[1,2],"label":null})", R"({"kind":"point","xy":[1.5,-2],"label":"ab"})"},
       {R"({"kind":"line","xy":[1,2],"label":null})", R"({"kind":"point","xy":[1],"label":null})", R"({"kind":"point","xy":[1,2],"label":"a"})"}},
  };
  return cases;
}

TEST(JsonSchema, GrammarsAcceptValidAndRejectInvalidInstances) {
  for (const SchemaCase& c : schema_cases()) {
    auto schema = parse_json(c.schema, "schema");
    ASSERT_TRUE(schema.ok()) << schema.message();
    auto text = json_schema_to_gbnf(*schema);
    ASSERT_TRUE(text.ok()) << text.message();
    auto g = compile(*text);
    ASSERT_TRUE(g);
    for (const char* v : c.valid) EXPECT_TRUE(matches(g, v)) << c.schema << "\n  " << v << "\n" << *text;
    for (const char* v : c.invalid) EXPECT_FALSE(matches(g, v)) << c.schema << "\n  " << v << "\n" << *text;
  }
}

TEST(JsonSchema, KeywordsThatCannotBeEnforcedAreErrors) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"string","pattern":"^a"})", "\"pattern\" at # is not supported"},
      {R"({"type":"object","properties":{"x":{"type":"number","maximum":3}}})", "#/properties/x"},
      {R"({"type":"array","uniqueItems":true})", "uniqueItems"},
      {R"({"$ref":"#/$defs/missing"})", "does not name"},
      {R"({"type":"integer","minimum":5})", "minimum other than 0 or 1"},
      {R"({"type":"integer","minimum":0,"maximum":100000})", "more than 4096"},
      {R"({"type":"object","properties":{"a":{}},"required":["b"]})", "\"b\""},
      {R"({"type":"frobnicate"})", "unknown type"},
      {R"(false)", "no value is valid"},
  };
  for (const auto& [schema, want] : cases) {
    auto s = parse_json(schema, "schema");
    ASSERT_TRUE(s.ok());
    auto g = json_schema_to_gbnf(*s);
    ASSERT_FALSE(g.ok()) << schema;
    EXPECT_NE(g.message().find(want), std::string::npos) << schema << " -> " << g.message();
  }
}

// Masks from the trie walk (cached per stack) equal a token-by-token check, along a random
// walk through the grammar.
TEST(TokenMask, EqualsCheckingEveryToken) {
  auto tok = Tokenizer::load_file(test::fixture("pycoder-6m/tokenizer.json"));
  ASSERT_TRUE(tok.ok()) << tok.message();
  auto trie = make_token_trie(*tok, 8192);
  auto schema = parse_json(schema_cases()[3].schema, "schema");
  auto g = compile(*json_schema_to_gbnf(*schema));
  GrammarMatcher m(g, trie);
  GrammarMatcher check(g, trie);
  std::mt19937 rng(5);
  std::vector<uint32_t> words;
  int steps = 0;
  for (; steps < 60; ++steps) {
    m.token_mask(words);
    std::vector<int32_t> allowed;
    for (int32_t id = 0; id < 8192; ++id) {
      const bool bit = (words[size_t(id) >> 5] >> (id & 31)) & 1;
      EXPECT_EQ(bit, check.token_allowed(id)) << "step " << steps << " token " << id << " " << tok->token_text(id);
      if (bit) allowed.push_back(id);
    }
    if (allowed.empty()) break;
    const int32_t pick = allowed[rng() % allowed.size()];
    ASSERT_TRUE(m.accept_token(pick));
    ASSERT_TRUE(check.accept_token(pick));
  }
  EXPECT_GT(steps, 5);
  EXPECT_GT(m.masks_cached(), 0);
}

// A real large vocabulary (Qwen3's 151k tokens): the same equality at a few states of a JSON
// schema's grammar, and what a mask costs there (printed).
TEST(TokenMask, LargeVocabularyMatchesPerTokenChecks) {
  auto tok = Tokenizer::load_file(test::fixture("tokenizers/qwen3.tokenizer.json"));
  ASSERT_TRUE(tok.ok()) << tok.message();
  const int64_t V = tok->vocab_size();
  auto t0 = std::chrono::steady_clock::now();
  auto trie = make_token_trie(*tok, V);
  const double trie_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  auto schema = parse_json(schema_cases()[0].schema, "schema");
  auto g = compile(*json_schema_to_gbnf(*schema));
  GrammarMatcher m(g, trie), check(g, trie);
  std::vector<uint32_t> words;
  for (const char* prefix : {"", "{\"name\": \"Jo", "{\"name\": \"Jo\", \"age\": 4"}) {
    m.reset();
    check.reset();
    ASSERT_TRUE(m.accept_bytes(prefix) && check.accept_bytes(prefix)) << prefix;
    t0 = std::chrono::steady_clock::now();
    m.token_mask(words);
    const double first_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    t0 = std::chrono::steady_clock::now();
    m.token_mask(words);
    const double again_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    int64_t allowed = 0;
    for (int32_t id = 0; id < V; ++id) {
      const bool bit = (words[size_t(id) >> 5] >> (id & 31)) & 1;
      allowed += bit;
      ASSERT_EQ(bit, check.token_allowed(id)) << "after \"" << prefix << "\", token " << id << " " << tok->token_text(id);
    }
    std::printf("qwen3 vocabulary (%lld tokens; trie %.0f ms), after \"%s\": %lld allowed, mask %.2f ms, cached %.3f ms\n",
                (long long)V, trie_ms, prefix, (long long)allowed, first_ms, again_ms);
  }
}

TEST(TokenBytes, ByteLevelAndSentencepieceVocabularies) {
  auto py = Tokenizer::load_file(test::fixture("pycoder-6m/tokenizer.json"));
  ASSERT_TRUE(py.ok());
  // Every token's bytes are what decoding it after other text adds.
  for (int32_t id = 0; id < py->vocab_size(); id += 97) {
    const std::string b = py->token_bytes(id);
    if (py->is_special(id)) {
      EXPECT_TRUE(b.empty());
      continue;
    }
    const std::vector<int32_t> two = {py->encode("x")[0], id};
    const std::string text = py->decode(two);
    if (text.find("\xEF\xBF\xBD") == std::string::npos) EXPECT_EQ("x" + b, text) << id;
  }
  auto l2 = Tokenizer::load_file(test::fixture("tokenizers/llama2.tokenizer.json"));
  ASSERT_TRUE(l2.ok()) << l2.message();
  for (const auto& [text, bytes] : std::vector<std::pair<std::string, std::string>>{
           {"▁Hello", " Hello"}, {"<0xE2>", "\xE2"}, {"</s>", ""}, {"▁the", " the"}}) {
    auto id = l2->token_id(text);
    ASSERT_TRUE(id.has_value()) << text;
    EXPECT_EQ(l2->token_bytes(*id), bytes) << text << " = " << *id << " " << l2->token_text(*id);
  }
}

}  // namespace
}  // namespace hearth
