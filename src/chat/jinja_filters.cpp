// Jinja filters used by chat templates (`x | trim`, `items | selectattr("a")`, ...) as a
// name -> function table. Filters that build strings check the size first and count it.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <unordered_map>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

// Dotted attribute path ("a.b") or an integer index, as Jinja's attribute= arguments take.
Value attribute_of(const Value& v, const Value& attr) {
  if (attr.type == Value::Type::Int) return get_item(v, attr);
  Value cur = v;
  const std::string& path = attr.s;
  size_t start = 0;
  while (true) {
    const size_t dot = path.find('.', start);
    const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    Value key = Value::string(part);
    if (!part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      key = Value::integer(std::strtoll(part.c_str(), nullptr, 10));
    cur = get_item(cur, key);
    if (dot == std::string::npos || cur.is_undefined()) return cur;
    start = dot + 1;
  }
}

// A double that converts to int64 without overflow (|x| < 2^63).
bool fits_int64(double x) { return x > -9.2e18 && x < 9.2e18; }

// One printf conversion of Python's `%` formatting: `spec` holds the flags, width and
// precision (each at most 3 digits), `conv` the conversion letter.
Result<std::string> format_one(const std::string& spec, char conv, const Value& v, Ctx& c) {
  char buf[1200];
  if (conv == 's' || conv == 'r') {
    // Width pads, precision cuts (in code points, as Python counts).
    std::string s = conv == 's' ? to_str(v) : repr(v);
    const size_t dot = spec.find('.');
    if (dot != std::string::npos) {
      const auto cps = decode_utf8(s);
      s = encode_utf8(cps, 0, size_t(std::atoi(spec.c_str() + dot + 1)));
    }
    size_t w = 0;
    for (size_t k = 1; k < std::min(dot, spec.size()); ++k)
      if (std::isdigit(static_cast<unsigned char>(spec[k])) && (spec[k] != '0' || w > 0)) w = w * 10 + size_t(spec[k] - '0');
    const size_t len = utf8_length(s);
    const size_t pad = w > len ? w - len : 0;
    return spec.find('-') != std::string::npos ? s + std::string(pad, ' ') : std::string(pad, ' ') + s;
  }
  if (conv == 'd' || conv == 'i') {
    if (!v.is_number()) return c.fail("%d format: a number is required, not " + type_name(v));
    if (v.type == Value::Type::Float && !fits_int64(v.f)) return c.fail("%d format: the number is too large");
    const long long x = v.type == Value::Type::Float ? (long long)std::trunc(v.f) : (long long)v.as_int();
    std::snprintf(buf, sizeof buf, (spec + "lld").c_str(), x);
    return std::string(buf);
  }
  if (std::string_view("fFeEgG").find(conv) != std::string_view::npos) {
    if (!v.is_number()) return c.fail("%f format: a number is required, not " + type_name(v));
    std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.as_double());
    return std::string(buf);
  }
  return c.fail(std::string("unsupported format conversion '%") + conv + "'");
}

// Python's printf-style formatting for the `format` filter and `str % args`.
Result<std::string> printf_format(const std::string& fmt, const List& args, Ctx& c) {
  std::string out;
  size_t ai = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    size_t j = i + 1;
    std::string spec = "%";
    int digits = 0;
    while (j < fmt.size() && std::string_view("-+ #0123456789.").find(fmt[j]) != std::string_view::npos) {
      digits = std::isdigit(static_cast<unsigned char>(fmt[j])) ? digits + 1 : 0;
      if (digits > 3) return c.fail("format: width or precision larger than 999");
      spec += fmt[j++];
    }
    if (j >= fmt.size()) return c.fail("incomplete format string");
    const char conv = fmt[j];
    i = j;
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (ai >= args.size()) return c.fail("not enough arguments for format string");
    HEARTH_ASSIGN(std::string piece, format_one(spec, conv, args[ai++], c));
    HEARTH_CHECK(c.fits_string(int64_t(out.size() + piece.size())));
    out += piece;
  }
  if (ai < args.size()) return c.fail("not all arguments converted during string formatting");
  HEARTH_CHECK(c.charge(int64_t(out.size())));
  return out;
}

