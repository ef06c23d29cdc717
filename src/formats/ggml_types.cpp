// The ggml type table (block sizes from the GGUF / ggml specification).
#include "formats/ggml_types.h"

#include <cctype>

namespace hearth {

namespace {

struct Entry {
  GgmlType type;
  GgmlTypeInfo info;
};

constexpr int64_t kK = 256;  // super-block of the k-quants and most i-quants

constexpr Entry kTypes[] = {
    {GgmlType::F32, {"F32", 1, 4}},         {GgmlType::F16, {"F16", 1, 2}},
    {GgmlType::Q4_0, {"Q4_0", 32, 18}},     {GgmlType::Q4_1, {"Q4_1", 32, 20}},
    {GgmlType::Q5_0, {"Q5_0", 32, 22}},     {GgmlType::Q5_1, {"Q5_1", 32, 24}},
    {GgmlType::Q8_0, {"Q8_0", 32, 34}},     {GgmlType::Q8_1, {"Q8_1", 32, 36}},
    {GgmlType::Q2_K, {"Q2_K", kK, 84}},     {GgmlType::Q3_K, {"Q3_K", kK, 110}},
    {GgmlType::Q4_K, {"Q4_K", kK, 144}},    {GgmlType::Q5_K, {"Q5_K", kK, 176}},
    {GgmlType::Q6_K, {"Q6_K", kK, 210}},    {GgmlType::Q8_K, {"Q8_K", kK, 292}},
    {GgmlType::IQ2_XXS, {"IQ2_XXS", kK, 66}}, {GgmlType::IQ2_XS, {"IQ2_XS", kK, 74}},
    {GgmlType::IQ3_XXS, {"IQ3_XXS", kK, 98}}, {GgmlType::IQ1_S, {"IQ1_S", kK, 50}},
    {GgmlType::IQ4_NL, {"IQ4_NL", 32, 18}}, {GgmlType::IQ3_S, {"IQ3_S", kK, 110}},
    {GgmlType::IQ2_S, {"IQ2_S", kK, 82}},   {GgmlType::IQ4_XS, {"IQ4_XS", kK, 136}},
    {GgmlType::I8, {"I8", 1, 1}},           {GgmlType::I16, {"I16", 1, 2}},
    {GgmlType::I32, {"I32", 1, 4}},         {GgmlType::I64, {"I64", 1, 8}},
    {GgmlType::F64, {"F64", 1, 8}},         {GgmlType::IQ1_M, {"IQ1_M", kK, 56}},
    {GgmlType::BF16, {"BF16", 1, 2}},       {GgmlType::TQ1_0, {"TQ1_0", kK, 54}},
    {GgmlType::TQ2_0, {"TQ2_0", kK, 66}},   {GgmlType::MXFP4, {"MXFP4", 32, 17}},
};

}  // namespace

std::optional<GgmlTypeInfo> ggml_type_info(uint32_t type) {
  for (const Entry& e : kTypes) {
    if (uint32_t(e.type) == type) return e.info;
  }
  return std::nullopt;
}

const char* ggml_type_name(GgmlType t) {
  auto i = ggml_type_info(uint32_t(t));
  return i ? i->name : "?";
}

std::optional<GgmlType> parse_ggml_type(const std::string& s) {
  std::string up;
  for (char c : s) up += char(std::toupper(static_cast<unsigned char>(c)));
  for (const Entry& e : kTypes) {
    if (up == e.info.name) return e.type;
  }
  return std::nullopt;
}

}  // namespace hearth
