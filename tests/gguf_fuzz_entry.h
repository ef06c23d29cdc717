// Everything hearth does with the bytes of an untrusted GGUF file short of running the model:
// parse it, read every tensor's first bytes, derive the config and load the small tensors under
// their Hugging Face names, build the tokenizer and encode / decode with it, and derive the
// tokenizer_config. The mutation tests call it; a libFuzzer target is one line around it:
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* d, size_t n) { hearth::test::exercise_gguf(d, n); return 0; }
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "formats/gguf.h"
#include "model/gguf_checkpoint.h"
#include "tokenizer/gguf_vocab.h"
#include "tokenizer/tokenizer.h"

namespace hearth::test {

// Returns how far it got (0 = not parsed, 1 = parsed, +2 config, +4 tokenizer) for tests.
inline int exercise_gguf(const uint8_t* data, size_t size) {
  auto parsed = GgufFile::parse(MappedFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf"));
  if (!parsed.ok()) return 0;
  auto g = std::make_shared<const GgufFile>(std::move(*parsed));
  int reached = 1;
  for (const auto& [key, v] : g->metadata()) {
    (void)g->get_int(key);
    (void)g->get_float(key);
    (void)g->get_string(key);
  }
  uint8_t head[64];
  for (const auto& t : g->tensors()) (void)g->read(t, 0, size_t(std::min<uint64_t>(t.nbytes, sizeof head)), head);
  if (auto cfg_json = hf_config_from_gguf(*g); cfg_json.ok()) {
    if (auto cfg = parse_model_config(*cfg_json, "fuzz.gguf"); cfg.ok()) {
      reached += 2;
      GgufTensorSource src(g, *cfg);
      for (const HfTensor& t : hf_tensors(*cfg)) {
        int64_t n = 1;
        for (int64_t d : t.shape) n *= d;
        if (n <= (int64_t(1) << 16)) (void)src.load_f32(t.name, t.shape);
      }
    }
  }
  if (auto tj = tokenizer_json_from_gguf(*g); tj.ok()) {
    if (auto tok = Tokenizer::load_parsed(*tj, "fuzz.gguf"); tok.ok()) {
      reached += 4;
      const auto ids = tok->encode("Hello w\xC3\xB6rld <|im_end|> 12345\n\tdef f(): pass");
      (void)tok->decode(ids);
    }
  }
  (void)tokenizer_config_from_gguf(*g);
  return reached;
}

inline int exercise_gguf(const std::vector<uint8_t>& b) { return exercise_gguf(b.data(), b.size()); }

}  // namespace hearth::test
