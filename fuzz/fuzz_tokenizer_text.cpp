// Fuzz target: encode, decode and streaming decode of arbitrary bytes with real tokenizers
// (byte-level BPE: the bundled pycoder-6m and Qwen3 from the fixtures, with its added tokens;
// sentencepiece-style: Llama 2). The first byte picks the tokenizer. Checks the streaming contract: the
// pieces add up to decode(all ids) whenever that has no U+FFFD.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "core/warning.h"
#include "tokenizer/tokenizer.h"

namespace {

std::vector<hearth::Tokenizer> load_all() {
  std::vector<hearth::Tokenizer> v;
  const std::string fx = std::string(HEARTH_FIXTURES) + "/tokenizers/";
  for (const std::string& path : {std::string(HEARTH_FUZZ_MODELS) + "/pycoder-6m/tokenizer.json",
                                  fx + "qwen3.tokenizer.json", fx + "llama2.tokenizer.json"}) {
    auto t = hearth::Tokenizer::load_file(path);
    if (t.ok()) v.push_back(std::move(*t));
  }
  if (v.empty()) {
    std::fprintf(stderr, "fuzz_tokenizer_text: no tokenizer could be loaded\n");
    std::abort();
  }
  return v;
}

}  // namespace

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<hearth::Tokenizer> toks = load_all();
  if (size == 0) return 0;
  const hearth::Tokenizer& t = toks[data[0] % toks.size()];
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const std::vector<int32_t> ids = t.encode(text);
  const std::string whole = t.decode(ids);
  hearth::StreamDecoder s(t);
  std::string streamed;
  for (int32_t id : ids) streamed += s.step(id);
  streamed += s.flush();
  if (whole.find("\xEF\xBF\xBD") == std::string::npos && streamed != whole) {
    std::fprintf(stderr, "streamed decode differs from decode(ids)\n");
    std::abort();
  }
  // The same bytes as ids (any value, in and out of the vocabulary).
  std::vector<int32_t> raw;
  for (size_t i = 1; i + 2 < size; i += 3) raw.push_back(int32_t(data[i] | (data[i + 1] << 8) | (data[i + 2] << 16)) - 8);
  (void)t.decode(raw, data[0] & 1);
  hearth::StreamDecoder s2(t, data[0] & 2);
  for (int32_t id : raw) (void)s2.step(id);
  (void)s2.flush();
  return 0;
}
