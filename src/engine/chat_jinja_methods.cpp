// Python string and dict methods for the Jinja subset (str.strip/split/startswith/replace/...,
// dict.items/keys/values/get), attribute and item lookup, and the string helpers the filters
// share. Case mapping is ASCII-only; the rest follows Python on UTF-8 text.
#include <algorithm>
#include <cctype>

#include "engine/chat_jinja.h"

namespace hearth::jinja {

namespace {
Error at(int line, const std::string& msg) { return err("chat template line ", line, ": ", msg); }
}  // namespace

Value get_arg(const Args& a, size_t idx, const char* name, Value dflt) {
  if (idx < a.pos.size()) return a.pos[idx];
  for (const auto& kv : a.kw)
    if (kv.first == name) return kv.second;
  return dflt;
}

bool py_space(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
  const auto cps = decode_utf8(s);
  std::vector<uint32_t> set;
  const bool ws = !chars.is_string();
  if (!ws) set = decode_utf8(chars.s);
  auto drop = [&](uint32_t c) { return ws ? py_space(c) : std::find(set.begin(), set.end(), c) != set.end(); };
  size_t b = 0, e = cps.size();
  if (left) while (b < e && drop(cps[b])) ++b;
  if (right) while (e > b && drop(cps[e - 1])) --e;
  return encode_utf8(cps, b, e);
}

std::string ascii_map(std::string s, int (*f)(int)) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x80) c = char(f(static_cast<unsigned char>(c)));
  return s;
}
std::string py_title(const std::string& s) {
  std::string out = s;
  bool prev_alpha = false;
  for (char& c : out) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (alpha) c = char(prev_alpha ? std::tolower(static_cast<unsigned char>(c)) : std::toupper(static_cast<unsigned char>(c)));
    prev_alpha = alpha || (static_cast<unsigned char>(c) >= 0x80);
  }
  return out;
}
std::string py_capitalize(const std::string& s) {
  std::string out = ascii_map(s, [](int c) { return std::tolower(c); });
  if (!out.empty()) out[0] = char(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

List py_split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right) {
  List out;
  if (!sep.is_string()) {
    const auto cps = decode_utf8(s);
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && py_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t j = i;
      while (j < cps.size() && !py_space(cps[j])) ++j;
      words.emplace_back(i, j);
      i = j;
    }
    if (maxsplit >= 0 && int64_t(words.size()) > maxsplit + 1) {
      if (from_right) {
        const size_t keep = words.size() - size_t(maxsplit);
        size_t first_end = words[keep - 1].second;
        out.push_back(Value::string(encode_utf8(cps, words[0].first, first_end)));
        for (size_t k = keep; k < words.size(); ++k)
          out.push_back(Value::string(encode_utf8(cps, words[k].first, words[k].second)));
        return out;
      }
      for (size_t k = 0; k < size_t(maxsplit); ++k)
        out.push_back(Value::string(encode_utf8(cps, words[k].first, words[k].second)));
      size_t e = cps.size();
      while (e > 0 && py_space(cps[e - 1])) --e;
      out.push_back(Value::string(encode_utf8(cps, words[size_t(maxsplit)].first, e)));
      return out;
    }
    for (auto& w : words) out.push_back(Value::string(encode_utf8(cps, w.first, w.second)));
    return out;
  }
  const std::string& d = sep.s;
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(d, start);
    if (p == std::string::npos) break;
    parts.push_back(s.substr(start, p - start));
    start = p + d.size();
  }
  parts.push_back(s.substr(start));
  if (maxsplit >= 0 && int64_t(parts.size()) > maxsplit + 1) {
    std::vector<std::string> merged;
    if (from_right) {
      const size_t head = parts.size() - size_t(maxsplit);
      std::string first;
      for (size_t k = 0; k < head; ++k) first += (k ? d : "") + parts[k];
      merged.push_back(first);
      merged.insert(merged.end(), parts.begin() + ptrdiff_t(head), parts.end());
    } else {
      merged.assign(parts.begin(), parts.begin() + maxsplit);
      std::string rest;
      for (size_t k = size_t(maxsplit); k < parts.size(); ++k) rest += (k > size_t(maxsplit) ? d : "") + parts[k];
      merged.push_back(rest);
    }
    parts = merged;
  }
  for (auto& p : parts) out.push_back(Value::string(p));
  return out;
}

