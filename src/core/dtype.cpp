// Half-precision conversions and dtype names.
#include "core/dtype.h"

namespace hearth {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::I16: return "I16";
    case DType::F64: return "F64";
    case DType::Bool: return "BOOL";
  }
  return "?";
}

bool parse_safetensors_dtype(const std::string& s, DType* out) {
  static const struct { const char* n; DType t; } kNames[] = {
      {"F32", DType::F32}, {"F16", DType::F16}, {"BF16", DType::BF16}, {"I32", DType::I32},
      {"I64", DType::I64}, {"I8", DType::I8},   {"U8", DType::U8},     {"I16", DType::I16},
      {"F64", DType::F64}, {"BOOL", DType::Bool}};
  for (const auto& e : kNames) {
    if (s == e.n) { *out = e.t; return true; }
  }
  return false;
}

float f16_to_f32(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t man = h & 0x3ffu;
  uint32_t u;
  if (exp == 0) {
    if (man == 0) {
      u = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do { man <<= 1; ++e; } while ((man & 0x400u) == 0);
      u = sign | uint32_t(127 - 15 - e) << 23 | (man & 0x3ffu) << 13;
    }
  } else if (exp == 31) {
    u = sign | 0x7f800000u | man << 13;
  } else {
    u = sign | (exp + 112) << 23 | man << 13;
  }
  return f32_from_bits(u);
}

uint16_t f32_to_f16(float f) {
  uint32_t u = bits_from_f32(f);
  uint32_t sign = (u >> 16) & 0x8000u;
  uint32_t au = u & 0x7fffffffu;
  if (au > 0x7f800000u) return uint16_t(sign | 0x7e00u);  // NaN
  if (au >= 0x477ff000u) return uint16_t(sign | 0x7c00u);  // rounds to inf
  if (au < 0x38800000u) {  // subnormal or zero in f16
    if (au < 0x33000000u) return uint16_t(sign);
    uint32_t e = au >> 23;
    uint32_t m = (au & 0x7fffffu) | 0x800000u;
    // value = m * 2^(e-150); the f16 subnormal unit is 2^-24, so q = m * 2^(e-126).
    uint32_t s = 126 - e;  // 14..24
    uint32_t q = m >> s;
    uint32_t rem = m & ((1u << s) - 1);
    uint32_t halfway = 1u << (s - 1);
    if (rem > halfway || (rem == halfway && (q & 1))) ++q;
    return uint16_t(sign | q);
  }
  uint32_t r = au + 0xfffu + ((au >> 13) & 1u);  // round mantissa to 10 bits
  return uint16_t(sign | ((r - 0x38000000u) >> 13));
}

}  // namespace hearth
