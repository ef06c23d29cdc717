// KV cache row formats (kv_cache.h).
#include "ops/kv_cache.h"

#include <cmath>
#include <cstring>
#if defined(__F16C__) && defined(__AVX__)
#include <immintrin.h>
#endif

#include "core/dtype.h"

namespace hearth {

const char* kv_dtype_name(KvDType t) {
  switch (t) {
    case KvDType::F32: return "f32";
    case KvDType::F16: return "f16";
    case KvDType::Int8: return "int8";
  }
  return "?";
}

int64_t kv_row_elements(KvDType t, int64_t head_dim) {
  switch (t) {
    case KvDType::F32: return head_dim;
    case KvDType::F16: return head_dim / 2;
    case KvDType::Int8: return head_dim / 4 + 1;
  }
  return head_dim;
}

bool kv_dtype_fits(KvDType t, int64_t head_dim) {
  return t == KvDType::F32 || (t == KvDType::F16 && head_dim % 2 == 0) || (t == KvDType::Int8 && head_dim % 4 == 0);
}

void encode_kv_row(const float* x, int64_t D, KvDType t, float* dst) {
  switch (t) {
    case KvDType::F32:
      std::memcpy(dst, x, size_t(D) * 4);
      return;
    case KvDType::F16: {
      uint16_t* h = reinterpret_cast<uint16_t*>(dst);
      for (int64_t i = 0; i < D; ++i) h[i] = f32_to_f16(x[i]);
      return;
    }
    case KvDType::Int8: {
      float amax = 0;
      for (int64_t i = 0; i < D; ++i) amax = std::max(amax, std::fabs(x[i]));
      const float scale = amax / 127.0f;
      const float inv = scale > 0 ? 1.0f / scale : 0.0f;
      int8_t* q = reinterpret_cast<int8_t*>(dst);
      for (int64_t i = 0; i < D; ++i) q[i] = int8_t(std::lrintf(std::fmin(127.0f, std::fmax(-127.0f, x[i] * inv))));
      dst[D / 4] = scale;
      return;
    }
  }
}

void decode_kv_row(const float* src, int64_t D, KvDType t, float* out) {
  switch (t) {
    case KvDType::F32:
      std::memcpy(out, src, size_t(D) * 4);
      return;
    case KvDType::F16: {
      const uint16_t* h = reinterpret_cast<const uint16_t*>(src);
      int64_t i = 0;
#if defined(__F16C__) && defined(__AVX__)
      for (; i + 8 <= D; i += 8)  // the same values, 8 at a time (exact conversion either way)
        _mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(h + i))));
#endif
      for (; i < D; ++i) out[i] = f16_to_f32(h[i]);
      return;
    }
    case KvDType::Int8: {
      const int8_t* q = reinterpret_cast<const int8_t*>(src);
      const float scale = src[D / 4];
      for (int64_t i = 0; i < D; ++i) out[i] = float(q[i]) * scale;
      return;
    }
  }
}

}  // namespace hearth
