// Structured output end to end on pycoder-6m (a code model that has never seen these schemas):
// greedy and sampled generation under JSON schemas, json_object and a GBNF grammar always gives
// text that parses and validates (checked by a small validator written here from the JSON Schema
// specification, independent of the converter), and unconstrained tokens are untouched.
#include <cmath>

#include "engine/structured_output.h"
#include "engine/engine.h"
#include "engine/text_stream.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

size_t code_points(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool same_json(const Json& a, const Json& b) { return a.dump() == b.dump(); }

// JSON Schema validation for the keywords the schemas below use.
bool validate(const Json& v, const Json& s, const Json& root, std::string* why) {
  auto fail = [&](const std::string& w) { *why = w + " in " + v.dump(); return false; };
  if (const Json* r = s.find("$ref")) {
    const std::string ref = r->as_string().substr(std::string("#/$defs/").size());
    return validate(v, *root.find("$defs")->find(ref), root, why);
  }
  if (const Json* c = s.find("const"); c && !same_json(*c, v)) return fail("const");
  if (const Json* e = s.find("enum")) {
    bool any = false;
    for (const Json& x : e->as_array()) any = any || same_json(x, v);
    if (!any) return fail("enum");
  }
  if (const Json* a = s.find("anyOf")) {
    bool any = false;
    std::string w;
    for (const Json& x : a->as_array()) any = any || validate(v, x, root, &w);
    if (!any) return fail("anyOf");
  }
  if (const Json* t = s.find("type")) {
    std::vector<std::string> types;
    if (t->is_string()) types.push_back(t->as_string());
    for (const Json& x : t->as_array()) types.push_back(x.as_string());
    bool any = false;
    for (const std::string& ty : types) {
      any = any || (ty == "object" && v.is_object()) || (ty == "array" && v.is_array()) ||
            (ty == "string" && v.is_string()) || (ty == "number" && v.is_number()) ||
            (ty == "integer" && v.is_number() && v.as_double() == std::floor(v.as_double())) ||
            (ty == "boolean" && v.is_bool()) || (ty == "null" && v.is_null());
    }
    if (!any) return fail("type");
  }
  if (v.is_number()) {
    if (const Json* m = s.find("minimum"); m && v.as_double() < m->as_double()) return fail("minimum");
    if (const Json* m = s.find("maximum"); m && v.as_double() > m->as_double()) return fail("maximum");
  }
  if (v.is_string()) {
    if (const Json* m = s.find("minLength"); m && code_points(v.as_string()) < size_t(m->as_int())) return fail("minLength");
    if (const Json* m = s.find("maxLength"); m && code_points(v.as_string()) > size_t(m->as_int())) return fail("maxLength");
  }
  if (v.is_array()) {
    if (const Json* m = s.find("minItems"); m && v.size() < size_t(m->as_int())) return fail("minItems");
    if (const Json* m = s.find("maxItems"); m && v.size() > size_t(m->as_int())) return fail("maxItems");
    if (const Json* it = s.find("items"))
      for (const Json& x : v.as_array())
        if (!validate(x, *it, root, why)) return false;
  }
  if (v.is_object()) {
    const Json* props = s.find("properties");
    if (const Json* req = s.find("required"))
      for (const Json& n : req->as_array())
        if (!v.find(n.as_string())) return fail("required " + n.as_string());
    for (const auto& [k, x] : v.as_object()) {
      const Json* ps = props ? props->find(k) : nullptr;
      if (!ps) {
        const Json* ap = s.find("additionalProperties");
        if (ap && ap->is_bool() && !ap->as_bool()) return fail("additionalProperties " + k);
        continue;
      }
      if (!validate(x, *ps, root, why)) return false;
    }
  }
  return true;
}

const char* kSchemas[] = {
    R"({"type":"object","properties":{"name":{"type":"string","maxLength":12},"age":{"type":"integer","minimum":0,"maximum":120}},
        "required":["name","age"],"additionalProperties":false})",
    R"({"type":"object","properties":{"ok":{"type":"boolean"},"kind":{"enum":["def","class","import"]},
        "score":{"type":"number"},"note":{"type":["string","null"],"maxLength":8}},"required":["ok","kind","score"]})",
    R"({"type":"array","items":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":99},
        "tags":{"type":"array","items":{"type":"string","maxLength":6},"maxItems":3}},"required":["id","tags"]},
        "minItems":1,"maxItems":3})",
    R"({"$defs":{"leaf":{"type":"object","properties":{"v":{"type":"string","maxLength":10},"w":{"type":"integer","minimum":0}},"required":["v"]}},
        "type":"object","properties":{"root":{"$ref":"#/$defs/leaf"},"kids":{"type":"array","items":{"$ref":"#/$defs/leaf"},"maxItems":2}},
        "required":["root","kids"]})",
    R"({"type":"object","properties":{"path":{"type":"string","minLength":1,"maxLength":20},"line":{"type":"integer","minimum":1}},
        "required":["path","line"]})",
};

struct Loaded {
  std::unique_ptr<Engine> engine;
  Tokenizer tok;
  std::shared_ptr<const TokenTrie> trie;
};

