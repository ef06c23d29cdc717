// The split regexes behind GGUF's tokenizer.ggml.pre names, as tokenizer.json files write them.
#pragma once

namespace hearth {

// "qwen2" (Qwen2 / 2.5 / 3): single digits.
inline constexpr const char* kQwen2Regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";
// "llama-bpe" (Llama 3): digits in runs of up to three.
inline constexpr const char* kLlama3Regex =
    R"re((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)re";

}  // namespace hearth
