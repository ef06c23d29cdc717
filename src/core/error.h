// Errors as values: Status (ok or a message) and Result<T> (a value or an error).
// Messages are written for the user: they name the file, tensor or option and what was expected.
#pragma once
#include <string>
#include <utility>
#include <variant>

namespace hearth {

struct Error {
  std::string message;
};

class Status {
 public:
  Status() = default;
  Status(Error e) : err_(std::move(e.message)), failed_(true) {}  // NOLINT: implicit by design
  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const std::string& message() const { return err_; }
  Error error() const { return Error{err_}; }

 private:
  std::string err_;
  bool failed_ = false;
};

template <class T>
class Result {
 public:
  Result(T v) : v_(std::move(v)) {}      // NOLINT: implicit by design
  Result(Error e) : v_(std::move(e)) {}  // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  const std::string& message() const { return std::get<1>(v_).message; }
  Error error() const { return std::get<1>(v_); }
  Status status() const { return ok() ? Status() : Status(error()); }

 private:
  std::variant<T, Error> v_;
};

// Builds an Error from pieces: err("tensor ", name, ": expected ", n).
template <class... A>
Error err(const A&... parts) {
  std::string s;
  auto add = [&s](const auto& p) {
    if constexpr (std::is_arithmetic_v<std::decay_t<decltype(p)>>) {
      s += std::to_string(p);
    } else {
      s += p;
    }
  };
  (add(parts), ...);
  return Error{std::move(s)};
}

}  // namespace hearth

#define HEARTH_CONCAT_INNER(a, b) a##b
#define HEARTH_CONCAT(a, b) HEARTH_CONCAT_INNER(a, b)

// Returns the error of a Status-or-Result expression from the enclosing function.
#define HEARTH_CHECK(expr)                                  \
  do {                                                      \
    auto&& hearth_st_ = (expr);                             \
    if (!hearth_st_.ok()) return hearth_st_.error();        \
  } while (0)

// HEARTH_ASSIGN(auto x, f()) : unwraps a Result or returns its error.
#define HEARTH_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                       \
  if (!tmp.ok()) return tmp.error();       \
  lhs = std::move(tmp).value()
#define HEARTH_ASSIGN(lhs, expr) HEARTH_ASSIGN_IMPL(HEARTH_CONCAT(hearth_r_, __LINE__), lhs, expr)