std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count) {
  if (from.empty()) {
    // Python inserts `to` between every character (and at both ends).
    const auto cps = decode_utf8(s);
    std::string out;
    int64_t n = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (k < cps.size()) out += encode_utf8(cps, k, k + 1);
    }
    return out;
  }
  std::string out;
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t p = s.find(from, start);
    if (p == std::string::npos) break;
    out += s.substr(start, p - start) + to;
    start = p + from.size();
    ++n;
  }
  return out + s.substr(start);
}

Result<List> as_sequence(const Value& v, int line) {
  switch (v.type) {
    case Value::Type::List: return *v.list;
    case Value::Type::Dict: {
      List keys;
      for (const auto& kv : *v.dict) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Value::Type::String: {
      List out;
      const auto cps = decode_utf8(v.s);
      for (size_t k = 0; k < cps.size(); ++k) out.push_back(Value::string(encode_utf8(cps, k, k + 1)));
      return out;
    }
    case Value::Type::Undefined: return List{};
    default: {
      std::string msg(1, '\'');
      msg += type_name(v);
      msg += "' object is not iterable";
      return at(line, msg);
    }
  }
}

namespace {

Value bound(std::function<Result<Value>(Args&)> f) { return Value::function(std::move(f)); }

Value string_method(const std::string& s, const std::string& name) {
  auto sv = s;
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    const bool l = name != "rstrip", r = name != "lstrip";
    return bound([sv, l, r](Args& a) -> Result<Value> { return Value::string(py_strip(sv, get_arg(a, 0, "chars"), l, r)); });
  }
  if (name == "split" || name == "rsplit") {
    const bool right = name == "rsplit";
    return bound([sv, right](Args& a) -> Result<Value> {
      const Value sep = get_arg(a, 0, "sep");
      const Value ms = get_arg(a, 1, "maxsplit", Value::integer(-1));
      if (sep.is_string() && sep.s.empty()) return err("split: empty separator");
      return Value::list_of(py_split(sv, sep, ms.i, right));
    });
  }
  if (name == "startswith" || name == "endswith") {
    const bool start = name == "startswith";
    return bound([sv, start](Args& a) -> Result<Value> {
      const Value p = get_arg(a, 0, "prefix");
      List cands = p.is_list() ? *p.list : List{p};
      for (const auto& c : cands) {
        if (!c.is_string()) return err(start ? "startswith" : "endswith", " first arg must be str or a tuple of str");
        const bool hit = start ? sv.compare(0, c.s.size(), c.s) == 0
                               : (sv.size() >= c.s.size() && sv.compare(sv.size() - c.s.size(), c.s.size(), c.s) == 0);
        if (hit) return Value::boolean(true);
      }
      return Value::boolean(false);
    });
  }
  if (name == "upper") return bound([sv](Args&) -> Result<Value> { return Value::string(ascii_map(sv, [](int c) { return std::toupper(c); })); });
  if (name == "lower") return bound([sv](Args&) -> Result<Value> { return Value::string(ascii_map(sv, [](int c) { return std::tolower(c); })); });
  if (name == "title") return bound([sv](Args&) -> Result<Value> { return Value::string(py_title(sv)); });
  if (name == "capitalize") return bound([sv](Args&) -> Result<Value> { return Value::string(py_capitalize(sv)); });
  if (name == "replace")
    return bound([sv](Args& a) -> Result<Value> {
      const Value from = get_arg(a, 0, "old"), to = get_arg(a, 1, "new"), n = get_arg(a, 2, "count", Value::integer(-1));
      if (!from.is_string() || !to.is_string()) return err("replace() arguments must be str");
      return Value::string(py_replace(sv, from.s, to.s, n.i));
    });
  if (name == "find" || name == "rfind" || name == "count" || name == "index") {
    return bound([sv, name](Args& a) -> Result<Value> {
      const Value sub = get_arg(a, 0, "sub");
      if (!sub.is_string()) return err(name, "() argument must be str");
      if (name == "count") {
        if (sub.s.empty()) return Value::integer(int64_t(utf8_length(sv)) + 1);
        int64_t n = 0;
        for (size_t p = sv.find(sub.s); p != std::string::npos; p = sv.find(sub.s, p + sub.s.size())) ++n;
        return Value::integer(n);
      }
      const size_t p = name == "rfind" ? sv.rfind(sub.s) : sv.find(sub.s);
      if (p == std::string::npos) {
        if (name == "index") return err("substring not found");
        return Value::integer(-1);
      }
      return Value::integer(int64_t(utf8_length(std::string_view(sv).substr(0, p))));
    });
  }
  if (name == "join")
    return bound([sv](Args& a) -> Result<Value> {
      const Value items = get_arg(a, 0, "iterable");
      HEARTH_ASSIGN(List l, as_sequence(items, 0));
      std::string out;
      for (size_t k = 0; k < l.size(); ++k) {
        if (!l[k].is_string()) return err("join: sequence item ", k, ": expected str instance, ", type_name(l[k]), " found");
        out += (k ? sv : "") + l[k].s;
      }
      return Value::string(out);
    });
  if (name == "isdigit" || name == "isalpha" || name == "isalnum" || name == "isspace" || name == "islower" ||
      name == "isupper")
    return bound([sv, name](Args&) -> Result<Value> {
      if (sv.empty()) return Value::boolean(false);
      const auto cps = decode_utf8(sv);
      bool ok = true, cased = false;
      for (uint32_t c : cps) {
        if (name == "isspace") ok &= py_space(c);
        else if (c >= 0x80) ok &= name == "isalpha" || name == "isalnum";
        else if (name == "isdigit") ok &= std::isdigit(int(c)) != 0;
        else if (name == "isalpha") ok &= std::isalpha(int(c)) != 0;
        else if (name == "isalnum") ok &= std::isalnum(int(c)) != 0;
        else if (name == "islower") { ok &= !std::isupper(int(c)); cased |= std::islower(int(c)) != 0; }
        else { ok &= !std::islower(int(c)); cased |= std::isupper(int(c)) != 0; }
      }
      if (name == "islower" || name == "isupper") ok &= cased;
      return Value::boolean(ok);
    });
  if (name == "splitlines")
    return bound([sv](Args&) -> Result<Value> {
      List out;
      size_t start = 0;
      for (size_t k = 0; k < sv.size(); ++k) {
        if (sv[k] == '\n' || sv[k] == '\r') {
          out.push_back(Value::string(sv.substr(start, k - start)));
          if (sv[k] == '\r' && k + 1 < sv.size() && sv[k + 1] == '\n') ++k;
          start = k + 1;
        }
      }
      if (start < sv.size()) out.push_back(Value::string(sv.substr(start)));
      return Value::list_of(std::move(out));
    });
  return Value::undefined(name);
}

Value dict_method(const Value& d, const std::string& name) {
  if (name == "items" || name == "keys" || name == "values") {
    return bound([d, name](Args&) -> Result<Value> {
      List out;
      for (const auto& kv : *d.dict) {
        if (name == "keys") out.push_back(Value::string(kv.first));
        else if (name == "values") out.push_back(kv.second);
        else out.push_back(Value::list_of({Value::string(kv.first), kv.second}, true));
      }
      return Value::list_of(std::move(out));
    });
  }
  if (name == "get")
    return bound([d](Args& a) -> Result<Value> {
      const Value key = get_arg(a, 0, "key");
      const Value* v = key.is_string() ? d.find(key.s) : nullptr;
      if (v) return *v;
      return get_arg(a, 1, "default", Value::none());
    });
  return Value::undefined(name);
}

}  // namespace