Result<Value> sort_values(List l, bool reverse, bool case_sensitive, const Value& attribute, Ctx& c) {
  const double n = double(l.size());
  HEARTH_CHECK(c.step(int64_t(n * std::max(1.0, std::log2(n + 1)))));
  auto key = [&](const Value& v) {
    Value k = attribute.is_undefined() || attribute.is_none() ? v : attribute_of(v, attribute);
    if (!case_sensitive && k.is_string()) k.s = ascii_map(k.s, [](int x) { return std::tolower(x); });
    return k;
  };
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& v : l) keyed.emplace_back(key(v), v);
  std::string failure;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    if (!failure.empty()) return false;
    auto r = reverse ? less(b.first, a.first) : less(a.first, b.first);
    if (!r.ok()) {
      failure = r.message();
      return false;
    }
    return *r;
  });
  if (!failure.empty()) return c.fail("sort: " + failure);
  List out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return Value::list_of(std::move(out));
}

Value arg(const Args& a, size_t idx, const char* name, Value dflt = Value::undefined()) { return get_arg(a, idx, name, std::move(dflt)); }
bool flag(const Args& a, size_t idx, const char* name) { return truthy(get_arg(a, idx, name, Value::boolean(false))); }
Value str(std::string s) { return Value::string(std::move(s)); }

// ---- Filters that see an undefined subject ----

Result<Value> f_default(Value& v, Args& a, Ctx&) {
  if (v.is_undefined() || (flag(a, 1, "boolean") && !truthy(v))) return arg(a, 0, "default_value", str(""));
  return v;
}

Result<Value> f_tojson(Value& v, Args& a, Ctx& c) {
  const Value indent = arg(a, 0, "indent", Value::none());
  const Value seps = arg(a, 2, "separators", Value::none());
  if (flag(a, 1, "ensure_ascii")) return c.fail("tojson(ensure_ascii=true) is not supported");
  int ind = -1;
  if (indent.is_int()) {
    if (indent.as_int() < 0 || indent.as_int() > 64) return c.fail("tojson: indent must be in [0, 64]");
    ind = int(indent.as_int());
  }
  std::string item_sep = ind >= 0 ? "," : ", ", key_sep = ": ";
  if (seps.is_list() && seps.list->size() == 2) {
    item_sep = to_str((*seps.list)[0]);
    key_sep = to_str((*seps.list)[1]);
  }
  auto r = to_json(v, ind, item_sep, key_sep, flag(a, 3, "sort_keys"));
  if (!r.ok()) return c.fail(r.message());
  HEARTH_CHECK(c.fits_string(int64_t(r->size())));
  HEARTH_CHECK(c.charge(int64_t(r->size())));
  return str(std::move(*r));
}

Result<Value> f_length(Value& v, Args&, Ctx& c) {
  if (v.is_undefined()) return Value::integer(0);
  if (v.is_string()) return Value::integer(int64_t(utf8_length(v.s)));
  if (v.is_list()) return Value::integer(int64_t(v.list->size()));
  if (v.is_dict()) return Value::integer(int64_t(v.dict->size()));
  return c.fail("object of type '" + type_name(v) + "' has no len()");
}

// ---- String filters (an undefined subject reads as "") ----

Result<Value> f_safe(Value& v, Args&, Ctx&) { return v.is_undefined() ? str("") : v; }
Result<Value> f_string(Value& v, Args&, Ctx& c) {
  std::string s = to_str(v);
  HEARTH_CHECK(c.charge(int64_t(s.size())));
  return str(std::move(s));
}
Result<Value> f_trim(Value& v, Args& a, Ctx&) { return str(py_strip(to_str(v), arg(a, 0, "chars"), true, true)); }
Result<Value> f_upper(Value& v, Args&, Ctx&) { return str(ascii_map(to_str(v), [](int x) { return std::toupper(x); })); }
Result<Value> f_lower(Value& v, Args&, Ctx&) { return str(ascii_map(to_str(v), [](int x) { return std::tolower(x); })); }
Result<Value> f_title(Value& v, Args&, Ctx&) { return str(py_title(to_str(v))); }
Result<Value> f_capitalize(Value& v, Args&, Ctx&) { return str(py_capitalize(to_str(v))); }

