// Jinja values with Python semantics: truthiness, str()/repr(), equality and ordering, JSON
// in (from our Json tree) and out (json.dumps as transformers' tojson calls it), UTF-8 helpers.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "chat/jinja.h"

namespace hearth::jinja {

Value Value::list_of(List x, bool tuple) {
  Value v;
  v.type = Type::List;
  v.is_tuple = tuple;
  int d = 0;
  for (const Value& item : x) d = std::max<int>(d, item.depth);
  v.depth = uint16_t(std::min(d + 1, kMaxValueDepth + 1));
  v.list = std::make_shared<List>(std::move(x));
  return v;
}

Value Value::dict_of(Dict x) {
  Value v;
  v.type = Type::Dict;
  int d = 0;
  for (const auto& kv : x) d = std::max<int>(d, kv.second.depth);
  v.depth = uint16_t(std::min(d + 1, kMaxValueDepth + 1));
  v.dict = std::make_shared<Dict>(std::move(x));
  return v;
}

const Value* Value::find(std::string_view key) const {
  if (type != Type::Dict || !dict) return nullptr;
  for (const auto& kv : *dict)
    if (kv.first == key) return &kv.second;
  return nullptr;
}

bool truthy(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined:
    case Value::Type::None: return false;
    case Value::Type::Bool: return v.b;
    case Value::Type::Int: return v.i != 0;
    case Value::Type::Float: return v.f != 0.0;
    case Value::Type::String: return !v.s.empty();
    case Value::Type::List: return !v.list->empty();
    case Value::Type::Dict: return v.is_namespace || !v.dict->empty();
    case Value::Type::Function: return true;
  }
  return false;
}

std::string format_float(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  // Shortest digits that round-trip (what Python's repr prints).
  char buf[64];
  int prec = 1;
  for (; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*e", prec - 1, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  // buf = [-]D.DDDDe[+-]XX: split into digits and decimal exponent.
  std::string s(buf);
  bool neg = s[0] == '-';
  if (neg) s.erase(0, 1);
  size_t e = s.find('e');
  int exp10 = std::atoi(s.c_str() + e + 1);
  std::string digits;
  for (size_t i = 0; i < e; ++i)
    if (s[i] != '.') digits += s[i];
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  std::string out = neg ? "-" : "";
  if (exp10 < -4 || exp10 >= 16) {
    out += digits[0];
    if (digits.size() > 1) {
      out += '.';
      out.append(digits, 1, std::string::npos);
    }
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp10 < 0 ? '-' : '+', std::abs(exp10));
    return out + eb;
  }
  if (exp10 < 0) {
    out.append("0.");
    out.append(size_t(-exp10 - 1), '0');
    out.append(digits);
    return out;
  }
  const size_t int_len = size_t(exp10) + 1;
  if (digits.size() <= int_len) return out + digits + std::string(int_len - digits.size(), '0') + ".0";
  return out + digits.substr(0, int_len) + "." + digits.substr(int_len);
}

namespace {

// Values nest this deep at most when printed or compared (a namespace can contain itself).
constexpr int kMaxNesting = 100;

std::string repr_string(const std::string& s) {
  const bool has_single = s.find('\'') != std::string::npos;
  const bool has_double = s.find('"') != std::string::npos;
  const char q = (has_single && !has_double) ? '"' : '\'';
  std::string out(1, q);
  for (unsigned char c : s) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c == static_cast<unsigned char>(q)) {
          out += '\\';
          out += char(c);
        } else if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += char(c);
        }
    }
  }
  return out + q;
}

void json_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char b[8];
          std::snprintf(b, sizeof b, "\\u%04x", c);
          out += b;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

