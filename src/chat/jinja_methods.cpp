// Python str and dict methods for the Jinja subset as name -> function tables
// (str.strip/split/startswith/replace/..., dict.items/keys/values/get), and attribute and item
// lookup, which binds a method to its object.
#include <algorithm>
#include <cctype>
#include <string_view>
#include <unordered_map>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

using StrMethod = Result<Value> (*)(const std::string& self, Args& a, Ctx& c);
using DictMethod = Result<Value> (*)(const Value& self, Args& a, Ctx& c);

Result<Value> strip_both(const std::string& s, Args& a, Ctx&) { return Value::string(py_strip(s, get_arg(a, 0, "chars"), true, true)); }
Result<Value> strip_left(const std::string& s, Args& a, Ctx&) { return Value::string(py_strip(s, get_arg(a, 0, "chars"), true, false)); }
Result<Value> strip_right(const std::string& s, Args& a, Ctx&) { return Value::string(py_strip(s, get_arg(a, 0, "chars"), false, true)); }

Result<Value> split_impl(const std::string& s, Args& a, Ctx& c, bool from_right) {
  const Value sep = get_arg(a, 0, "sep");
  HEARTH_ASSIGN(int64_t maxsplit, int_arg(get_arg(a, 1, "maxsplit", Value::integer(-1)), "split: maxsplit", c));
  if (sep.is_string() && sep.s.empty()) return c.fail("split: empty separator");
  HEARTH_ASSIGN(List parts, py_split(s, sep, maxsplit, from_right, c));
  return Value::list_of(std::move(parts));
}
Result<Value> split(const std::string& s, Args& a, Ctx& c) { return split_impl(s, a, c, false); }
Result<Value> rsplit(const std::string& s, Args& a, Ctx& c) { return split_impl(s, a, c, true); }

Result<Value> affix_impl(const std::string& s, Args& a, Ctx& c, bool start) {
  const Value p = get_arg(a, 0, "prefix");
  const List cands = p.is_list() ? *p.list : List{p};
  for (const auto& x : cands) {
    if (!x.is_string()) return c.fail(std::string(start ? "startswith" : "endswith") + " first arg must be str or a tuple of str");
    const bool hit = start ? s.compare(0, x.s.size(), x.s) == 0
                           : (s.size() >= x.s.size() && s.compare(s.size() - x.s.size(), x.s.size(), x.s) == 0);
    if (hit) return Value::boolean(true);
  }
  return Value::boolean(false);
}
Result<Value> startswith(const std::string& s, Args& a, Ctx& c) { return affix_impl(s, a, c, true); }
Result<Value> endswith(const std::string& s, Args& a, Ctx& c) { return affix_impl(s, a, c, false); }

Result<Value> upper(const std::string& s, Args&, Ctx&) { return Value::string(ascii_map(s, [](int x) { return std::toupper(x); })); }
Result<Value> lower(const std::string& s, Args&, Ctx&) { return Value::string(ascii_map(s, [](int x) { return std::tolower(x); })); }
Result<Value> title(const std::string& s, Args&, Ctx&) { return Value::string(py_title(s)); }
Result<Value> capitalize(const std::string& s, Args&, Ctx&) { return Value::string(py_capitalize(s)); }

Result<Value> replace(const std::string& s, Args& a, Ctx& c) {
  const Value from = get_arg(a, 0, "old"), to = get_arg(a, 1, "new");
  HEARTH_ASSIGN(int64_t n, int_arg(get_arg(a, 2, "count", Value::integer(-1)), "replace: count", c));
  if (!from.is_string() || !to.is_string()) return c.fail("replace() arguments must be str");
  HEARTH_ASSIGN(std::string out, py_replace(s, from.s, to.s, n, c));
  return Value::string(std::move(out));
}

Result<std::string> sub_arg(Args& a, const char* method, Ctx& c) {
  const Value sub = get_arg(a, 0, "sub");
  if (!sub.is_string()) return c.fail(std::string(method) + "() argument must be str");
  return sub.s;
}

Result<Value> count(const std::string& s, Args& a, Ctx& c) {
  HEARTH_ASSIGN(std::string sub, sub_arg(a, "count", c));
  if (sub.empty()) return Value::integer(int64_t(utf8_length(s)) + 1);
  int64_t n = 0;
  for (size_t p = s.find(sub); p != std::string::npos; p = s.find(sub, p + sub.size())) ++n;
  return Value::integer(n);
}

// find / rfind / index: the code point index of the match.
Result<Value> find_impl(const std::string& s, Args& a, Ctx& c, const char* method) {
  HEARTH_ASSIGN(std::string sub, sub_arg(a, method, c));
  const bool from_right = method[0] == 'r';
  const size_t p = from_right ? s.rfind(sub) : s.find(sub);
  if (p == std::string::npos) {
    if (method[0] == 'i') return c.fail("substring not found");
    return Value::integer(-1);
  }
  return Value::integer(int64_t(utf8_length(std::string_view(s).substr(0, p))));
}
Result<Value> find(const std::string& s, Args& a, Ctx& c) { return find_impl(s, a, c, "find"); }
Result<Value> rfind(const std::string& s, Args& a, Ctx& c) { return find_impl(s, a, c, "rfind"); }
Result<Value> index(const std::string& s, Args& a, Ctx& c) { return find_impl(s, a, c, "index"); }