Result<Value> f_escape(Value& v, Args&, Ctx& c) {
  const std::string s = to_str(v);
  HEARTH_CHECK(c.fits_string(int64_t(s.size()) * 5));
  std::string out;
  for (char ch : s) {
    switch (ch) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out += ch;
    }
  }
  HEARTH_CHECK(c.charge(int64_t(out.size())));
  return str(std::move(out));
}

Result<Value> f_replace(Value& v, Args& a, Ctx& c) {
  const Value n = arg(a, 2, "count", Value::none());
  int64_t count = -1;
  if (!n.is_none()) {
    HEARTH_ASSIGN(count, int_arg(n, "replace: count", c));
  }
  HEARTH_ASSIGN(std::string out, py_replace(to_str(v), to_str(arg(a, 0, "old")), to_str(arg(a, 1, "new")), count, c));
  return str(std::move(out));
}

Result<Value> f_wordcount(Value& v, Args&, Ctx& c) {
  HEARTH_ASSIGN(List words, py_split(to_str(v), Value::none(), -1, false, c));
  return Value::integer(int64_t(words.size()));
}

Result<Value> f_center(Value& v, Args& a, Ctx& c) {
  const std::string s = to_str(v);
  HEARTH_ASSIGN(int64_t w, int_arg(arg(a, 0, "width", Value::integer(80)), "center: width", c));
  const int64_t len = int64_t(utf8_length(s));
  if (w <= len) return str(s);
  HEARTH_CHECK(c.fits_string(int64_t(s.size()) + (w - len)));
  HEARTH_CHECK(c.charge(int64_t(s.size()) + (w - len)));
  const int64_t total = w - len, left = total / 2 + (total & w & 1);
  return str(std::string(size_t(left), ' ') + s + std::string(size_t(total - left), ' '));
}

Result<Value> f_format(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(std::string out, printf_format(to_str(v), a.pos, c));
  return str(std::move(out));
}

// indent(width=4, first=False, blank=False), as Jinja's do_indent: s + "\n" split into lines,
// all but the first indented (blank lines only with blank=true), the first too with first=true.
Result<Value> f_indent(Value& v, Args& a, Ctx& c) {
  const std::string s = to_str(v);
  const Value wv = arg(a, 0, "width", Value::integer(4));
  std::string pad;
  if (wv.is_string()) {
    pad = wv.s;
  } else {
    HEARTH_ASSIGN(int64_t w, int_arg(wv, "indent: width", c));
    HEARTH_CHECK(c.fits_string(w));
    pad.assign(size_t(std::max<int64_t>(0, w)), ' ');
  }
  const bool first = flag(a, 1, "first"), blank = flag(a, 2, "blank");
  std::vector<std::string> lines;
  const std::string t = s + "\n";
  size_t start = 0;
  for (size_t k = 0; k < t.size(); ++k) {
    if (t[k] == '\n' || t[k] == '\r') {
      lines.push_back(t.substr(start, k - start));
      if (t[k] == '\r' && k + 1 < t.size() && t[k + 1] == '\n') ++k;
      start = k + 1;
    }
  }
  HEARTH_CHECK(c.fits_string(int64_t(s.size()) + int64_t(lines.size()) * int64_t(pad.size())));
  std::string out = lines[0];
  for (size_t k = 1; k < lines.size(); ++k) out += "\n" + ((blank || !lines[k].empty()) ? pad : std::string()) + lines[k];
  if (first) out = pad + out;
  HEARTH_CHECK(c.charge(int64_t(out.size())));
  return str(std::move(out));
}

// ---- Numbers ----

Result<Value> f_abs(Value& v, Args&, Ctx& c) {
  if (v.type == Value::Type::Int) {
    if (v.i == INT64_MIN) return c.fail("integer overflow in abs()");
    return Value::integer(v.i < 0 ? -v.i : v.i);
  }
  if (v.type == Value::Type::Bool) return Value::integer(v.b);
  if (v.is_number()) return Value::number(std::fabs(v.as_double()));
  return c.fail("bad operand type for abs(): '" + type_name(v) + "'");
}

