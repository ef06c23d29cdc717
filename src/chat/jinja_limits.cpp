// The budget of one render (steps, bytes, sizes, nesting) and checked integer arithmetic: what
// keeps a hostile chat template from hanging, exhausting memory or overflowing.
#include <limits>
#include <string>

#include "chat/jinja.h"

namespace hearth::jinja {

Error Ctx::fail(const std::string& msg) const { return err("chat template line ", line, ": ", msg); }

Status Ctx::step(int64_t n) {
  steps_ += n;
  if (steps_ > limits_.max_steps)
    return fail("evaluation stopped after " + std::to_string(limits_.max_steps) +
                " steps (a loop that does not end, or far more work than a chat template needs)");
  return {};
}

Status Ctx::charge(int64_t bytes) {
  work_ += bytes;
  if (work_ > limits_.max_work_bytes)
    return fail("evaluation stopped after building " + std::to_string(limits_.max_work_bytes >> 20) +
                " MiB of strings (far more than a chat template needs)");
  return {};
}

Status Ctx::fits_string(int64_t bytes) const {
  if (bytes < 0 || bytes > limits_.max_string_bytes)
    return fail("a string of " + std::to_string(bytes) + " bytes would exceed the limit of " +
                std::to_string(limits_.max_string_bytes) + " bytes");
  return {};
}

Status Ctx::fits_items(int64_t n) const {
  if (n < 0 || n > limits_.max_items)
    return fail("a sequence of " + std::to_string(n) + " items would exceed the limit of " +
                std::to_string(limits_.max_items));
  return {};
}

Status Ctx::fits_depth(int depth) const {
  if (depth > kMaxValueDepth)
    return fail("values nested more than " + std::to_string(kMaxValueDepth) + " levels deep");
  return {};
}

Result<int64_t> checked_add(int64_t a, int64_t b, Ctx& c) {
  int64_t r;
  if (__builtin_add_overflow(a, b, &r)) return c.fail("integer overflow in " + std::to_string(a) + " + " + std::to_string(b));
  return r;
}

Result<int64_t> checked_sub(int64_t a, int64_t b, Ctx& c) {
  int64_t r;
  if (__builtin_sub_overflow(a, b, &r)) return c.fail("integer overflow in " + std::to_string(a) + " - " + std::to_string(b));
  return r;
}

Result<int64_t> checked_mul(int64_t a, int64_t b, Ctx& c) {
  int64_t r;
  if (__builtin_mul_overflow(a, b, &r)) return c.fail("integer overflow in " + std::to_string(a) + " * " + std::to_string(b));
  return r;
}

}  // namespace hearth::jinja
