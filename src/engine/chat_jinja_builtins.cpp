// Jinja builtins used by chat templates: filters, tests, and the globals transformers adds
// (raise_exception, strftime_now) plus range/namespace/dict. String helpers and methods live in
// chat_jinja_methods.cpp.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>

#include "engine/chat_jinja.h"

namespace hearth::jinja {

namespace {

Error at(int line, const std::string& msg) { return err("chat template line ", line, ": ", msg); }

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
      key = Value::integer(std::atoll(part.c_str()));
    cur = get_item(cur, key);
    if (dot == std::string::npos || cur.is_undefined()) return cur;
    start = dot + 1;
  }
}

// Python's printf-style formatting for the `format` filter and `str % args`.
Result<std::string> printf_format(const std::string& fmt, const List& args, int line) {
  std::string out;
  size_t ai = 0;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    size_t j = i + 1;
    std::string spec = "%";
    while (j < fmt.size() && std::string("-+ #0123456789.").find(fmt[j]) != std::string::npos) spec += fmt[j++];
    if (j >= fmt.size()) return at(line, "incomplete format string");
    const char conv = fmt[j];
    i = j;
    if (conv == '%') {
      out += '%';
      continue;
    }
    if (ai >= args.size()) return at(line, "not enough arguments for format string");
    const Value& v = args[ai++];
    char buf[512];
    if (conv == 's' || conv == 'r') {
      const std::string s = conv == 's' ? to_str(v) : repr(v);
      std::snprintf(buf, sizeof buf, (spec + "s").c_str(), s.c_str());
      out += std::string(buf).size() >= s.size() ? std::string(buf) : s;
    } else if (conv == 'd' || conv == 'i') {
      if (!v.is_number()) return at(line, "%d format: a number is required, not " + type_name(v));
      std::snprintf(buf, sizeof buf, (spec + "lld").c_str(),
                    (long long)(v.type == Value::Type::Float ? std::trunc(v.f) : double(v.type == Value::Type::Bool ? v.b : v.i)));
      out += buf;
    } else if (conv == 'f' || conv == 'F' || conv == 'e' || conv == 'E' || conv == 'g' || conv == 'G') {
      if (!v.is_number()) return at(line, "%f format: a number is required, not " + type_name(v));
      std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v.as_double());
      out += buf;
    } else {
      return at(line, std::string("unsupported format conversion '%") + conv + "'");
    }
  }
  if (ai < args.size()) return at(line, "not all arguments converted during string formatting");
  return out;
}

Result<Value> sort_values(List l, bool reverse, bool case_sensitive, const Value& attribute, int line) {
  auto key = [&](const Value& v) {
    Value k = attribute.is_undefined() || attribute.is_none() ? v : attribute_of(v, attribute);
    if (!case_sensitive && k.is_string()) k.s = ascii_map(k.s, [](int c) { return std::tolower(c); });
    return k;
  };
  std::vector<std::pair<Value, Value>> keyed;
  for (auto& v : l) keyed.emplace_back(key(v), v);
  std::string failure;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& a, const auto& b) {
    auto r = reverse ? less(b.first, a.first) : less(a.first, b.first);
    if (!r.ok()) {
      failure = r.message();
      return false;
    }
    return *r;
  });
  if (!failure.empty()) return at(line, "sort: " + failure);
  List out;
  for (auto& kv : keyed) out.push_back(kv.second);
  return Value::list_of(std::move(out));
}

}  // namespace

