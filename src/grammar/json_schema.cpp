// JSON Schema -> GBNF: one rule per schema node, primitives shared.
#include "grammar/json_schema.h"

#include <cmath>
#include <map>
#include <set>

namespace hearth {

namespace {

// Shared rules (referenced by name; only those used are written).
const std::map<std::string, std::string>& primitives() {
  static const std::map<std::string, std::string> p = {
      {"ws", "(\" \" | \"\\n\" [ \\t]{0,16})?"},
      {"char", "[^\"\\\\\\x00-\\x1F] | \"\\\\\" ([\"\\\\/bfnrt] | \"u\" [0-9a-fA-F]{4})"},
      {"string", "\"\\\"\" char* \"\\\"\""},
      {"integer", "\"-\"? (\"0\" | [1-9] [0-9]{0,15})"},
      {"nonneg-integer", "\"0\" | [1-9] [0-9]{0,15}"},
      {"pos-integer", "[1-9] [0-9]{0,15}"},
      {"fraction", "(\".\" [0-9]{1,16})? ([eE] [-+]? [0-9]{1,3})?"},
      {"number", "integer fraction"},
      {"nonneg-number", "nonneg-integer fraction"},
      {"boolean", "\"true\" | \"false\""},
      {"null", "\"null\""},
      {"value", "object | array | string | number | boolean | null"},
      {"object", "\"{\" ws (string ws \":\" ws value ws (\",\" ws string ws \":\" ws value ws)*)? \"}\""},
      {"array", "\"[\" ws (value ws (\",\" ws value ws)*)? \"]\""},
  };
  return p;
}

const std::map<std::string, std::vector<std::string>>& primitive_deps() {
  static const std::map<std::string, std::vector<std::string>> d = {
      {"string", {"char"}},
      {"number", {"integer", "fraction"}},
      {"nonneg-number", {"nonneg-integer", "fraction"}},
      {"value", {"object", "array", "string", "number", "boolean", "null"}},
      {"object", {"ws", "string", "value"}},
      {"array", {"ws", "value"}},
  };
  return d;
}

// A GBNF string literal of raw text.
std::string literal(const std::string& text) {
  std::string out = "\"";
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += char(c);
    } else if (c < 0x20) {
      static const char* hex = "0123456789ABCDEF";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    } else {
      out += char(c);
    }
  }
  return out + "\"";
}

class Converter {
 public:
  explicit Converter(const Json& root) : root_(root) {}

  Result<std::string> run() {
    HEARTH_ASSIGN(std::string top, visit(root_, "#"));
    std::string out = "root ::= " + top + "\n";
    for (const auto& [name, body] : rules_) out += name + " ::= " + body + "\n";
    std::set<std::string> done;
    std::vector<std::string> todo(used_.begin(), used_.end());
    while (!todo.empty()) {
      std::string p = todo.back();
      todo.pop_back();
      if (!done.insert(p).second) continue;
      out += p + " ::= " + primitives().at(p) + "\n";
      auto d = primitive_deps().find(p);
      if (d != primitive_deps().end()) todo.insert(todo.end(), d->second.begin(), d->second.end());
    }
    return out;
  }

 private:
  const Json& root_;
  std::vector<std::pair<std::string, std::string>> rules_;
  std::map<std::string, std::string> ref_rules_;  // $ref -> rule name
  std::set<std::string> used_;
  int counter_ = 0;

  std::string prim(const std::string& name) {
    used_.insert(name);
    return name;
  }
  std::string add_rule(const std::string& body) {
    std::string name = "r" + std::to_string(++counter_);
    rules_.push_back({name, body});
    return name;
  }