Result<Value> f_int(Value& v, Args& a, Ctx& c) {
  const Value dflt = arg(a, 0, "default", Value::integer(0));
  HEARTH_ASSIGN(int64_t base, int_arg(arg(a, 1, "base", Value::integer(10)), "int: base", c));
  if (base != 0 && (base < 2 || base > 36)) return c.fail("int: base must be 0 or in [2, 36]");
  if (v.is_int()) return Value::integer(v.as_int());
  if (v.type == Value::Type::Float) return fits_int64(v.f) ? Value::integer(int64_t(std::trunc(v.f))) : dflt;
  if (v.is_string()) {
    const std::string s = py_strip(v.s, Value::none(), true, true);
    char* end = nullptr;
    errno = 0;
    const long long x = std::strtoll(s.c_str(), &end, int(base));
    if (!s.empty() && end && *end == 0) return errno == ERANGE ? dflt : Value::integer(x);
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == 0 && fits_int64(d)) return Value::integer(int64_t(d));
  }
  return dflt;
}

Result<Value> f_float(Value& v, Args& a, Ctx&) {
  const Value dflt = arg(a, 0, "default", Value::number(0.0));
  if (v.is_number()) return Value::number(v.as_double());
  if (v.is_string()) {
    const std::string s = py_strip(v.s, Value::none(), true, true);
    char* end = nullptr;
    const double d = std::strtod(s.c_str(), &end);
    if (!s.empty() && end && *end == 0) return Value::number(d);
  }
  return dflt;
}

Result<Value> f_round(Value& v, Args& a, Ctx& c) {
  if (!v.is_number()) return c.fail("round: a number is required");
  HEARTH_ASSIGN(int64_t prec, int_arg(arg(a, 0, "precision", Value::integer(0)), "round: precision", c));
  const std::string method = to_str(arg(a, 1, "method", str("common")));
  if (v.type != Value::Type::Float && method == "common") return Value::integer(v.as_int());
  const double scale = std::pow(10.0, double(std::clamp<int64_t>(prec, -400, 400)));
  const double x = v.as_double() * scale;
  const double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
  return Value::number(r / scale);
}

// ---- Mappings ----

Result<Value> mapping_items(Value& v, const char* filter, Ctx& c, List* out) {
  if (v.is_undefined()) return Value::none();
  if (!v.is_dict()) return c.fail(std::string("'") + filter + "' needs a mapping, got " + type_name(v));
  HEARTH_CHECK(c.step(int64_t(v.dict->size())));
  for (const auto& kv : *v.dict) out->push_back(Value::list_of({Value::string(kv.first), kv.second}, true));
  return Value::none();
}

Result<Value> f_items(Value& v, Args&, Ctx& c) {
  List out;
  HEARTH_CHECK(mapping_items(v, "items", c, &out));
  return Value::list_of(std::move(out));
}

Result<Value> f_dictsort(Value& v, Args& a, Ctx& c) {
  List out;
  HEARTH_CHECK(mapping_items(v, "dictsort", c, &out));
  const bool by_value = to_str(arg(a, 1, "by", str("key"))) == "value";
  return sort_values(std::move(out), flag(a, 2, "reverse"), flag(a, 0, "case_sensitive"),
                     Value::integer(by_value ? 1 : 0), c);
}

// ---- Sequences (an undefined subject iterates as empty) ----

Result<Value> f_list(Value& v, Args&, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  return Value::list_of(std::move(seq));
}

Result<Value> f_first(Value& v, Args&, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  return seq.empty() ? Value::undefined("first") : seq.front();
}

Result<Value> f_last(Value& v, Args&, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  return seq.empty() ? Value::undefined("last") : seq.back();
}

Result<Value> f_reverse(Value& v, Args&, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  std::reverse(seq.begin(), seq.end());
  if (!v.is_string()) return Value::list_of(std::move(seq));
  std::string s;
  for (auto& ch : seq) s += ch.s;
  return str(std::move(s));
}

Result<Value> f_join(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  const std::string sep = to_str(arg(a, 0, "d", str("")));
  const Value attr = arg(a, 1, "attribute", Value::none());
  std::string out;
  for (size_t k = 0; k < seq.size(); ++k) {
    const std::string item = to_str(attr.is_none() ? seq[k] : attribute_of(seq[k], attr));
    HEARTH_CHECK(c.fits_string(int64_t(out.size() + item.size() + (k ? sep.size() : 0))));
    if (k) out += sep;
    out += item;
  }
  HEARTH_CHECK(c.charge(int64_t(out.size())));
  return str(std::move(out));
}