Result<bool> apply_test(const std::string& name, const Value& v, Args& a, int line) {
  const Value other = get_arg(a, 0, "value");
  if (name == "defined") return !v.is_undefined();
  if (name == "undefined") return v.is_undefined();
  if (name == "none") return v.is_none();
  if (name == "boolean") return v.type == Value::Type::Bool;
  if (name == "false") return v.type == Value::Type::Bool && !v.b;
  if (name == "true") return v.type == Value::Type::Bool && v.b;
  if (name == "integer") return v.type == Value::Type::Int;
  if (name == "float") return v.type == Value::Type::Float;
  if (name == "number") return v.is_number();
  if (name == "string") return v.is_string();
  if (name == "mapping") return v.is_dict();
  if (name == "sequence") return v.is_list() || v.is_string() || v.is_dict();
  if (name == "iterable") return v.is_list() || v.is_string() || v.is_dict();
  if (name == "callable") return v.type == Value::Type::Function;
  if (name == "lower") return v.is_string() && ascii_map(v.s, [](int c) { return std::tolower(c); }) == v.s;
  if (name == "upper") return v.is_string() && ascii_map(v.s, [](int c) { return std::toupper(c); }) == v.s;
  if (name == "odd" || name == "even" || name == "divisibleby") {
    if (!v.is_number()) return at(line, "test '" + name + "' needs a number, got " + type_name(v));
    const double d = name == "divisibleby" ? other.as_double() : 2.0;
    if (name == "divisibleby" && (!other.is_number() || d == 0)) return at(line, "divisibleby needs a non-zero number");
    double r = std::fmod(v.as_double(), d);  // Python's %: the sign of the divisor
    if (r != 0 && ((r < 0) != (d < 0))) r += d;
    return name == "odd" ? r == 1.0 : r == 0.0;
  }
  if (name == "eq" || name == "equalto" || name == "==") return equals(v, other);
  if (name == "ne" || name == "!=") return !equals(v, other);
  if (name == "sameas") {
    if (v.type != other.type) return false;
    if (v.is_list()) return v.list == other.list;
    if (v.is_dict()) return v.dict == other.dict;
    return equals(v, other);
  }
  if (name == "in") {
    if (other.is_string()) return v.is_string() && other.s.find(v.s) != std::string::npos;
    HEARTH_ASSIGN(List l, as_sequence(other, line));
    for (const auto& x : l)
      if (equals(x, v)) return true;
    return false;
  }
  if (name == "lt" || name == "lessthan" || name == "<" || name == "ge" || name == ">=") {
    auto r = less(v, other);
    if (!r.ok()) return at(line, r.message());
    return (name == "lt" || name == "lessthan" || name == "<") ? *r : !*r;
  }
  if (name == "gt" || name == "greaterthan" || name == ">" || name == "le" || name == "<=") {
    auto r = less(other, v);
    if (!r.ok()) return at(line, r.message());
    return (name == "gt" || name == "greaterthan" || name == ">") ? *r : !*r;
  }
  return at(line, "unsupported Jinja test '" + name + "'");
}