Loaded& setup() {
  static Loaded s = [] {
    LoadOptions opt;
    opt.max_ctx = 512;
    Loaded r;
    auto e = Engine::load(fixture("pycoder-6m"), opt);
    EXPECT_TRUE(e.ok()) << e.message();
    r.engine = std::move(*e);
    r.tok = *Tokenizer::load_file(fixture("pycoder-6m/tokenizer.json"));
    r.trie = make_token_trie(r.tok, r.engine->model().config().vocab_size);
    return r;
  }();
  return s;
}

// Generates under `format`; returns the text.
std::string generate(const ResponseFormat& format, float temperature, uint64_t seed, GenerateResult* out) {
  Loaded& s = setup();
  auto g = compile_response_format(format, "response_format");
  EXPECT_TRUE(g.ok()) << g.message();
  GenerateRequest req;
  req.prompt = s.tok.encode("# settings as JSON\nconfig = ");
  req.max_new_tokens = 300;
  req.sampling.temperature = temperature;
  req.sampling.top_p = 0.95f;
  req.sampling.seed = seed;
  req.grammar = std::make_shared<GrammarMatcher>(*g, s.trie);
  auto r = s.engine->generate(req);
  EXPECT_TRUE(r.ok()) << r.message();
  *out = *r;
  std::vector<int32_t> ids = r->ids;
  if (r->stopped_by_token) ids.pop_back();
  return s.tok.decode(ids);
}

TEST(StructuredOutput, SchemasGreedyAndSampledAlwaysValidate) {
  int n = 0;
  for (const char* schema_text : kSchemas) {
    auto schema = parse_json(schema_text, "schema");
    ASSERT_TRUE(schema.ok());
    ResponseFormat f;
    f.kind = ResponseFormat::Kind::JsonSchema;
    f.schema = *schema;
    for (auto [temp, seed] : {std::pair<float, uint64_t>{0.0f, 0}, {1.0f, 1}}) {
      GenerateResult r;
      const std::string text = generate(f, temp, seed, &r);
      ASSERT_TRUE(r.stopped_by_token || r.stopped_by_grammar) << "ran out of tokens: " << text;
      auto v = parse_json(text, "output");
      ASSERT_TRUE(v.ok()) << v.message() << "\n" << text;
      std::string why;
      EXPECT_TRUE(validate(*v, *schema, *schema, &why)) << why << "\nschema " << schema_text;
      ++n;
      if (temp == 0.0f) std::printf("greedy under schema %d: %s\n", n / 2, text.c_str());
    }
  }
}

TEST(StructuredOutput, JsonObjectAndGrammar) {
  ResponseFormat obj;
  obj.kind = ResponseFormat::Kind::JsonObject;
  for (uint64_t seed : {0, 3}) {
    GenerateResult r;
    const std::string text = generate(obj, seed ? 0.7f : 0.0f, seed, &r);
    if (r.stopped_by_token || r.stopped_by_grammar) {
      auto v = parse_json(text, "output");
      ASSERT_TRUE(v.ok()) << v.message() << "\n" << text;
      EXPECT_TRUE(v->is_object());
    } else {
      EXPECT_EQ(text.front(), '{');  // ran out of tokens inside an object: still a prefix
    }
  }
  ResponseFormat gbnf;
  gbnf.kind = ResponseFormat::Kind::Grammar;
  gbnf.grammar = "root ::= \"def \" name \"(\" (name (\", \" name){0,3})? \"):\"\nname ::= [a-z_] [a-z0-9_]{0,11}";
  GenerateResult r;
  const std::string text = generate(gbnf, 0.0f, 0, &r);
  EXPECT_TRUE(r.stopped_by_token || r.stopped_by_grammar);
  auto g = parse_gbnf(gbnf.grammar, "g");
  GrammarMatcher m(std::make_shared<const Grammar>(*g), setup().trie);
  EXPECT_TRUE(m.accept_bytes(text) && m.is_complete()) << text;
  std::printf("greedy under the grammar: %s\n", text.c_str());
}

TEST(StructuredOutput, WithoutAGrammarNothingChanges) {
  Loaded& s = setup();
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  const Json& g0 = ref->find("greedy")->as_array()[0];
  GenerateRequest req;
  req.prompt = test::ids_of(*g0.find("prompt_ids"));
  req.max_new_tokens = 64;
  req.sampling.temperature = 0;
  req.stop_ids = {-1};
  auto r = s.engine->generate(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ids, test::ids_of(*g0.find("greedy")));
}

TEST(StructuredOutput, BadResponseFormatsAreNamed) {
  const std::pair<const char*, const char*> cases[] = {
      {R"({"type":"xml"})", "response_format.type: \"xml\""},
      {R"({"type":"json_schema"})", "needs a schema"},
      {R"({"type":"json_schema","schema":{"type":"string","pattern":"a"}})", "pattern"},
      {R"({"type":"grammar","grammar":"root ::= nope"})", "undefined rule nope"},
      {R"(["json"])", "expected an object"},
  };
  for (const auto& [text, want] : cases) {
    auto j = parse_json(text, "x");
    ASSERT_TRUE(j.ok());
    auto f = parse_response_format(*j, "response_format");
    Status st = f.status();
    if (f.ok()) st = compile_response_format(*f, "response_format").status();
    ASSERT_FALSE(st.ok()) << text;
    EXPECT_NE(st.message().find(want), std::string::npos) << text << " -> " << st.message();
  }
}

}  // namespace
}  // namespace hearth