Result<Value> f_sort(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  return sort_values(std::move(seq), flag(a, 0, "reverse"), flag(a, 1, "case_sensitive"), arg(a, 2, "attribute"), c);
}

Result<Value> f_unique(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  const bool cs = flag(a, 0, "case_sensitive");
  const Value attr = arg(a, 1, "attribute", Value::none());
  List out, seen;
  for (const auto& x : seq) {
    Value k = attr.is_none() ? x : attribute_of(x, attr);
    if (!cs && k.is_string()) k.s = ascii_map(k.s, [](int ch) { return std::tolower(ch); });
    HEARTH_CHECK(c.step(int64_t(seen.size())));  // one comparison with each kept value
    bool dup = false;
    for (const auto& s : seen) dup = dup || equals(s, k);
    if (!dup) {
      seen.push_back(k);
      out.push_back(x);
    }
  }
  return Value::list_of(std::move(out));
}

Result<Value> f_sum(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  const Value attr = arg(a, 0, "attribute", Value::none());
  Value total = arg(a, 1, "start", Value::integer(0));
  for (const auto& x : seq) {
    const Value item = attr.is_none() ? x : attribute_of(x, attr);
    if (total.is_list() && item.is_list()) {
      HEARTH_CHECK(c.fits_items(int64_t(total.list->size() + item.list->size())));
      HEARTH_CHECK(c.step(int64_t(total.list->size() + item.list->size())));
      List l = *total.list;
      l.insert(l.end(), item.list->begin(), item.list->end());
      total = Value::list_of(std::move(l));
    } else if (total.is_number() && item.is_number()) {
      if (total.type == Value::Type::Float || item.type == Value::Type::Float) {
        total = Value::number(total.as_double() + item.as_double());
      } else {
        HEARTH_ASSIGN(int64_t s, checked_add(total.as_int(), item.as_int(), c));
        total = Value::integer(s);
      }
    } else {
      return c.fail("sum: unsupported operand types '" + type_name(total) + "' and '" + type_name(item) + "'");
    }
  }
  return total;
}

Result<Value> extreme(Value& v, Args& a, Ctx& c, bool largest) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  HEARTH_ASSIGN(Value sorted, sort_values(std::move(seq), largest, flag(a, 0, "case_sensitive"),
                                          arg(a, 1, "attribute", Value::none()), c));
  if (sorted.list->empty()) return Value::undefined(largest ? "max" : "min");
  return sorted.list->front();
}
Result<Value> f_max(Value& v, Args& a, Ctx& c) { return extreme(v, a, c, true); }
Result<Value> f_min(Value& v, Args& a, Ctx& c) { return extreme(v, a, c, false); }

// map(attribute=..., default=...) or map("filter", args...).
Result<Value> f_map(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  List out;
  const Value attr = get_arg(a, SIZE_MAX, "attribute");
  if (!attr.is_undefined()) {
    const Value dflt = get_arg(a, SIZE_MAX, "default");
    for (const auto& x : seq) {
      Value r = attribute_of(x, attr);
      out.push_back(r.is_undefined() && !dflt.is_undefined() ? dflt : r);
    }
    return Value::list_of(std::move(out));
  }
  if (a.pos.empty() || !a.pos[0].is_string()) return c.fail("map needs a filter name or attribute=");
  Args rest;
  rest.pos.assign(a.pos.begin() + 1, a.pos.end());
  rest.kw = a.kw;
  for (const auto& x : seq) {
    Args each = rest;
    HEARTH_ASSIGN(Value r, apply_filter(a.pos[0].s, x, each, c));
    out.push_back(std::move(r));
  }
  return Value::list_of(std::move(out));
}

