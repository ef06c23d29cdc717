// Fuzz target: tokenizer.json loading (model, normalizer, pre-tokenizer, decoder, added
// tokens), then a round of encode and decode with what loaded.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/warning.h"
#include "tokenizer/tokenizer.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = hearth::Tokenizer::load_json(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.json");
  if (!t.ok()) return 0;
  const std::vector<int32_t> ids = t->encode("Hello, world! 123 \xC3\xA9t\xC3\xA9 <|im_end|> \xE4\xB8\xAD\xE6\x96\x87 ");
  (void)t->decode(ids);
  std::vector<int32_t> all;
  for (int32_t i = 0; i < std::min<int32_t>(t->vocab_size(), 300); ++i) all.push_back(i);
  (void)t->decode(all, true);
  hearth::StreamDecoder s(*t);
  for (int32_t id : all) (void)s.step(id);
  (void)s.flush();
  return 0;
}