  Result<std::string> visit(const Json& s, const std::string& at) {
    if (s.is_bool()) {
      if (!s.as_bool()) return err("json schema: ", at, " is false (no value is valid)");
      return prim("value");
    }
    if (!s.is_object()) return err("json schema: ", at, " must be an object or a boolean");
    static const std::set<std::string> known = {
        "type", "enum", "const", "properties", "required", "additionalProperties", "items", "prefixItems",
        "minItems", "maxItems", "minLength", "maxLength", "minimum", "maximum", "anyOf", "oneOf", "allOf", "$ref",
        "$defs", "definitions", "nullable", "description", "title", "default", "examples", "$schema", "$id",
        "format", "$comment", "exclusiveMinimum", "exclusiveMaximum", "readOnly", "writeOnly", "deprecated"};
    for (const auto& [k, v] : s.as_object()) {
      if (!known.count(k)) return err("json schema: \"", k, "\" at ", at, " is not supported");
    }
    HEARTH_ASSIGN(std::string body, visit_inner(s, at));
    if (const Json* n = s.find("nullable"); n && n->is_bool() && n->as_bool()) body = "(" + body + ") | " + prim("null");
    return "(" + body + ")";
  }

  Result<std::string> visit_inner(const Json& s, const std::string& at) {
    if (const Json* r = s.find_non_null("$ref")) return visit_ref(*r, at);
    if (const Json* c = s.find("const")) return literal(c->dump());
    if (const Json* e = s.find_non_null("enum")) {
      if (!e->is_array() || e->size() == 0) return err("json schema: enum at ", at, " must be a non-empty array");
      std::string alts;
      for (const Json& v : e->as_array()) alts += (alts.empty() ? "" : " | ") + literal(v.dump());
      return alts;
    }
    for (const char* key : {"anyOf", "oneOf"}) {
      if (const Json* a = s.find_non_null(key)) {
        if (!a->is_array() || a->size() == 0) return err("json schema: ", key, " at ", at, " must be a non-empty array");
        std::string alts;
        for (size_t i = 0; i < a->size(); ++i) {
          HEARTH_ASSIGN(std::string x, visit((*a)[i], at + "/" + key + "/" + std::to_string(i)));
          alts += (alts.empty() ? "" : " | ") + x;
        }
        return alts;
      }
    }
    if (const Json* a = s.find_non_null("allOf")) {
      if (!a->is_array() || a->size() != 1) return err("json schema: allOf at ", at, " with more than one schema is not supported");
      return visit((*a)[0], at + "/allOf/0");
    }
    const Json* t = s.find_non_null("type");
    if (!t) {
      if (s.find("properties")) return object(s, at);
      if (s.find("items") || s.find("prefixItems")) return array(s, at);
      return prim("value");
    }
    if (t->is_array()) {
      std::string alts;
      for (const Json& x : t->as_array()) {
        if (!x.is_string()) return err("json schema: type at ", at, " must be a string or a list of strings");
        HEARTH_ASSIGN(std::string one, typed(s, x.as_string(), at));
        alts += (alts.empty() ? "" : " | ") + std::string("(") + one + ")";
      }
      if (alts.empty()) return err("json schema: type at ", at, " is an empty list");
      return alts;
    }
    if (!t->is_string()) return err("json schema: type at ", at, " must be a string or a list of strings");
    return typed(s, t->as_string(), at);
  }

  Result<std::string> visit_ref(const Json& r, const std::string& at) {
    if (!r.is_string()) return err("json schema: $ref at ", at, " must be a string");
    const std::string& ref = r.as_string();
    auto it = ref_rules_.find(ref);
    if (it != ref_rules_.end()) return it->second;
    std::string key;
    for (const char* prefix : {"#/$defs/", "#/definitions/"}) {
      if (ref.rfind(prefix, 0) == 0) {
        const Json* defs = root_.find(std::string(prefix).substr(2, std::string(prefix).size() - 3));
        key = ref.substr(std::string(prefix).size());
        if (defs && defs->find(key)) {
          // Named before visiting, so recursive references find it.
          const std::string name = "d" + std::to_string(++counter_);
          ref_rules_[ref] = name;
          HEARTH_ASSIGN(std::string body, visit(*defs->find(key), ref));
          rules_.push_back({name, body});
          return name;
        }
      }
    }
    return err("json schema: $ref \"", ref, "\" at ", at, " does not name an entry of #/$defs or #/definitions");
  }