// select / reject (test on the item) and selectattr / rejectattr (test on an attribute).
Result<Value> choose(Value& v, Args& a, Ctx& c, bool by_attr, bool keep_if) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  const size_t test_pos = by_attr ? 1 : 0;
  if (by_attr && a.pos.empty()) return c.fail("selectattr/rejectattr need an attribute name");
  Args targs;
  if (a.pos.size() > test_pos + 1) targs.pos.assign(a.pos.begin() + ptrdiff_t(test_pos) + 1, a.pos.end());
  List out;
  for (const auto& x : seq) {
    const Value subject = by_attr ? attribute_of(x, a.pos[0]) : x;
    bool pass = truthy(subject);
    if (a.pos.size() > test_pos) {
      Args each = targs;
      HEARTH_ASSIGN(pass, apply_test(to_str(a.pos[test_pos]), subject, each, c));
    }
    if (pass == keep_if) out.push_back(x);
  }
  return Value::list_of(std::move(out));
}
Result<Value> f_select(Value& v, Args& a, Ctx& c) { return choose(v, a, c, false, true); }
Result<Value> f_reject(Value& v, Args& a, Ctx& c) { return choose(v, a, c, false, false); }
Result<Value> f_selectattr(Value& v, Args& a, Ctx& c) { return choose(v, a, c, true, true); }
Result<Value> f_rejectattr(Value& v, Args& a, Ctx& c) { return choose(v, a, c, true, false); }

Result<Value> f_batch(Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(List seq, as_sequence(v, c));
  HEARTH_ASSIGN(int64_t n, int_arg(arg(a, 0, "linecount", Value::integer(1)), "batch: size", c));
  if (n <= 0) return c.fail("batch needs a positive size");
  const Value fill = arg(a, 1, "fill_with", Value::none());
  if (!fill.is_none()) HEARTH_CHECK(c.fits_items(n));
  List out, cur;
  for (const auto& x : seq) {
    cur.push_back(x);
    if (int64_t(cur.size()) == n) {
      out.push_back(Value::list_of(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (!fill.is_none())
      while (int64_t(cur.size()) < n) cur.push_back(fill);
    out.push_back(Value::list_of(std::move(cur)));
  }
  Value r = Value::list_of(std::move(out));
  HEARTH_CHECK(c.fits_depth(r.depth));
  return r;
}

const std::unordered_map<std::string_view, FilterDef>& filters() {
  static const std::unordered_map<std::string_view, FilterDef> t = {
      {"default", {f_default}}, {"d", {f_default}}, {"tojson", {f_tojson}},
      {"length", {f_length}}, {"count", {f_length}},
      {"safe", {f_safe}}, {"string", {f_string}}, {"trim", {f_trim}}, {"upper", {f_upper}}, {"lower", {f_lower}},
      {"title", {f_title}}, {"capitalize", {f_capitalize}}, {"e", {f_escape}}, {"escape", {f_escape}},
      {"replace", {f_replace}}, {"wordcount", {f_wordcount}}, {"center", {f_center}},
      {"format", {f_format, true}}, {"indent", {f_indent, true}},
      {"abs", {f_abs, true}}, {"int", {f_int}}, {"float", {f_float}}, {"round", {f_round, true}},
      {"items", {f_items}}, {"dictsort", {f_dictsort}},
      {"list", {f_list}}, {"first", {f_first}}, {"last", {f_last}}, {"reverse", {f_reverse}}, {"join", {f_join}},
      {"sort", {f_sort}}, {"unique", {f_unique}}, {"sum", {f_sum}}, {"max", {f_max}}, {"min", {f_min}},
      {"map", {f_map}}, {"select", {f_select}}, {"reject", {f_reject}}, {"selectattr", {f_selectattr}},
      {"rejectattr", {f_rejectattr}}, {"batch", {f_batch}},
  };
  return t;
}

}  // namespace

const FilterDef* find_filter(std::string_view name) {
  auto it = filters().find(name);
  return it == filters().end() ? nullptr : &it->second;
}

Result<Value> apply_filter(const std::string& name, Value subject, Args& args, Ctx& c) {
  const FilterDef* f = find_filter(name);
  if (!f) return c.fail("unsupported Jinja filter '" + name + "'");
  if (f->undefined_is_error && subject.is_undefined())
    return c.fail("'" + (subject.s.empty() ? std::string("value") : subject.s) + "' is undefined");
  HEARTH_CHECK(c.step());
  return f->fn(subject, args, c);
}

// `str % args` (Python's printf-style formatting).
Result<std::string> percent_format(const std::string& fmt, const Value& args, Ctx& c) {
  return printf_format(fmt, args.is_list() && args.is_tuple ? *args.list : List{args}, c);
}

}  // namespace hearth::jinja