Status json_value(std::string& out, const Value& v, int indent, int level, const std::string& item_sep,
                  const std::string& key_sep, bool sort_keys) {
  if (level > kMaxNesting) return err("tojson: value nested too deeply (or containing itself)");
  auto newline = [&](int lvl) {
    out += '\n';
    out.append(size_t(indent) * size_t(lvl), ' ');
  };
  switch (v.type) {
    case Value::Type::None: out += "null"; return {};
    case Value::Type::Bool: out += v.b ? "true" : "false"; return {};
    case Value::Type::Int: out += std::to_string(v.i); return {};
    case Value::Type::Float:
      if (std::isnan(v.f)) out += "NaN";
      else if (std::isinf(v.f)) out += v.f < 0 ? "-Infinity" : "Infinity";
      else out += format_float(v.f);
      return {};
    case Value::Type::String: json_string(out, v.s); return {};
    case Value::Type::List: {
      if (v.list->empty()) { out += "[]"; return {}; }
      out += '[';
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i) out += item_sep;
        if (indent >= 0) newline(level + 1);
        HEARTH_CHECK(json_value(out, (*v.list)[i], indent, level + 1, item_sep, key_sep, sort_keys));
      }
      if (indent >= 0) newline(level);
      out += ']';
      return {};
    }
    case Value::Type::Dict: {
      if (v.dict->empty()) { out += "{}"; return {}; }
      std::vector<const std::pair<std::string, Value>*> items;
      for (const auto& kv : *v.dict) items.push_back(&kv);
      if (sort_keys)
        std::stable_sort(items.begin(), items.end(), [](auto* a, auto* b) { return a->first < b->first; });
      out += '{';
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += item_sep;
        if (indent >= 0) newline(level + 1);
        json_string(out, items[i]->first);
        out += key_sep;
        HEARTH_CHECK(json_value(out, items[i]->second, indent, level + 1, item_sep, key_sep, sort_keys));
      }
      if (indent >= 0) newline(level);
      out += '}';
      return {};
    }
    case Value::Type::Undefined:
      return err("tojson: '", v.s.empty() ? std::string("value") : v.s, "' is undefined");
    case Value::Type::Function: return err("tojson: a function is not JSON serializable");
  }
  return {};
}

}  // namespace

std::string to_str(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined: return "";
    case Value::Type::String: return v.s;
    default: return repr(v);
  }
}

namespace {
std::string repr_at(const Value& v, int depth);
}  // namespace

std::string repr(const Value& v) { return repr_at(v, 0); }

namespace {

std::string repr_at(const Value& v, int depth) {
  if (depth > kMaxNesting) return "...";
  switch (v.type) {
    case Value::Type::Undefined: return "";
    case Value::Type::None: return "None";
    case Value::Type::Bool: return v.b ? "True" : "False";
    case Value::Type::Int: return std::to_string(v.i);
    case Value::Type::Float: return format_float(v.f);
    case Value::Type::String: return repr_string(v.s);
    case Value::Type::List: {
      std::string out = v.is_tuple ? "(" : "[";
      for (size_t i = 0; i < v.list->size(); ++i) {
        if (i) out += ", ";
        out += repr_at((*v.list)[i], depth + 1);
      }
      if (v.is_tuple && v.list->size() == 1) out += ",";
      return out + (v.is_tuple ? ")" : "]");
    }
    case Value::Type::Dict: {
      std::string out = v.is_namespace ? "<Namespace {" : "{";
      bool first = true;
      for (const auto& kv : *v.dict) {
        if (!first) out += ", ";
        first = false;
        out += repr_string(kv.first) + ": " + repr_at(kv.second, depth + 1);
      }
      return out + (v.is_namespace ? "}>" : "}");
    }
    case Value::Type::Function: return "<function>";
  }
  return "";
}

}  // namespace

std::string type_name(const Value& v) {
  switch (v.type) {
    case Value::Type::Undefined: return "Undefined";
    case Value::Type::None: return "NoneType";
    case Value::Type::Bool: return "bool";
    case Value::Type::Int: return "int";
    case Value::Type::Float: return "float";
    case Value::Type::String: return "str";
    case Value::Type::List: return v.is_tuple ? "tuple" : "list";
    case Value::Type::Dict: return v.is_namespace ? "Namespace" : "dict";
    case Value::Type::Function: return "function";
  }
  return "?";
}

namespace {
bool equals_at(const Value& a, const Value& b, int depth);
}  // namespace

