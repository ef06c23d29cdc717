// Fuzz target: LinearRegex (target_modules patterns): a pattern, a NUL byte, then a text.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/linear_regex.h"
#include "core/warning.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const size_t nul = in.find('\0');
  auto re = hearth::LinearRegex::compile(in.substr(0, nul));
  if (!re.ok()) return 0;
  (void)re->full_match(nul == std::string_view::npos ? std::string_view() : in.substr(nul + 1));
  return 0;
}