  Result<std::string> typed(const Json& s, const std::string& type, const std::string& at) {
    if (type == "object") return object(s, at);
    if (type == "array") return array(s, at);
    if (type == "string") return string(s, at);
    if (type == "integer") return integer(s, at);
    if (type == "number") {
      const Json* mn = s.find_non_null("minimum");
      if (s.find_non_null("maximum") || s.find_non_null("exclusiveMinimum") || s.find_non_null("exclusiveMaximum") ||
          (mn && !(mn->is_number() && mn->as_double() == 0))) {
        return err("json schema: number bounds at ", at, " other than minimum 0 are not supported");
      }
      return prim(mn ? "nonneg-number" : "number");
    }
    if (type == "boolean") return prim("boolean");
    if (type == "null") return prim("null");
    return err("json schema: unknown type \"", type, "\" at ", at);
  }

  Result<std::string> integer(const Json& s, const std::string& at) {
    const Json* mn = s.find_non_null("minimum");
    const Json* mx = s.find_non_null("maximum");
    if (s.find_non_null("exclusiveMinimum") || s.find_non_null("exclusiveMaximum"))
      return err("json schema: exclusiveMinimum / exclusiveMaximum at ", at, " are not supported (use minimum / maximum)");
    if ((mn && !mn->is_number()) || (mx && !mx->is_number())) return err("json schema: minimum / maximum at ", at, " must be numbers");
    if (mn && mx) {
      const double lo = std::ceil(mn->as_double()), hi = std::floor(mx->as_double());
      if (hi < lo) return err("json schema: no integer lies between minimum and maximum at ", at);
      if (hi - lo >= 4096) return err("json schema: integer ranges of more than 4096 values at ", at, " are not supported");
      std::string alts;
      for (int64_t v = int64_t(lo); v <= int64_t(hi); ++v) alts += (alts.empty() ? "" : " | ") + literal(std::to_string(v));
      return add_rule(alts);
    }
    if (mx) return err("json schema: maximum without minimum at ", at, " is not supported");
    if (!mn) return prim("integer");
    if (mn->as_double() == 0) return prim("nonneg-integer");
    if (mn->as_double() == 1) return prim("pos-integer");
    return err("json schema: integer minimum other than 0 or 1 without a maximum at ", at, " is not supported");
  }

  Result<int64_t> count(const Json& s, const char* key, int64_t dflt, const std::string& at) {
    const Json* v = s.find_non_null(key);
    if (!v) return dflt;
    if (!v->is_number() || v->as_double() < 0 || v->as_double() != std::floor(v->as_double()) || v->as_double() > 10000)
      return err("json schema: ", key, " at ", at, " must be a whole number in [0, 10000]");
    return int64_t(v->as_double());
  }

  Result<std::string> string(const Json& s, const std::string& at) {
    HEARTH_ASSIGN(int64_t lo, count(s, "minLength", 0, at));
    HEARTH_ASSIGN(int64_t hi, count(s, "maxLength", -1, at));
    if (hi >= 0 && hi < lo) return err("json schema: maxLength < minLength at ", at);
    if (lo == 0 && hi < 0) return prim("string");
    prim("char");
    return "\"\\\"\" char{" + std::to_string(lo) + "," + (hi >= 0 ? std::to_string(hi) : "") + "} \"\\\"\"";
  }