bool equals(const Value& a, const Value& b) { return equals_at(a, b, 0); }

namespace {

bool equals_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxNesting) return false;
  if (a.is_number() && b.is_number()) {
    if (a.type != Value::Type::Float && b.type != Value::Type::Float)
      return a.as_int() == b.as_int();
    return a.as_double() == b.as_double();
  }
  if (a.type != b.type) return false;
  switch (a.type) {
    case Value::Type::Undefined:
    case Value::Type::None: return true;
    case Value::Type::String: return a.s == b.s;
    case Value::Type::List:
      if (a.list->size() != b.list->size()) return false;
      for (size_t i = 0; i < a.list->size(); ++i)
        if (!equals_at((*a.list)[i], (*b.list)[i], depth + 1)) return false;
      return true;
    case Value::Type::Dict:
      if (a.dict == b.dict) return true;
      if (a.is_namespace || b.is_namespace || a.dict->size() != b.dict->size()) return false;
      for (const auto& kv : *a.dict) {
        const Value* o = b.find(kv.first);
        if (!o || !equals_at(kv.second, *o, depth + 1)) return false;
      }
      return true;
    case Value::Type::Function: return a.fn == b.fn;
    default: return false;
  }
}

}  // namespace

namespace {
Result<bool> less_at(const Value& a, const Value& b, int depth) {
  if (depth > kMaxNesting) return err("'<': values nested too deeply to compare");
  if (a.is_number() && b.is_number()) {
    if (a.type != Value::Type::Float && b.type != Value::Type::Float) return a.as_int() < b.as_int();
    return a.as_double() < b.as_double();
  }
  if (a.is_string() && b.is_string()) return a.s < b.s;  // bytewise == code point order
  if (a.is_list() && b.is_list()) {
    const size_t n = std::min(a.list->size(), b.list->size());
    for (size_t i = 0; i < n; ++i) {
      const Value &x = (*a.list)[i], &y = (*b.list)[i];
      if (equals(x, y)) continue;
      return less_at(x, y, depth + 1);
    }
    return a.list->size() < b.list->size();
  }
  return err("'<' not supported between instances of '", type_name(a), "' and '", type_name(b), "'");
}
}  // namespace

Result<bool> less(const Value& a, const Value& b) { return less_at(a, b, 0); }

Result<std::string> to_json(const Value& v, int indent, const std::string& item_sep,
                            const std::string& key_sep, bool sort_keys) {
  std::string out;
  HEARTH_CHECK(json_value(out, v, indent, 0, item_sep, key_sep, sort_keys));
  return out;
}

Value from_json(const Json& j) {
  switch (j.kind()) {
    case Json::Kind::Null: return Value::none();
    case Json::Kind::Bool: return Value::boolean(j.as_bool());
    case Json::Kind::Number:
      return j.is_integer() ? Value::integer(j.as_int()) : Value::number(j.as_double());
    case Json::Kind::String: return Value::string(j.as_string());
    case Json::Kind::Array: {
      List l;
      for (const auto& x : j.as_array()) l.push_back(from_json(x));
      return Value::list_of(std::move(l));
    }
    case Json::Kind::Object: {
      Dict d;
      for (const auto& kv : j.as_object()) d.emplace_back(kv.first, from_json(kv.second));
      return Value::dict_of(std::move(d));
    }
  }
  return Value::none();
}

std::vector<uint32_t> decode_utf8(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
    bool ok = len > 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) ok = (static_cast<unsigned char>(s[i + k]) & 0xc0) == 0x80;
    if (!ok) {
      out.push_back(0x80000000u | c);  // a stray byte, kept as itself
      ++i;
      continue;
    }
    uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3fu);
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string encode_utf8(const std::vector<uint32_t>& cps, size_t from, size_t to) {
  std::string out;
  to = std::min(to, cps.size());
  for (size_t i = from; i < to; ++i) {
    if (cps[i] & 0x80000000u) out += char(cps[i] & 0xff);
    else append_utf8(out, cps[i]);
  }
  return out;
}

size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xc0) != 0x80;
  return n;
}

}  // namespace hearth::jinja
