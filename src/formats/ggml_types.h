// ggml tensor types as GGUF stores them: the type numbers, names, and each type's block (how
// many values one block holds and how many bytes it takes). Row conversions are in ggml_quants.h.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

namespace hearth {

enum class GgmlType : uint32_t {
  F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q8_1 = 9,
  Q2_K = 10, Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, Q8_K = 15,
  IQ2_XXS = 16, IQ2_XS = 17, IQ3_XXS = 18, IQ1_S = 19, IQ4_NL = 20, IQ3_S = 21, IQ2_S = 22,
  IQ4_XS = 23, I8 = 24, I16 = 25, I32 = 26, I64 = 27, F64 = 28, IQ1_M = 29, BF16 = 30,
  TQ1_0 = 34, TQ2_0 = 35, MXFP4 = 39,
};

struct GgmlTypeInfo {
  const char* name;
  int64_t block;        // values per block
  int64_t block_bytes;  // bytes per block
};

// The block of a known type; nullopt for a type number this reader does not know.
std::optional<GgmlTypeInfo> ggml_type_info(uint32_t type);
const char* ggml_type_name(GgmlType t);
// Parses "q8_0", "F16", ... (case-insensitive); nullopt if unknown.
std::optional<GgmlType> parse_ggml_type(const std::string& s);

}  // namespace hearth
