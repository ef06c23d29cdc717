// Jinja's binary operators with Python semantics (+ - * / // % ** on ints, floats, strings and
// lists), with checked integer arithmetic and sizes checked before a string or list is built.
#include <algorithm>
#include <cmath>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

Error undefined_error(const Value& v, Ctx& c) {
  return c.fail("'" + (v.s.empty() ? std::string("value") : v.s) + "' is undefined");
}

// seq * n for a string or list.
Result<Value> repeat(const Value& seq, int64_t n, Ctx& c) {
  n = std::max<int64_t>(0, n);
  if (seq.is_string()) {
    HEARTH_ASSIGN(int64_t bytes, checked_mul(n, int64_t(seq.s.size()), c));
    HEARTH_CHECK(c.fits_string(bytes));
    HEARTH_CHECK(c.charge(bytes));
    std::string s;
    s.reserve(size_t(bytes));
    for (int64_t k = 0; k < n; ++k) s += seq.s;
    return Value::string(std::move(s));
  }
  HEARTH_ASSIGN(int64_t items, checked_mul(n, int64_t(seq.list->size()), c));
  HEARTH_CHECK(c.fits_items(items));
  int64_t item_bytes = 0;  // the strings copied with each repetition
  for (const auto& x : *seq.list) item_bytes += int64_t(x.s.size());
  HEARTH_ASSIGN(int64_t bytes, checked_mul(n, item_bytes, c));
  HEARTH_CHECK(c.charge(bytes));
  HEARTH_CHECK(c.step(items));
  List l;
  l.reserve(size_t(items));
  for (int64_t k = 0; k < n; ++k) l.insert(l.end(), seq.list->begin(), seq.list->end());
  return Value::list_of(std::move(l), seq.is_tuple);
}

Result<Value> add(const Value& a, const Value& b, Ctx& c) {
  if (a.is_number() && b.is_number()) {
    if (a.is_int() && b.is_int()) {
      HEARTH_ASSIGN(int64_t r, checked_add(a.as_int(), b.as_int(), c));
      return Value::integer(r);
    }
    return Value::number(a.as_double() + b.as_double());
  }
  if (a.is_string() && b.is_string()) {
    HEARTH_CHECK(c.fits_string(int64_t(a.s.size() + b.s.size())));
    HEARTH_CHECK(c.charge(int64_t(a.s.size() + b.s.size())));
    return Value::string(a.s + b.s);
  }
  if (a.is_list() && b.is_list()) {
    HEARTH_CHECK(c.fits_items(int64_t(a.list->size() + b.list->size())));
    HEARTH_CHECK(c.step(int64_t(a.list->size() + b.list->size())));
    List l = *a.list;
    l.insert(l.end(), b.list->begin(), b.list->end());
    return Value::list_of(std::move(l), a.is_tuple && b.is_tuple);
  }
  if (a.is_string() || b.is_string())
    return c.fail("can only concatenate str (not \"" + type_name(a.is_string() ? b : a) + "\") to str");
  return c.fail("unsupported operand type(s) for +: '" + type_name(a) + "' and '" + type_name(b) + "'");
}

// a ** b for ints (b >= 0), by squaring, every product checked.
Result<int64_t> int_power(int64_t base, int64_t exp, Ctx& c) {
  int64_t r = 1;
  while (exp > 0) {
    if (exp & 1) {
      HEARTH_ASSIGN(r, checked_mul(r, base, c));
    }
    exp >>= 1;
    if (exp > 0) {
      HEARTH_ASSIGN(base, checked_mul(base, base, c));
    }
  }
  return r;
}

// Floor division and modulo with Python's signs.
Result<Value> floor_div_mod(const std::string& op, const Value& a, const Value& b, Ctx& c) {
  if (b.as_double() == 0) return c.fail(op == "%" ? "modulo by zero" : "integer division by zero");
  if (a.is_int() && b.is_int()) {
    const int64_t x = a.as_int(), y = b.as_int();
    if (x == INT64_MIN && y == -1) return c.fail("integer overflow in " + std::to_string(x) + " " + op + " -1");
    int64_t q = x / y, r = x % y;
    if (r != 0 && ((r < 0) != (y < 0))) {
      q -= 1;
      r += y;
    }
    return Value::integer(op == "//" ? q : r);
  }
  const double x = a.as_double(), y = b.as_double();
  if (op == "//") return Value::number(std::floor(x / y));
  double r = std::fmod(x, y);
  if (r != 0 && ((r < 0) != (y < 0))) r += y;
  return Value::number(r);
}

}  // namespace

Result<Value> binary_op(const std::string& op, const Value& a, const Value& b, Ctx& c) {
  if (a.is_undefined()) return undefined_error(a, c);
  if (b.is_undefined()) return undefined_error(b, c);
  auto bad = [&]() {
    return c.fail("unsupported operand type(s) for " + op + ": '" + type_name(a) + "' and '" + type_name(b) + "'");
  };
  if (op == "+") return add(a, b, c);
  if (op == "*") {
    if (a.is_number() && b.is_number()) {
      if (a.is_int() && b.is_int()) {
        HEARTH_ASSIGN(int64_t r, checked_mul(a.as_int(), b.as_int(), c));
        return Value::integer(r);
      }
      return Value::number(a.as_double() * b.as_double());
    }
    const Value* seq = (a.is_string() || a.is_list()) ? &a : (b.is_string() || b.is_list()) ? &b : nullptr;
    const Value* cnt = seq == &a ? &b : &a;
    if (seq && cnt->is_int()) return repeat(*seq, cnt->as_int(), c);
    return bad();
  }
  if (!a.is_number() || !b.is_number()) {
    if (op == "%" && a.is_string()) {
      HEARTH_ASSIGN(std::string s, percent_format(a.s, b, c));
      return Value::string(std::move(s));
    }
    return bad();
  }
  const bool ints = a.is_int() && b.is_int();
  if (op == "-") {
    if (!ints) return Value::number(a.as_double() - b.as_double());
    HEARTH_ASSIGN(int64_t r, checked_sub(a.as_int(), b.as_int(), c));
    return Value::integer(r);
  }
  if (op == "/") {
    if (b.as_double() == 0) return c.fail("division by zero");
    return Value::number(a.as_double() / b.as_double());
  }
  if (op == "//" || op == "%") return floor_div_mod(op, a, b, c);
  if (op == "**") {
    if (ints && b.as_int() >= 0) {
      HEARTH_ASSIGN(int64_t r, int_power(a.as_int(), b.as_int(), c));
      return Value::integer(r);
    }
    return Value::number(std::pow(a.as_double(), b.as_double()));
  }
  return c.fail("unknown operator '" + op + "'");
}

}  // namespace hearth::jinja
