// Small fixed-capacity containers for the per-dispatch recording path, which runs for every
// dispatch of every token: no heap allocation.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace hearth::webgpu {

// Up to N values in place; push_back past N is dropped and remembered (overflowed()).
template <typename T, size_t N>
class FixedVec {
 public:
  FixedVec() = default;
  FixedVec(std::initializer_list<T> l) { *this = l; }
  FixedVec& operator=(std::initializer_list<T> l) {
    n_ = 0;
    over_ = false;
    for (const T& v : l) push_back(v);
    return *this;
  }
  void push_back(const T& v) {
    if (n_ < N) {
      v_[n_++] = v;
    } else {
      over_ = true;
    }
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  bool overflowed() const { return over_; }
  T& operator[](size_t i) { return v_[i]; }
  const T& operator[](size_t i) const { return v_[i]; }
  T* begin() { return v_; }
  T* end() { return v_ + n_; }
  const T* begin() const { return v_; }
  const T* end() const { return v_ + n_; }

 private:
  T v_[N]{};
  size_t n_ = 0;
  bool over_ = false;
};

// WGSL const declarations (a pipeline's specialization) built without allocating:
// cu("WG", 64) + cb("ADD", true) is "const WG: u32 = 64u;\nconst ADD: bool = true;\n".
class Consts {
 public:
  Consts() = default;
  Consts(const char* s) { append(s, std::strlen(s)); }  // NOLINT: literal WGSL text
  Consts& operator+=(const Consts& o) {
    append(o.buf_, o.n_);
    over_ = over_ || o.over_;
    return *this;
  }
  // a + b appends b to the temporary a in place (no copy of the buffer per term); the chain's
  // result is a reference to its first temporary, valid until the end of the full expression, so
  // initialize a Consts from it (never bind a reference to it).
  friend Consts&& operator+(Consts&& a, const Consts& b) { return std::move(a += b); }
  std::string_view view() const { return {buf_, n_}; }
  bool overflowed() const { return over_; }
  void append(const char* s, size_t n) {
    if (n_ + n > sizeof(buf_)) {
      over_ = true;
      return;
    }
    std::memcpy(buf_ + n_, s, n);
    n_ += n;
  }

 private:
  char buf_[400];
  size_t n_ = 0;
  bool over_ = false;
};

// A WGSL u32 constant declaration.
inline Consts cu(const char* name, uint64_t v) {
  Consts c("const ");
  c.append(name, std::strlen(name));
  c.append(": u32 = ", 8);
  char digits[24];
  size_t n = 0;
  do {
    digits[sizeof(digits) - 1 - n++] = char('0' + v % 10);
    v /= 10;
  } while (v);
  c.append(digits + sizeof(digits) - n, n);
  c.append("u;\n", 3);
  return c;
}

// A WGSL bool constant declaration.
inline constexpr std::string_view kBoolTrue = ": bool = true;\n";
inline Consts cb(const char* name, bool v) {
  Consts c("const ");
  c.append(name, std::strlen(name));
  if (v) {
    c.append(kBoolTrue.data(), kBoolTrue.size());
  } else {
    c += Consts(": bool = false;\n");
  }
  return c;
}

// The names of the bool constants cb() declared true, each after a '+': "+PAIR+XV4+NORM" (a
// pipeline's label; not on the per-dispatch path).
inline std::string bools_on(const Consts& c) {
  std::string out;
  const std::string_view v = c.view();
  for (size_t at = v.find(kBoolTrue); at != std::string_view::npos; at = v.find(kBoolTrue, at + 1)) {
    const size_t name = v.rfind(' ', at) + 1;
    out += "+";
    out += v.substr(name, at - name);
  }
  return out;
}

}  // namespace hearth::webgpu