Result<Value> apply_filter(const std::string& name, Value v, Args& a, int line) {
  // Filters that accept an undefined subject come first.
  if (name == "default" || name == "d") {
    const bool boolean = truthy(get_arg(a, 1, "boolean", Value::boolean(false)));
    if (v.is_undefined() || (boolean && !truthy(v))) return get_arg(a, 0, "default_value", Value::string(""));
    return v;
  }
  if (name == "tojson") {
    const Value indent = get_arg(a, 0, "indent", Value::none());
    const Value seps = get_arg(a, 2, "separators", Value::none());
    if (truthy(get_arg(a, 1, "ensure_ascii", Value::boolean(false))))
      return at(line, "tojson(ensure_ascii=true) is not supported");
    const int ind = indent.type == Value::Type::Int ? int(indent.i) : -1;
    std::string item_sep = ind >= 0 ? "," : ", ", key_sep = ": ";
    if (seps.is_list() && seps.list->size() == 2) {
      item_sep = to_str((*seps.list)[0]);
      key_sep = to_str((*seps.list)[1]);
    }
    auto r = to_json(v, ind, item_sep, key_sep, truthy(get_arg(a, 3, "sort_keys", Value::boolean(false))));
    if (!r.ok()) return at(line, r.message());
    return Value::string(std::move(*r));
  }
  if (v.is_undefined() && (name == "length" || name == "count" || name == "list")) {
    return name == "list" ? Value::list_of({}) : Value::integer(0);
  }
  if (name == "safe" || name == "string" || name == "e" || name == "escape" || name == "trim" ||
      name == "upper" || name == "lower" || name == "title" || name == "capitalize" || name == "indent" ||
      name == "replace" || name == "wordcount" || name == "center" || name == "format") {
    if (v.is_undefined() && (name == "indent" || name == "format"))
      return at(line, "'" + (v.s.empty() ? std::string("value") : v.s) + "' is undefined");
    const std::string s = to_str(v);
    if (name == "safe") return v.is_undefined() ? Value::string("") : v;
    if (name == "string") return Value::string(s);
    if (name == "trim") return Value::string(py_strip(s, get_arg(a, 0, "chars"), true, true));
    if (name == "upper") return Value::string(ascii_map(s, [](int c) { return std::toupper(c); }));
    if (name == "lower") return Value::string(ascii_map(s, [](int c) { return std::tolower(c); }));
    if (name == "title") return Value::string(py_title(s));
    if (name == "capitalize") return Value::string(py_capitalize(s));
    if (name == "e" || name == "escape") {
      std::string out;
      for (char c : s) {
        switch (c) {
          case '&': out += "&amp;"; break;
          case '<': out += "&lt;"; break;
          case '>': out += "&gt;"; break;
          case '"': out += "&#34;"; break;
          case '\'': out += "&#39;"; break;
          default: out += c;
        }
      }
      return Value::string(out);
    }
    if (name == "replace") {
      const Value from = get_arg(a, 0, "old"), to = get_arg(a, 1, "new"), n = get_arg(a, 2, "count", Value::none());
      return Value::string(py_replace(s, to_str(from), to_str(to), n.type == Value::Type::Int ? n.i : -1));
    }
    if (name == "wordcount") return Value::integer(int64_t(py_split(s, Value::none(), -1, false).size()));
    if (name == "center") {
      const int64_t w = get_arg(a, 0, "width", Value::integer(80)).i;
      const int64_t len = int64_t(utf8_length(s));
      if (w <= len) return Value::string(s);
      const int64_t total = w - len, left = total / 2 + (total & w & 1);
      return Value::string(std::string(size_t(left), ' ') + s + std::string(size_t(total - left), ' '));
    }
    if (name == "format") {
      auto r = printf_format(s, a.pos, line);
      if (!r.ok()) return r.error();
      return Value::string(std::move(*r));
    }
    // indent(width=4, first=False, blank=False)
    const Value wv = get_arg(a, 0, "width", Value::integer(4));
    const std::string pad = wv.is_string() ? wv.s : std::string(size_t(std::max<int64_t>(0, wv.i)), ' ');
    const bool first = truthy(get_arg(a, 1, "first", Value::boolean(false)));
    const bool blank = truthy(get_arg(a, 2, "blank", Value::boolean(false)));
    // Jinja's do_indent: s + "\n", split into lines, indent all but the first (blank lines
    // only with blank=true), the first too with first=true.
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
    std::string out = lines[0];
    for (size_t k = 1; k < lines.size(); ++k)
      out += "\n" + ((blank || !lines[k].empty()) ? pad : std::string()) + lines[k];
    if (first) out = pad + out;
    return Value::string(out);
  }
  // Sequence filters see an undefined value as empty (as Jinja's Undefined iterates); numeric
  // ones (abs, round) reject it.
  if (v.is_undefined() && (name == "abs" || name == "round"))
    return at(line, "'" + (v.s.empty() ? std::string("value") : v.s) + "' is undefined");

  if (name == "length" || name == "count") {
    if (v.is_string()) return Value::integer(int64_t(utf8_length(v.s)));
    if (v.is_list()) return Value::integer(int64_t(v.list->size()));
    if (v.is_dict()) return Value::integer(int64_t(v.dict->size()));
    return at(line, "object of type '" + type_name(v) + "' has no len()");
  }
  if (name == "abs") {
    if (v.type == Value::Type::Int) return Value::integer(v.i < 0 ? -v.i : v.i);
    if (v.type == Value::Type::Bool) return Value::integer(v.b);
    if (v.is_number()) return Value::number(std::fabs(v.as_double()));
    return at(line, "bad operand type for abs(): '" + type_name(v) + "'");
  }
  if (name == "int") {
    const Value dflt = get_arg(a, 0, "default", Value::integer(0));
    const int base = int(get_arg(a, 1, "base", Value::integer(10)).i);
    if (v.type == Value::Type::Int) return v;
    if (v.type == Value::Type::Bool) return Value::integer(v.b);
    if (v.type == Value::Type::Float) return Value::integer(int64_t(std::trunc(v.f)));
    if (v.is_string()) {
      const std::string s = py_strip(v.s, Value::none(), true, true);
      char* end = nullptr;
      const long long x = std::strtoll(s.c_str(), &end, base);
      if (!s.empty() && end && *end == 0) return Value::integer(x);
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0) return Value::integer(int64_t(d));
    }
    return dflt;
  }
  if (name == "float") {
    const Value dflt = get_arg(a, 0, "default", Value::number(0.0));
    if (v.is_number()) return Value::number(v.as_double());
    if (v.is_string()) {
      const std::string s = py_strip(v.s, Value::none(), true, true);
      char* end = nullptr;
      const double d = std::strtod(s.c_str(), &end);
      if (!s.empty() && end && *end == 0) return Value::number(d);
    }
    return dflt;
  }
  if (name == "round") {
    if (!v.is_number()) return at(line, "round: a number is required");
    const int64_t prec = get_arg(a, 0, "precision", Value::integer(0)).i;
    const std::string method = to_str(get_arg(a, 1, "method", Value::string("common")));
    if (v.type != Value::Type::Float && method == "common") return Value::integer(v.type == Value::Type::Bool ? v.b : v.i);
    const double scale = std::pow(10.0, double(prec));
    const double x = v.as_double() * scale;
    double r = method == "ceil" ? std::ceil(x) : method == "floor" ? std::floor(x) : std::nearbyint(x);
    return Value::number(r / scale);
  }
  if (name == "items" || name == "dictsort") {
    if (v.is_undefined()) return Value::list_of({});
    if (!v.is_dict()) return at(line, "'" + name + "' needs a mapping, got " + type_name(v));
    List out;
    for (const auto& kv : *v.dict) out.push_back(Value::list_of({Value::string(kv.first), kv.second}, true));
    if (name == "items") return Value::list_of(std::move(out));
    const bool by_value = to_str(get_arg(a, 1, "by", Value::string("key"))) == "value";
    return sort_values(std::move(out), truthy(get_arg(a, 2, "reverse", Value::boolean(false))),
                       truthy(get_arg(a, 0, "case_sensitive", Value::boolean(false))),
                       Value::integer(by_value ? 1 : 0), line);
  }
  HEARTH_ASSIGN(List seq, as_sequence(v, line));
  if (name == "list") return Value::list_of(std::move(seq));
  if (name == "first" || name == "last") {
    if (seq.empty()) return Value::undefined(name);
    return name == "first" ? seq.front() : seq.back();
  }
  if (name == "reverse") {
    std::reverse(seq.begin(), seq.end());
    if (v.is_string()) {
      std::string s;
      for (auto& c : seq) s += c.s;
      return Value::string(s);
    }
    return Value::list_of(std::move(seq));
  }
  if (name == "join") {
    const std::string sep = to_str(get_arg(a, 0, "d", Value::string("")));
    const Value attr = get_arg(a, 1, "attribute", Value::none());
    std::string out;
    for (size_t k = 0; k < seq.size(); ++k) {
      out += (k ? sep : "") + to_str(attr.is_none() ? seq[k] : attribute_of(seq[k], attr));
    }
    return Value::string(out);
  }
  if (name == "sort")
    return sort_values(std::move(seq), truthy(get_arg(a, 0, "reverse", Value::boolean(false))),
                       truthy(get_arg(a, 1, "case_sensitive", Value::boolean(false))), get_arg(a, 2, "attribute"), line);
  if (name == "unique") {
    const bool cs = truthy(get_arg(a, 0, "case_sensitive", Value::boolean(false)));
    const Value attr = get_arg(a, 1, "attribute", Value::none());
    List out, seen;
    for (const auto& x : seq) {
      Value k = attr.is_none() ? x : attribute_of(x, attr);
      if (!cs && k.is_string()) k.s = ascii_map(k.s, [](int c) { return std::tolower(c); });
      bool dup = false;
      for (const auto& s : seen) dup |= equals(s, k);
      if (!dup) {
        seen.push_back(k);
        out.push_back(x);
      }
    }
    return Value::list_of(std::move(out));
  }
  if (name == "sum") {
    const Value attr = get_arg(a, 0, "attribute", Value::none());
    Value total = get_arg(a, 1, "start", Value::integer(0));
    for (const auto& x : seq) {
      const Value item = attr.is_none() ? x : attribute_of(x, attr);
      if (total.is_list() && item.is_list()) {
        List l = *total.list;
        l.insert(l.end(), item.list->begin(), item.list->end());
        total = Value::list_of(std::move(l));
      } else if (total.is_number() && item.is_number()) {
        total = (total.type == Value::Type::Float || item.type == Value::Type::Float)
                    ? Value::number(total.as_double() + item.as_double())
                    : Value::integer(total.i + (item.type == Value::Type::Bool ? item.b : item.i));
      } else {
        return at(line, "sum: unsupported operand types '" + type_name(total) + "' and '" + type_name(item) + "'");
      }
    }
    return total;
  }
  if (name == "max" || name == "min") {
    const Value attr = get_arg(a, 1, "attribute", Value::none());
    const bool cs = truthy(get_arg(a, 0, "case_sensitive", Value::boolean(false)));
    HEARTH_ASSIGN(Value sorted, sort_values(seq, name == "max", cs, attr, line));
    if (sorted.list->empty()) return Value::undefined(name);
    return sorted.list->front();
  }
  if (name == "map") {
    List out;
    const Value attr = get_arg(a, 999, "attribute");
    if (!attr.is_undefined()) {
      const Value dflt = get_arg(a, 999, "default");
      for (const auto& x : seq) {
        Value r = attribute_of(x, attr);
        out.push_back(r.is_undefined() && !dflt.is_undefined() ? dflt : r);
      }
      return Value::list_of(std::move(out));
    }
    if (a.pos.empty() || !a.pos[0].is_string()) return at(line, "map needs a filter name or attribute=");
    Args rest;
    rest.pos.assign(a.pos.begin() + 1, a.pos.end());
    rest.kw = a.kw;
    for (const auto& x : seq) {
      Args each = rest;
      HEARTH_ASSIGN(Value r, apply_filter(a.pos[0].s, x, each, line));
      out.push_back(std::move(r));
    }
    return Value::list_of(std::move(out));
  }
  if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr") {
    const bool by_attr = name == "selectattr" || name == "rejectattr";
    const bool keep_if = name == "select" || name == "selectattr";
    const size_t test_pos = by_attr ? 1 : 0;
    if (by_attr && a.pos.empty()) return at(line, name + " needs an attribute name");
    Args targs;
    if (a.pos.size() > test_pos + 1) targs.pos.assign(a.pos.begin() + ptrdiff_t(test_pos) + 1, a.pos.end());
    List out;
    for (const auto& x : seq) {
      const Value subject = by_attr ? attribute_of(x, a.pos[0]) : x;
      bool pass;
      if (a.pos.size() > test_pos) {
        Args each = targs;
        HEARTH_ASSIGN(pass, apply_test(to_str(a.pos[test_pos]), subject, each, line));
      } else {
        pass = truthy(subject);
      }
      if (pass == keep_if) out.push_back(x);
    }
    return Value::list_of(std::move(out));
  }
  if (name == "batch") {
    const int64_t n = get_arg(a, 0, "linecount", Value::integer(1)).i;
    if (n <= 0) return at(line, "batch needs a positive size");
    List out, cur;
    for (const auto& x : seq) {
      cur.push_back(x);
      if (int64_t(cur.size()) == n) {
        out.push_back(Value::list_of(std::move(cur)));
        cur.clear();
      }
    }
    if (!cur.empty()) {
      const Value fill = get_arg(a, 1, "fill_with", Value::none());
      if (!fill.is_none())
        while (int64_t(cur.size()) < n) cur.push_back(fill);
      out.push_back(Value::list_of(std::move(cur)));
    }
    return Value::list_of(std::move(out));
  }
  return at(line, "unsupported Jinja filter '" + name + "'");
}

