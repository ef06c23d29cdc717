// The globals every chat template sees, as a name -> function table: Jinja's range, namespace
// and dict, and transformers' raise_exception and strftime_now.
#include <cmath>
#include <ctime>
#include <utility>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

Result<Value> raise_exception(Args& a, Ctx&) {
  return err("chat template raised an exception: ", to_str(get_arg(a, 0, "message")));
}

Result<Value> strftime_now(Args& a, Ctx&) {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[256];
  const size_t n = std::strftime(buf, sizeof buf, to_str(get_arg(a, 0, "format")).c_str(), &tm);
  return Value::string(std::string(buf, n));
}

// range(stop) / range(start, stop[, step]), at most max_items long.
Result<Value> range(Args& a, Ctx& c) {
  if (a.pos.empty() || a.pos.size() > 3) return c.fail("range expected 1 to 3 integer arguments");
  int64_t arg[3] = {0, 0, 1};
  for (size_t k = 0; k < a.pos.size(); ++k) {
    HEARTH_ASSIGN(arg[k], int_arg(a.pos[k], "range() argument", c));
  }
  const int64_t start = a.pos.size() == 1 ? 0 : arg[0];
  const int64_t stop = a.pos.size() == 1 ? arg[0] : arg[1];
  const int64_t step = a.pos.size() == 3 ? arg[2] : 1;
  if (step == 0) return c.fail("range() arg 3 must not be zero");
  // Length as Python computes it, in floating point to stay clear of overflow.
  const double span = step > 0 ? double(stop) - double(start) : double(start) - double(stop);
  const double len = span <= 0 ? 0 : std::ceil(span / (step > 0 ? double(step) : -double(step)));
  if (len > double(c.limits().max_items)) return c.fail("range() of " + std::to_string(int64_t(len)) + " items is larger than the limit of " + std::to_string(c.limits().max_items));
  HEARTH_CHECK(c.step(int64_t(len)));
  List out;
  out.reserve(size_t(len));
  for (int64_t k = 0; k < int64_t(len); ++k) out.push_back(Value::integer(start + k * step));
  return Value::list_of(std::move(out));
}

Result<Value> make_namespace(Args& a, Ctx& c) {
  Dict d;
  if (!a.pos.empty() && a.pos[0].is_dict()) d = *a.pos[0].dict;
  for (auto& kv : a.kw) d.emplace_back(kv.first, kv.second);
  for (const auto& kv : d) HEARTH_CHECK(check_namespace_attribute(kv.second, c));
  Value v = Value::dict_of(std::move(d));
  HEARTH_CHECK(c.fits_depth(v.depth));
  v.is_namespace = true;
  return v;
}

Result<Value> make_dict(Args& a, Ctx& c) {
  Dict d;
  for (auto& kv : a.kw) d.emplace_back(kv.first, kv.second);
  Value v = Value::dict_of(std::move(d));
  HEARTH_CHECK(c.fits_depth(v.depth));
  return v;
}

// A namespace, or a function (a bound method can hold a dict that holds the namespace).
bool contains_namespace(const Value& v) {
  if (v.type == Value::Type::Function) return true;
  if (v.is_dict()) {
    if (v.is_namespace) return true;
    for (const auto& kv : *v.dict)
      if (contains_namespace(kv.second)) return true;
  } else if (v.is_list()) {
    for (const auto& x : *v.list)
      if (contains_namespace(x)) return true;
  }
  return false;
}

}  // namespace

Status check_namespace_attribute(const Value& v, Ctx& c) {
  HEARTH_CHECK(c.fits_depth(v.depth + 1));
  if (contains_namespace(v))
    return c.fail("a namespace cannot hold another namespace or a function (directly or in a list or dict)");
  return {};
}

void add_builtin_globals(Globals& g) {
  static const std::pair<const char*, Result<Value> (*)(Args&, Ctx&)> kGlobals[] = {
      {"raise_exception", raise_exception}, {"strftime_now", strftime_now}, {"range", range},
      {"namespace", make_namespace}, {"dict", make_dict},
  };
  for (const auto& [name, fn] : kGlobals) g.emplace_back(name, Value::function(fn));
}

}  // namespace hearth::jinja
