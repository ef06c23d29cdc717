// Fuzz target: the LoRA adapter loader. The input is an adapter_config.json, a line "----",
// then the adapter's safetensors bytes; a leading "M" picks the MLX layout (else PEFT). The
// model is a small Qwen2-shaped one, so that every tensor shape can be met.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/warning.h"
#include "formats/config.h"
#include "model/lora.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hearth::ModelConfig cfg = *hearth::parse_model_config(
      *hearth::parse_json(R"({"model_type": "qwen2", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 24,
                              "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1})", "c"),
      "config.json");
  std::string_view in(reinterpret_cast<const char*>(data), size);
  const bool mlx = !in.empty() && in[0] == 'M';
  if (mlx) in.remove_prefix(1);
  const size_t sep = in.find("\n----\n");
  if (sep == std::string_view::npos) return 0;
  auto ac = hearth::parse_json(in.substr(0, sep), "adapter_config.json");
  if (!ac.ok()) return 0;
  const std::string_view rest = in.substr(sep + 6);
  auto file = hearth::MappedFile::from_bytes(std::vector<uint8_t>(rest.begin(), rest.end()), "adapter.safetensors");
  auto st = hearth::SafetensorsFile::parse(file);
  if (!st.ok()) return 0;
  (void)hearth::parse_lora_adapter(*ac, "adapter_config.json", *st, mlx, cfg);
  return 0;
}