  Result<std::string> array(const Json& s, const std::string& at) {
    prim("ws");
    std::string items;
    const Json* prefix = s.find_non_null("prefixItems");
    if (prefix) {
      if (!prefix->is_array() || prefix->size() == 0) return err("json schema: prefixItems at ", at, " must be a non-empty array");
      std::string seq;
      for (size_t i = 0; i < prefix->size(); ++i) {
        HEARTH_ASSIGN(std::string x, visit((*prefix)[i], at + "/prefixItems/" + std::to_string(i)));
        seq += (i ? " \",\" ws " : "") + x + " ws";
      }
      return "\"[\" ws " + seq + " \"]\"";
    }
    if (const Json* it = s.find("items")) {
      HEARTH_ASSIGN(items, visit(*it, at + "/items"));
    } else {
      items = prim("value");
    }
    const std::string item = add_rule(items + " ws");
    HEARTH_ASSIGN(int64_t lo, count(s, "minItems", 0, at));
    HEARTH_ASSIGN(int64_t hi, count(s, "maxItems", -1, at));
    if (hi >= 0 && hi < lo) return err("json schema: maxItems < minItems at ", at);
    if (hi == 0) return std::string("\"[\" ws \"]\"");
    const std::string more = "(\",\" ws " + item + ")";
    auto rep = [](int64_t a, int64_t b) { return "{" + std::to_string(a) + "," + (b >= 0 ? std::to_string(b) : "") + "}"; };
    const std::string list = item + " " + more + rep(std::max<int64_t>(0, lo - 1), hi >= 0 ? hi - 1 : -1);
    return "\"[\" ws " + (lo == 0 ? "(" + list + ")?" : list) + " \"]\"";
  }

  Result<std::string> object(const Json& s, const std::string& at) {
    prim("ws");
    prim("string");
    const Json* props = s.find_non_null("properties");
    const Json* extra = s.find_non_null("additionalProperties");
    if (!props || props->size() == 0) {
      if (extra && extra->is_object()) {
        HEARTH_ASSIGN(std::string v, visit(*extra, at + "/additionalProperties"));
        const std::string kv = add_rule("string ws \":\" ws " + v + " ws");
        return "\"{\" ws (" + kv + " (\",\" ws " + kv + ")*)? \"}\"";
      }
      if (extra && extra->is_bool() && !extra->as_bool()) return std::string("\"{\" ws \"}\"");
      return prim("object");
    }
    if (!props->is_object()) return err("json schema: properties at ", at, " must be an object");
    std::set<std::string> required;
    if (const Json* r = s.find_non_null("required")) {
      if (!r->is_array()) return err("json schema: required at ", at, " must be an array of names");
      for (const Json& n : r->as_array()) {
        if (!n.is_string()) return err("json schema: required at ", at, " must be an array of names");
        if (!props->find(n.as_string())) return err("json schema: required property \"", n.as_string(), "\" at ", at, " is not in properties");
        required.insert(n.as_string());
      }
    }
    // kv_i for each property; first_i / after_i: the properties from i on, before / after one
    // was written (after_i puts a comma before each).
    const auto& list = props->as_object();
    const size_t n = list.size();
    std::vector<std::string> kv(n);
    for (size_t i = 0; i < n; ++i) {
      HEARTH_ASSIGN(std::string v, visit(list[i].second, at + "/properties/" + list[i].first));
      kv[i] = add_rule(literal(Json::string(list[i].first).dump()) + " ws \":\" ws " + v + " ws");
    }
    std::vector<std::string> after(n + 1), first(n + 1);
    after[n] = "";
    first[n] = "";
    for (size_t i = n; i-- > 0;) {
      const bool req = required.count(list[i].first) > 0;
      const std::string with = "\",\" ws " + kv[i] + (after[i + 1].empty() ? "" : " " + after[i + 1]);
      after[i] = add_rule(req ? with : "(" + with + ")" + (after[i + 1].empty() ? "?" : " | " + after[i + 1]));
      const std::string lead = kv[i] + (after[i + 1].empty() ? "" : " " + after[i + 1]);
      if (req) first[i] = add_rule(lead);
      else if (first[i + 1].empty()) first[i] = add_rule("(" + lead + ")?");
      else first[i] = add_rule(lead + " | " + first[i + 1]);
    }
    return "\"{\" ws " + first[0] + " \"}\"";
  }
};

}  // namespace

Result<std::string> json_schema_to_gbnf(const Json& schema) { return Converter(schema).run(); }

std::string json_object_gbnf() {
  std::string out = "root ::= object\n";
  for (const char* p : {"ws", "char", "string", "integer", "fraction", "number", "boolean", "null", "value", "object", "array"})
    out += std::string(p) + " ::= " + primitives().at(p) + "\n";
  return out;
}

}  // namespace hearth