Value get_attr(const Value& obj, const std::string& name) {
  switch (obj.type) {
    case Value::Type::Dict: {
      if (!obj.is_namespace) {
        Value m = dict_method(obj, name);
        if (!m.is_undefined()) return m;
      }
      const Value* v = obj.find(name);
      return v ? *v : Value::undefined(name);
    }
    case Value::Type::String: return string_method(obj.s, name);
    default: return Value::undefined(name);
  }
}

Value get_item(const Value& obj, const Value& key) {
  if (obj.is_dict()) {
    if (!key.is_string()) return Value::undefined();
    const Value* v = obj.find(key.s);
    if (v) return *v;
    return obj.is_namespace ? Value::undefined(key.s) : dict_method(obj, key.s);
  }
  if ((obj.is_list() || obj.is_string()) && (key.type == Value::Type::Int || key.type == Value::Type::Bool)) {
    int64_t i = key.type == Value::Type::Bool ? int64_t(key.b) : key.i;
    if (obj.is_list()) {
      const int64_t n = int64_t(obj.list->size());
      if (i < 0) i += n;
      if (i < 0 || i >= n) return Value::undefined();
      return (*obj.list)[size_t(i)];
    }
    const auto cps = decode_utf8(obj.s);
    const int64_t n = int64_t(cps.size());
    if (i < 0) i += n;
    if (i < 0 || i >= n) return Value::undefined();
    return Value::string(encode_utf8(cps, size_t(i), size_t(i) + 1));
  }
  if (key.is_string()) return get_attr(obj, key.s);
  return Value::undefined();
}

}  // namespace hearth::jinja