void add_builtin_globals(Globals& g) {
  g.emplace_back("raise_exception", Value::function([](Args& a) -> Result<Value> {
    return err("chat template raised an exception: ", to_str(get_arg(a, 0, "message")));
  }));
  g.emplace_back("strftime_now", Value::function([](Args& a) -> Result<Value> {
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
#if defined(_WIN32)
    localtime_s(&tm, &t);
#else
    localtime_r(&t, &tm);
#endif
    char buf[256];
    const size_t n = std::strftime(buf, sizeof buf, to_str(get_arg(a, 0, "format")).c_str(), &tm);
    return Value::string(std::string(buf, n));
  }));
  g.emplace_back("range", Value::function([](Args& a) -> Result<Value> {
    int64_t start = 0, stop = 0, step = 1;
    if (a.pos.size() == 1) stop = a.pos[0].i;
    else if (a.pos.size() >= 2) {
      start = a.pos[0].i;
      stop = a.pos[1].i;
      if (a.pos.size() >= 3) step = a.pos[2].i;
    } else {
      return err("range expected at least 1 argument");
    }
    if (step == 0) return err("range() arg 3 must not be zero");
    List out;
    for (int64_t k = start; step > 0 ? k < stop : k > stop; k += step) {
      if (out.size() > 1000000) return err("range() too large");
      out.push_back(Value::integer(k));
    }
    return Value::list_of(std::move(out));
  }));
  g.emplace_back("namespace", Value::function([](Args& a) -> Result<Value> {
    Dict d;
    if (!a.pos.empty() && a.pos[0].is_dict()) d = *a.pos[0].dict;
    for (auto& kv : a.kw) d.emplace_back(kv.first, kv.second);
    Value v = Value::dict_of(std::move(d));
    v.is_namespace = true;
    return v;
  }));
  g.emplace_back("dict", Value::function([](Args& a) -> Result<Value> {
    Dict d;
    for (auto& kv : a.kw) d.emplace_back(kv.first, kv.second);
    return Value::dict_of(std::move(d));
  }));
}

}  // namespace hearth::jinja
