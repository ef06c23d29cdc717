// Jinja tests (`x is defined`, `n is divisibleby 3`, ...) as a name -> function table.
#include <cctype>
#include <cmath>
#include <string_view>
#include <unordered_map>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

Value other(const Args& a) { return get_arg(a, 0, "value"); }

Result<bool> defined(const Value& v, Args&, Ctx&) { return !v.is_undefined(); }
Result<bool> undefined(const Value& v, Args&, Ctx&) { return v.is_undefined(); }
Result<bool> none(const Value& v, Args&, Ctx&) { return v.is_none(); }
Result<bool> boolean(const Value& v, Args&, Ctx&) { return v.type == Value::Type::Bool; }
Result<bool> is_false(const Value& v, Args&, Ctx&) { return v.type == Value::Type::Bool && !v.b; }
Result<bool> is_true(const Value& v, Args&, Ctx&) { return v.type == Value::Type::Bool && v.b; }
Result<bool> integer(const Value& v, Args&, Ctx&) { return v.type == Value::Type::Int; }
Result<bool> floating(const Value& v, Args&, Ctx&) { return v.type == Value::Type::Float; }
Result<bool> number(const Value& v, Args&, Ctx&) { return v.is_number(); }
Result<bool> string(const Value& v, Args&, Ctx&) { return v.is_string(); }
Result<bool> mapping(const Value& v, Args&, Ctx&) { return v.is_dict(); }
Result<bool> iterable(const Value& v, Args&, Ctx&) { return v.is_list() || v.is_string() || v.is_dict(); }
Result<bool> callable(const Value& v, Args&, Ctx&) { return v.type == Value::Type::Function; }
Result<bool> lower(const Value& v, Args&, Ctx&) {
  return v.is_string() && ascii_map(v.s, [](int c) { return std::tolower(c); }) == v.s;
}
Result<bool> upper(const Value& v, Args&, Ctx&) {
  return v.is_string() && ascii_map(v.s, [](int c) { return std::toupper(c); }) == v.s;
}

// Python's v % d == r with the sign of the divisor.
Result<bool> modulo_is(const Value& v, double d, double r, const char* test, Ctx& c) {
  if (!v.is_number()) return c.fail(std::string("test '") + test + "' needs a number, got " + type_name(v));
  double m = std::fmod(v.as_double(), d);
  if (m != 0 && ((m < 0) != (d < 0))) m += d;
  return m == r;
}
Result<bool> odd(const Value& v, Args&, Ctx& c) { return modulo_is(v, 2.0, 1.0, "odd", c); }
Result<bool> even(const Value& v, Args&, Ctx& c) { return modulo_is(v, 2.0, 0.0, "even", c); }
Result<bool> divisibleby(const Value& v, Args& a, Ctx& c) {
  const Value d = other(a);
  if (!d.is_number() || d.as_double() == 0) return c.fail("divisibleby needs a non-zero number");
  return modulo_is(v, d.as_double(), 0.0, "divisibleby", c);
}

Result<bool> eq(const Value& v, Args& a, Ctx&) { return equals(v, other(a)); }
Result<bool> ne(const Value& v, Args& a, Ctx&) { return !equals(v, other(a)); }
Result<bool> sameas(const Value& v, Args& a, Ctx&) {
  const Value o = other(a);
  if (v.type != o.type) return false;
  if (v.is_list()) return v.list == o.list;
  if (v.is_dict()) return v.dict == o.dict;
  return equals(v, o);
}
Result<bool> in(const Value& v, Args& a, Ctx& c) {
  const Value o = other(a);
  if (o.is_string()) return v.is_string() && o.s.find(v.s) != std::string::npos;
  HEARTH_ASSIGN(List l, as_sequence(o, c));
  for (const auto& x : l)
    if (equals(x, v)) return true;
  return false;
}

Result<bool> compare(const Value& x, const Value& y, Ctx& c) {
  auto r = less(x, y);
  if (!r.ok()) return c.fail(r.message());
  return *r;
}
Result<bool> lt(const Value& v, Args& a, Ctx& c) { return compare(v, other(a), c); }
Result<bool> gt(const Value& v, Args& a, Ctx& c) { return compare(other(a), v, c); }
Result<bool> le(const Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(bool r, compare(other(a), v, c));
  return !r;
}
Result<bool> ge(const Value& v, Args& a, Ctx& c) {
  HEARTH_ASSIGN(bool r, compare(v, other(a), c));
  return !r;
}

const std::unordered_map<std::string_view, TestFn>& tests() {
  static const std::unordered_map<std::string_view, TestFn> t = {
      {"defined", defined}, {"undefined", undefined}, {"none", none}, {"boolean", boolean},
      {"false", is_false}, {"true", is_true}, {"integer", integer}, {"float", floating},
      {"number", number}, {"string", string}, {"mapping", mapping},
      {"sequence", iterable}, {"iterable", iterable}, {"callable", callable},
      {"lower", lower}, {"upper", upper}, {"odd", odd}, {"even", even}, {"divisibleby", divisibleby},
      {"eq", eq}, {"equalto", eq}, {"==", eq}, {"ne", ne}, {"!=", ne}, {"sameas", sameas}, {"in", in},
      {"lt", lt}, {"lessthan", lt}, {"<", lt}, {"gt", gt}, {"greaterthan", gt}, {">", gt},
      {"le", le}, {"<=", le}, {"ge", ge}, {">=", ge},
  };
  return t;
}

}  // namespace

TestFn find_test(std::string_view name) {
  auto it = tests().find(name);
  return it == tests().end() ? nullptr : it->second;
}

Result<bool> apply_test(const std::string& name, const Value& subject, Args& args, Ctx& c) {
  const TestFn fn = find_test(name);
  if (!fn) return c.fail("unsupported Jinja test '" + name + "'");
  return fn(subject, args, c);
}

}  // namespace hearth::jinja