Result<Value> join(const std::string& s, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List l, as_sequence(get_arg(a, 0, "iterable"), c));
  int64_t size = 0;
  for (size_t k = 0; k < l.size(); ++k) {
    if (!l[k].is_string()) return c.fail("join: sequence item " + std::to_string(k) + ": expected str instance, " + type_name(l[k]) + " found");
    size += int64_t(l[k].s.size()) + (k ? int64_t(s.size()) : 0);
    HEARTH_CHECK(c.fits_string(size));
  }
  HEARTH_CHECK(c.charge(size));
  std::string out;
  for (size_t k = 0; k < l.size(); ++k) out += (k ? s : "") + l[k].s;
  return Value::string(std::move(out));
}

// isdigit / isalpha / isalnum / isspace / islower / isupper (ASCII classes; other code points
// count as letters).
template <char kind>
Result<Value> is_class(const std::string& s, Args&, Ctx&) {
  if (s.empty()) return Value::boolean(false);
  bool ok = true, cased = false;
  for (uint32_t cp : decode_utf8(s)) {
    const int x = int(cp);
    if (kind == 's') ok &= py_space(cp);
    else if (cp >= 0x80) ok &= kind == 'a' || kind == 'n';
    else if (kind == 'd') ok &= std::isdigit(x) != 0;
    else if (kind == 'a') ok &= std::isalpha(x) != 0;
    else if (kind == 'n') ok &= std::isalnum(x) != 0;
    else if (kind == 'l') { ok &= !std::isupper(x); cased |= std::islower(x) != 0; }
    else { ok &= !std::islower(x); cased |= std::isupper(x) != 0; }
  }
  if (kind == 'l' || kind == 'u') ok &= cased;
  return Value::boolean(ok);
}

Result<Value> splitlines(const std::string& s, Args&, Ctx& c) {
  List out;
  size_t start = 0;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '\n' || s[k] == '\r') {
      out.push_back(Value::string(s.substr(start, k - start)));
      if (int64_t(out.size()) > c.limits().max_items) HEARTH_CHECK(c.fits_items(int64_t(out.size())));
      if (s[k] == '\r' && k + 1 < s.size() && s[k + 1] == '\n') ++k;
      start = k + 1;
    }
  }
  if (start < s.size()) out.push_back(Value::string(s.substr(start)));
  return Value::list_of(std::move(out));
}

const std::unordered_map<std::string_view, StrMethod>& str_methods() {
  static const std::unordered_map<std::string_view, StrMethod> t = {
      {"strip", strip_both}, {"lstrip", strip_left}, {"rstrip", strip_right},
      {"split", split}, {"rsplit", rsplit}, {"splitlines", splitlines},
      {"startswith", startswith}, {"endswith", endswith},
      {"upper", upper}, {"lower", lower}, {"title", title}, {"capitalize", capitalize},
      {"replace", replace}, {"find", find}, {"rfind", rfind}, {"index", index}, {"count", count},
      {"join", join},
      {"isdigit", is_class<'d'>}, {"isalpha", is_class<'a'>}, {"isalnum", is_class<'n'>},
      {"isspace", is_class<'s'>}, {"islower", is_class<'l'>}, {"isupper", is_class<'u'>},
  };
  return t;
}

Result<Value> dict_entries(const Value& d, Ctx& c, int which) {  // 0 keys, 1 values, 2 items
  HEARTH_CHECK(c.step(int64_t(d.dict->size())));
  List out;
  for (const auto& kv : *d.dict) {
    if (which == 0) out.push_back(Value::string(kv.first));
    else if (which == 1) out.push_back(kv.second);
    else out.push_back(Value::list_of({Value::string(kv.first), kv.second}, true));
  }
  return Value::list_of(std::move(out));
}
Result<Value> keys(const Value& d, Args&, Ctx& c) { return dict_entries(d, c, 0); }
Result<Value> values(const Value& d, Args&, Ctx& c) { return dict_entries(d, c, 1); }
Result<Value> items(const Value& d, Args&, Ctx& c) { return dict_entries(d, c, 2); }
Result<Value> get(const Value& d, Args& a, Ctx&) {
  const Value key = get_arg(a, 0, "key");
  const Value* v = key.is_string() ? d.find(key.s) : nullptr;
  if (v) return *v;
  return get_arg(a, 1, "default", Value::none());
}

const std::unordered_map<std::string_view, DictMethod>& dict_methods() {
  static const std::unordered_map<std::string_view, DictMethod> t = {
      {"items", items}, {"keys", keys}, {"values", values}, {"get", get}};
  return t;
}

Value str_method(const std::string& s, const std::string& name) {
  auto it = str_methods().find(name);
  if (it == str_methods().end()) return Value::undefined(name);
  const StrMethod m = it->second;
  return Value::function([s, m](Args& a, Ctx& c) { return m(s, a, c); });
}

Value dict_method(const Value& d, const std::string& name) {
  auto it = dict_methods().find(name);
  if (it == dict_methods().end()) return Value::undefined(name);
  const DictMethod m = it->second;
  return Value::function([d, m](Args& a, Ctx& c) { return m(d, a, c); });
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
    case Value::Type::String: return str_method(obj.s, name);
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
  if ((obj.is_list() || obj.is_string()) && key.is_int()) {
    int64_t i = key.as_int();
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
