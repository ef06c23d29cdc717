// Conversions between Hugging Face checkpoint folders and GGUF files (`hearth convert`).
//
// Folder -> GGUF: config.json as {arch}.* metadata (llama, qwen2, qwen3), tokenizer.json as
// tokenizer.ggml.* (gguf_vocab.h), bos / eos ids and the chat template of tokenizer_config.json,
// and every tensor under llama.cpp's name (q/k rows reordered for the llama architecture, Llama
// 3 rope scaling as rope_freqs.weight). Vectors are written F32; matrices in the chosen type:
// F32, F16, BF16, Q8_0, or Q4_0 with the token embedding and LM head in Q8_0 (llama.cpp's
// reference quantizers, so the bytes equal its own). A matrix whose rows are not a multiple of
// 32 is written F16 in the Q8_0 / Q4_0 modes.
//
// GGUF -> folder: config.json, model.safetensors (F32, or F16 / BF16 as asked; "auto" keeps F16
// and BF16 tensors and writes the others F32, which holds any dequantized value exactly),
// tokenizer.json and tokenizer_config.json.
#pragma once
#include <string>

#include "core/error.h"
#include "formats/ggml_types.h"

namespace hearth {

// type: F32, F16, BF16, Q8_0 or Q4_0.
Status convert_hf_to_gguf(const std::string& dir, const std::string& out_path, GgmlType type);
// dtype: "auto", "f32", "f16" or "bf16".
Status convert_gguf_to_hf(const std::string& gguf_path, const std::string& out_dir, const std::string& dtype);

}  // namespace hearth
