// LoRA adapters as llama.cpp's GGUF adapter files: general.type "adapter", adapter.type "lora",
// adapter.lora.alpha, general.architecture of the base model, and per projection the tensors
// blk.N.<name>.weight.lora_a (ggml [in, r], i.e. PEFT's lora_A [r, in]) and .lora_b (ggml
// [r, out], PEFT's lora_B [out, r]). llama.cpp scales by alpha / r (alpha 0: scale 1). For the
// llama architecture the rows of lora_b of q and k are in llama.cpp's q/k order, like the base.
//
// Writing: when every pair has the same rank and scale, alpha = scale x rank and B is written
// as it is; otherwise alpha is 0 and each B is written pre-multiplied by its pair's scale.
#pragma once
#include <string>

#include "core/error.h"
#include "formats/config.h"
#include "formats/gguf.h"
#include "model/lora.h"

namespace hearth {

Status write_gguf_lora(const LoraAdapter& adapter, const ModelConfig& base, const std::string& out_path);
// Reads a GGUF adapter for a model of `base` (the architecture and every shape checked).
Result<LoraAdapter> read_gguf_lora(const std::string& path, const ModelConfig& base);
// The same from a parsed file (the fuzz target reads one from memory).
Result<LoraAdapter> read_gguf_lora(const GgufFile& g, const ModelConfig& base);

}  // namespace hearth
