// Fuzz target: the GGUF reader and everything done with a GGUF file's bytes short of running
// the model (tests/gguf_fuzz_entry.h: metadata, tensor reads, the config, small tensors under
// their Hugging Face names, the tokenizer), plus the matrices kept as Q8_0 / Q4_0 blocks (the
// scale check) and, for an adapter file, the LoRA reader against the seeds' model shape.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/warning.h"
#include "gguf_fuzz_entry.h"
#include "model/gguf_lora.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

namespace {

using namespace hearth;

// The reduced model of the seeds (fuzz/make_seeds.py): qwen2, hidden 32, one layer.
const ModelConfig& seed_model() {
  static const ModelConfig cfg = *parse_model_config(
      *parse_json(R"({"model_type": "qwen2", "vocab_size": 256, "hidden_size": 32, "intermediate_size": 64,
                      "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 2})", "c"),
      "config.json");
  return cfg;
}

void exercise_matrices_and_adapter(const uint8_t* data, size_t size) {
  auto parsed = GgufFile::parse(MappedFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.gguf"));
  if (!parsed.ok()) return;
  auto g = std::make_shared<const GgufFile>(std::move(*parsed));
  if (auto type = g->get_string("general.type", ""); type.ok() && *type == "adapter") {
    (void)read_gguf_lora(*g, seed_model());
    return;
  }
  auto cfg_json = hf_config_from_gguf(*g);
  if (!cfg_json.ok()) return;
  auto cfg = parse_model_config(*cfg_json, "fuzz.gguf");
  if (!cfg.ok()) return;
  GgufTensorSource src(g, *cfg);
  for (const HfTensor& t : hf_tensors(*cfg)) {
    if (t.shape.size() != 2 || t.shape[0] * t.shape[1] > (int64_t(1) << 16)) continue;
    (void)src.load_matrix(t.name, t.shape[0], t.shape[1], WeightFormat::F32, false, nullptr, false);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  hearth::test::exercise_gguf(data, size);
  exercise_matrices_and_adapter(data, size);
  return 0;
}
