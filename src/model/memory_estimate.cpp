// Memory estimate of a model load (see memory_estimate.h): the same sizes Model::load
// allocates, in doubles so that no config can overflow the arithmetic.
#include "model/memory_estimate.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model/hf_layout.h"
#include "ops/block_formats.h"
#include "ops/qmatrix.h"

namespace hearth {

namespace {

// Bytes of a [rows, cols] matrix stored in format f (qmatrix.h).
double matrix_bytes(double rows, double cols, WeightFormat f) {
  switch (f) {
    case WeightFormat::F32: return rows * cols * 4;
    case WeightFormat::F16: return rows * cols * 2;
    case WeightFormat::Int8: return rows * cols + rows * 4;
    case WeightFormat::Int4: {
      const double groups = std::ceil(cols / double(QMatrix::kGroup));
      return rows * groups * (QMatrix::kGroup / 2 + 8);  // packed nibbles + f32 scale and min
    }
    case WeightFormat::Q8_0:
    case WeightFormat::Q4_0:
      return rows * double(block_row_bytes(f, int64_t(cols)));
  }
  return rows * cols * 4;
}

WeightFormat layer_format(ModelDType d) {
  switch (d) {
    case ModelDType::F32: return WeightFormat::F32;
    case ModelDType::F16: return WeightFormat::F16;
    case ModelDType::Int8: return WeightFormat::Int8;
    case ModelDType::Int4: return WeightFormat::Int4;
  }
  return WeightFormat::F32;
}

}  // namespace

std::string format_bytes(double bytes) {
  char buf[32];
  if (bytes >= 1e9) std::snprintf(buf, sizeof buf, "%.1f GB", bytes / 1e9);
  else if (bytes >= 1e6) std::snprintf(buf, sizeof buf, "%.1f MB", bytes / 1e6);
  else if (bytes >= 1e3) std::snprintf(buf, sizeof buf, "%.1f kB", bytes / 1e3);
  else std::snprintf(buf, sizeof buf, "%.0f B", bytes);
  return buf;
}

std::string MemoryEstimate::describe() const {
  return format_bytes(total()) + " (weights " + format_bytes(weights) + ", KV cache " + format_bytes(kv_cache) +
         ", scratch " + format_bytes(scratch) + ", while loading " + format_bytes(load_peak) + ")";
}

MemoryEstimate estimate_memory(const ModelConfig& c, ModelDType dtype, int64_t max_ctx, int64_t max_prefill_t,
                               const TensorSource* source) {
  const WeightFormat layer_fmt = layer_format(dtype);
  // Embeddings and LM head stay int8 when the layers are int4 (Model::load_weights).
  const WeightFormat table_fmt = layer_fmt == WeightFormat::Int4 ? WeightFormat::Int8 : layer_fmt;
  const double d = double(c.hidden_size), V = double(c.vocab_size), L = double(c.n_layers);
  using R = TensorRole;
  // The format each matrix loads in: the source may keep its own (GGUF Q8_0 / Q4_0 blocks).
  const auto format = [&](const std::string& name, WeightFormat f, bool table) {
    return source ? source->load_format(name, f, table) : f;
  };
  const auto layer_bytes = [&](int64_t i) {
    double b = 2 * d * 4;  // the two norms
    if (c.qk_norm) b += 2 * double(c.head_dim) * 4;
    for (int p = 0; p < kNumProj; ++p) {
      const double in = double(proj_in(c, Proj(p))), out = double(proj_out(c, Proj(p)));
      b += matrix_bytes(out, in, format(hf_tensor_name(R::Weight, i, Proj(p)), layer_fmt, false));
      if (proj_has_bias(c, Proj(p))) b += out * 4;
    }
    return b;
  };
  MemoryEstimate m;
  m.weights = matrix_bytes(V, d, format(hf_tensor_name(R::Embed), table_fmt, true)) + d * 4;  // + final norm
  if (!c.tie_word_embeddings) m.weights += matrix_bytes(V, d, format(hf_tensor_name(R::LmHead), table_fmt, true));
  if (source) {
    for (int64_t i = 0; i < c.n_layers; ++i) m.weights += layer_bytes(i);
  } else {
    m.weights += layer_bytes(0) * L;
  }
  // The largest group of matrices held as f32 while loading.
  const double qkv = double(c.q_dim() + 2 * c.kv_dim()) * d * 4, gate_up = 2 * double(c.intermediate_size) * d * 4;
  const double group_f32 = std::max({qkv, gate_up, V * d * 4});
  m.kv_cache = 2 * L * double(max_ctx) * double(c.kv_dim()) * 4;
  const double P = double(std::min(max_prefill_t, max_ctx));
  const double ff = double(c.intermediate_size);
  // x, h: [P, d]; q, attn: [P, q_dim]; k, v: [P, kv_dim]; gate, up: [P, ff]; a product scratch
  // of [P, max(ff, q_dim, d)]; 32 logit rows.
  m.scratch = 4 * (P * (2 * d + 2 * double(c.q_dim()) + 2 * double(c.kv_dim()) + 2 * ff) +
                   P * std::max({ff, double(c.q_dim()), d}) + 32 * V);
  m.load_peak = group_f32;
  return m;
}

}  // namespace hearth
