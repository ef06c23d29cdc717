// GGUF checkpoints: config.json from the metadata, llama.cpp's tensor names, and tensor loading
// in row slices (dequantized, or as Q8_0 / Q4_0 blocks) with the q/k row order undone.
#include "model/gguf_checkpoint.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "core/finite.h"
#include "core/thread_pool.h"
#include "formats/ggml_quants.h"
#include "ops/block_formats.h"

namespace hearth {

namespace {

constexpr const char* kGgufProj[kNumProj] = {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"};

// A number as config.json writes it: values stored as float32 in GGUF (1e-6 reads back as
// 9.99999997e-07) get the shortest decimal that rounds to the same float.
Json num(double v) {
  if (double(float(v)) == v) {
    char buf[32];
    for (int prec = 1; prec <= 9; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*g", prec, v);
      if (std::strtof(buf, nullptr) == float(v)) return Json::number(std::strtod(buf, nullptr), false);
    }
  }
  return Json::number(v, false);
}
Json integer(int64_t v) { return Json::number(double(v), true); }

// Llama 3 rope scaling from llama.cpp's rope_freqs tensor (one divisor per frequency): the
// divisors are 1 above the high-frequency cutoff, `factor` below the low one and smooth in
// between; with low_freq_factor 1 the band's two ends give high_freq_factor and the original
// context. The fit must reproduce every divisor.
Result<Json> llama3_rope_from_freqs(const GgufFile& g, const GgufTensor& t, double theta, int64_t rot_dim) {
  const int64_t half = rot_dim / 2;
  if (t.numel() != half || !ggml_can_dequantize(t.type)) return err(g.path(), ": rope_freqs.weight: expected ", half, " float values");
  std::vector<uint8_t> raw(size_t(t.nbytes));
  HEARTH_CHECK(g.read(t, 0, raw.size(), raw.data()));
  std::vector<float> ff(static_cast<size_t>(half));
  dequantize_row(t.type, raw.data(), half, ff.data());
  const double factor = *std::max_element(ff.begin(), ff.end());
  if (factor <= 1.0 + 1e-6) return Json();
  // smooth = (old / wavelen - low) / (high - low), wavelen = 2 pi / freq; here from the divisors.
  std::vector<std::pair<double, double>> band;  // (freq / 2 pi, smooth)
  for (int64_t i = 0; i < half; ++i) {
    const double f = ff[size_t(i)];
    if (f > 1.0 + 1e-4 && f < factor * (1 - 1e-4)) {
      const double freq = std::pow(theta, -2.0 * double(i) / double(rot_dim));
      band.emplace_back(freq / (2 * M_PI), (1.0 / f - 1.0 / factor) / (1.0 - 1.0 / factor));
    }
  }
  if (band.size() < 2) return err(g.path(), ": rope_freqs.weight does not have the Llama 3 form (too few values between 1 and ", factor, ")");
  const auto& [x0, y0] = band.front();
  const auto& [x1, y1] = band.back();
  const double a = (y1 - y0) / (x1 - x0), b = y0 - a * x0;  // smooth = a x + b
  const double high = 1.0 - 1.0 / b, old_ctx = std::round(a * (high - 1.0));
  const double high_r = std::round(high * 1000.0) / 1000.0;
  for (int64_t i = 0; i < half; ++i) {
    const double freq = std::pow(theta, -2.0 * double(i) / double(rot_dim)), wavelen = 2 * M_PI / freq;
    double want = 1.0;
    if (wavelen > old_ctx) want = factor;
    else if (wavelen >= old_ctx / high_r) {
      const double s = (old_ctx / wavelen - 1.0) / (high_r - 1.0);
      want = 1.0 / ((1 - s) / factor + s);
    }
    if (std::fabs(want - ff[size_t(i)]) > 1e-3 * want) return err(g.path(), ": rope_freqs.weight does not have the Llama 3 form (value ", i, ")");
  }
  return Json::object({{"rope_type", Json::string("llama3")}, {"factor", num(factor)}, {"low_freq_factor", num(1.0)},
                       {"high_freq_factor", num(high_r)}, {"original_max_position_embeddings", integer(int64_t(old_ctx))}});
}

// rope_scaling from {arch}.rope.scaling.* (or the tensor rope_freqs.weight).
Result<Json> rope_scaling(const GgufFile& g, const std::string& a, double theta, int64_t rot_dim) {
  if (const GgufTensor* t = g.tensor("rope_freqs.weight")) return llama3_rope_from_freqs(g, *t, theta, rot_dim);
  HEARTH_ASSIGN(std::string type, g.get_string(a + ".rope.scaling.type", "none"));
  HEARTH_ASSIGN(double factor, g.get_float(a + ".rope.scaling.factor", 0.0));
  if (type == "none" || type.empty()) {
    HEARTH_ASSIGN(double lin, g.get_float(a + ".rope.scale_linear", 1.0));
    if (lin == 1.0) return Json();
    type = "linear";
    factor = lin;
  }
  if (type == "linear") return Json::object({{"rope_type", Json::string("linear")}, {"factor", num(factor)}});
  if (type == "yarn") {
    Json::Object o = {{"rope_type", Json::string("yarn")}, {"factor", num(factor)}};
    HEARTH_ASSIGN(int64_t orig, g.get_int(a + ".rope.scaling.original_context_length", 0));
    if (orig > 0) o.emplace_back("original_max_position_embeddings", integer(orig));
    for (const char* k : {"beta_fast", "beta_slow"}) {
      const std::string key = a + ".rope.scaling.yarn_" + k;
      if (g.find(key)) {
        HEARTH_ASSIGN(double v, g.get_float(key));
        o.emplace_back(k, num(v));
      }
    }
    return Json::object(std::move(o));
  }
  return err(g.path(), ": ", a, ".rope.scaling.type \"", type, "\" is not supported (expected none, linear or yarn)");
}

// The sizes in the metadata must agree with the tensors (so nothing is sized from a number the
// file's own data does not back).
Status check_sizes_against_tensors(const GgufFile& g, const std::string& a, int64_t d, int64_t ff, int64_t layers,
                                   int64_t heads, int64_t kv_heads, int64_t head_dim, int64_t rot_dim) {
  auto rows_of = [&](const std::string& name) -> int64_t {
    const GgufTensor* t = g.tensor(name);
    return t && t->ne.size() == 2 ? t->ne[1] : -1;
  };
  auto mismatch = [&](const std::string& key, int64_t v, const std::string& tensor, int64_t have) {
    return err(g.path(), ": ", key, " ", v, " does not match tensor ", tensor, " (", have, ")");
  };
  const int64_t embd_cols = g.tensor("token_embd.weight")->ne[0];
  if (d != embd_cols) return mismatch(a + ".embedding_length", d, "token_embd.weight", embd_cols);
  if (layers <= 0 || layers > int64_t(g.tensors().size())) return err(g.path(), ": ", a, ".block_count ", layers, " does not fit the file's ", g.tensors().size(), " tensors");
  if (const int64_t r = rows_of("blk.0.ffn_up.weight"); r >= 0 && r != ff) return mismatch(a + ".feed_forward_length", ff, "blk.0.ffn_up.weight", r);
  if (heads <= 0 || kv_heads <= 0 || head_dim <= 0) return err(g.path(), ": head counts and key_length must be positive");
  if (const int64_t r = rows_of("blk.0.attn_q.weight"); r >= 0 && r != heads * head_dim) return mismatch(a + ".attention.head_count x key_length", heads * head_dim, "blk.0.attn_q.weight", r);
  if (const int64_t r = rows_of("blk.0.attn_k.weight"); r >= 0 && r != kv_heads * head_dim) return mismatch(a + ".attention.head_count_kv x key_length", kv_heads * head_dim, "blk.0.attn_k.weight", r);
  if (rot_dim <= 0 || rot_dim > head_dim) return err(g.path(), ": ", a, ".rope.dimension_count ", rot_dim, " must be in [1, ", head_dim, "]");
  return {};
}

std::vector<int64_t> stop_ids(const GgufFile& g) {
  std::vector<int64_t> ids;
  for (const char* k : {"tokenizer.ggml.eos_token_id", "tokenizer.ggml.eot_token_id", "tokenizer.ggml.eom_token_id"}) {
    auto v = g.get_int(k);
    if (v.ok() && std::find(ids.begin(), ids.end(), *v) == ids.end()) ids.push_back(*v);
  }
  return ids;
}

}  // namespace

std::string gguf_tensor_name(TensorRole role, int64_t layer, Proj proj) {
  const std::string p = "blk." + std::to_string(layer) + ".";
  switch (role) {
    case TensorRole::Embed: return "token_embd.weight";
    case TensorRole::LmHead: return "output.weight";
    case TensorRole::FinalNorm: return "output_norm.weight";
    case TensorRole::AttnNorm: return p + "attn_norm.weight";
    case TensorRole::MlpNorm: return p + "ffn_norm.weight";
    case TensorRole::QNorm: return p + "attn_q_norm.weight";
    case TensorRole::KNorm: return p + "attn_k_norm.weight";
    case TensorRole::Weight: return p + kGgufProj[int(proj)] + ".weight";
    case TensorRole::Bias: return p + kGgufProj[int(proj)] + ".bias";
  }
  return "";
}

Result<Json> hf_config_from_gguf(const GgufFile& g) {
  HEARTH_ASSIGN(std::string a, g.get_string("general.architecture"));
  if (a != "llama" && a != "qwen2" && a != "qwen3") return err(g.path(), ": architecture \"", a, "\" is not supported (expected llama, qwen2 or qwen3)");
  const GgufTensor* embd = g.tensor("token_embd.weight");
  if (!embd || embd->ne.size() != 2) return err(g.path(), ": tensor token_embd.weight is missing or not a matrix");
  HEARTH_ASSIGN(int64_t d, g.get_int(a + ".embedding_length"));
  HEARTH_ASSIGN(int64_t ff, g.get_int(a + ".feed_forward_length"));
  HEARTH_ASSIGN(int64_t layers, g.get_int(a + ".block_count"));
  HEARTH_ASSIGN(int64_t heads, g.get_int(a + ".attention.head_count"));
  HEARTH_ASSIGN(int64_t kv_heads, g.get_int(a + ".attention.head_count_kv", heads));
  HEARTH_ASSIGN(int64_t ctx, g.get_int(a + ".context_length", 4096));
  HEARTH_ASSIGN(double eps, g.get_float(a + ".attention.layer_norm_rms_epsilon", 1e-6));
  HEARTH_ASSIGN(double theta, g.get_float(a + ".rope.freq_base", 10000.0));
  if (heads <= 0) return err(g.path(), ": ", a, ".attention.head_count must be positive");
  HEARTH_ASSIGN(int64_t head_dim, g.get_int(a + ".attention.key_length", d / heads));
  HEARTH_ASSIGN(int64_t v_dim, g.get_int(a + ".attention.value_length", head_dim));
  if (v_dim != head_dim) return err(g.path(), ": key_length ", head_dim, " and value_length ", v_dim, " differ (not supported)");
  HEARTH_ASSIGN(int64_t rot_dim, g.get_int(a + ".rope.dimension_count", head_dim));
  HEARTH_CHECK(check_sizes_against_tensors(g, a, d, ff, layers, heads, kv_heads, head_dim, rot_dim));
  Json::Object c = {
      {"model_type", Json::string(a)},
      {"architectures", Json::array({Json::string(a == "llama" ? "LlamaForCausalLM" : a == "qwen2" ? "Qwen2ForCausalLM" : "Qwen3ForCausalLM")})},
      {"vocab_size", integer(embd->ne[1])},
      {"hidden_size", integer(d)},
      {"intermediate_size", integer(ff)},
      {"num_hidden_layers", integer(layers)},
      {"num_attention_heads", integer(heads)},
      {"num_key_value_heads", integer(kv_heads)},
      {"head_dim", integer(head_dim)},
      {"rms_norm_eps", num(eps)},
      {"max_position_embeddings", integer(ctx)},
      {"rope_theta", num(theta)},
      {"hidden_act", Json::string("silu")},
      {"tie_word_embeddings", Json::boolean(g.tensor("output.weight") == nullptr)},
      {"torch_dtype", Json::string("float32")},
  };
  if (rot_dim != head_dim && head_dim > 0) c.emplace_back("partial_rotary_factor", num(double(rot_dim) / double(head_dim)));
  if (a != "qwen2") c.emplace_back("attention_bias", Json::boolean(g.tensor("blk.0.attn_q.bias") != nullptr));
  if (a == "llama") c.emplace_back("mlp_bias", Json::boolean(g.tensor("blk.0.ffn_gate.bias") != nullptr));
  HEARTH_ASSIGN(Json rope, rope_scaling(g, a, theta, rot_dim));
  if (!rope.is_null()) c.emplace_back("rope_scaling", rope);
  if (auto bos = g.get_int("tokenizer.ggml.bos_token_id"); bos.ok()) c.emplace_back("bos_token_id", integer(*bos));
  const std::vector<int64_t> eos = stop_ids(g);
  if (eos.size() == 1) c.emplace_back("eos_token_id", integer(eos[0]));
  if (eos.size() > 1) {
    Json::Array arr;
    for (int64_t id : eos) arr.push_back(integer(id));
    c.emplace_back("eos_token_id", Json::array(std::move(arr)));
  }
  return Json::object(std::move(c));
}

bool gguf_rows_permuted(const ModelConfig& c, const HfTensor& t) {
  return c.arch == Arch::Llama && (t.role == TensorRole::Weight || t.role == TensorRole::Bias) &&
         (t.proj == Proj::Q || t.proj == Proj::K);
}

int64_t gguf_row(int64_t r, int64_t head_dim) {
  const int64_t half = head_dim / 2, h = r / head_dim, k = r % head_dim;
  const int64_t j = k / half, i = k % half;
  return h * head_dim + 2 * i + j;
}

GgufTensorSource::GgufTensorSource(std::shared_ptr<const GgufFile> file, const ModelConfig& config)
    : file_(std::move(file)), config_(config) {
  for (const HfTensor& t : hf_tensors(config_)) {
    Entry e;
    e.gguf_name = gguf_tensor_name(t.role, t.layer, t.proj);
    e.tensor = file_->tensor(e.gguf_name);
    e.permuted = gguf_rows_permuted(config_, t);
    by_hf_name_[t.name] = e;
  }
}

std::optional<std::vector<int64_t>> GgufTensorSource::shape(const std::string& name) const {
  auto it = by_hf_name_.find(name);
  if (it == by_hf_name_.end() || !it->second.tensor) return std::nullopt;
  return it->second.tensor->shape();
}

Result<GgufTensorSource::Entry> GgufTensorSource::entry(const std::string& name, std::span<const int64_t> expect) const {
  auto it = by_hf_name_.find(name);
  if (it == by_hf_name_.end()) return err(file_->path(), ": tensor ", name, " has no GGUF counterpart");
  if (!it->second.tensor) return err(file_->path(), ": tensor ", it->second.gguf_name, " (", name, ") is missing");
  const GgufTensor& t = *it->second.tensor;
  const std::vector<int64_t> sh = t.shape();
  if (!std::equal(sh.begin(), sh.end(), expect.begin(), expect.end())) {
    std::string want = "[";
    for (size_t i = 0; i < expect.size(); ++i) want += (i ? ", " : "") + std::to_string(expect[i]);
    return err(file_->path(), ": tensor ", t.name, " (", name, "): expected shape ", want, "], file has ", t.shape_str());
  }
  if (!ggml_can_dequantize(t.type)) return err(file_->path(), ": tensor ", t.name, ": type ", ggml_type_name(t.type), " is not supported (expected F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K or Q6_K)");
  return it->second;
}

Status GgufTensorSource::read_rows(const Entry& e, int64_t r0, int64_t n, uint8_t* dst) const {
  const GgufTensor& t = *e.tensor;
  const int64_t cols = t.ne[0];
  const auto info = ggml_type_info(uint32_t(t.type));
  const uint64_t rb = uint64_t(cols / info->block * info->block_bytes);
  if (!e.permuted) return file_->read(t, uint64_t(r0) * rb, size_t(uint64_t(n) * rb), dst);
  const int64_t hd = config_.head_dim;
  for (int64_t i = 0; i < n; ++i) {
    HEARTH_CHECK(file_->read(t, uint64_t(gguf_row(r0 + i, hd)) * rb, size_t(rb), dst + uint64_t(i) * rb));
  }
  return {};
}

namespace {
// Rows per slice read from the file: about 4 MiB of raw data.
int64_t slice_rows(uint64_t row_bytes) { return std::max<int64_t>(1, int64_t((uint64_t(4) << 20) / std::max<uint64_t>(1, row_bytes))); }
}  // namespace

Result<std::vector<float>> GgufTensorSource::load_f32(const std::string& name, std::span<const int64_t> expect) const {
  HEARTH_ASSIGN(Entry e, entry(name, expect));
  const GgufTensor& t = *e.tensor;
  const int64_t cols = t.ne[0], rows = t.numel() / cols;
  const auto info = ggml_type_info(uint32_t(t.type));
  const uint64_t rb = uint64_t(cols / info->block * info->block_bytes);
  std::vector<float> out(size_t(t.numel()));
  std::vector<uint8_t> raw;
  Entry plain = e;
  plain.permuted = false;  // rows of a matrix, elements of a bias: reordered below
  for (int64_t r = 0; r < rows; r += slice_rows(rb)) {
    const int64_t n = std::min(slice_rows(rb), rows - r);
    raw.resize(size_t(uint64_t(n) * rb));
    HEARTH_CHECK(read_rows(plain, r, n, raw.data()));
    for (int64_t i = 0; i < n; ++i) {
      float* row = out.data() + (r + i) * cols;
      dequantize_row(t.type, raw.data() + uint64_t(i) * rb, cols, row);
      const size_t bad = first_non_finite(row, size_t(cols));
      if (bad != size_t(cols)) {
        return err(file_->path(), ": tensor ", t.name, " (", name, "): element ", (r + i) * cols + int64_t(bad), " is ",
                   std::isnan(row[bad]) ? "NaN" : "infinite", " (non-finite weights: a corrupt file, or one saved from a diverged run)");
      }
    }
  }
  if (!e.permuted) return out;
  const int64_t hf_rows = expect[0], width = t.numel() / hf_rows;
  std::vector<float> hf(out.size());
  for (int64_t r = 0; r < hf_rows; ++r) {
    std::copy_n(out.begin() + gguf_row(r, config_.head_dim) * width, width, hf.begin() + r * width);
  }
  return hf;
}

Result<QMatrix> GgufTensorSource::load_matrix(const std::string& name, int64_t rows, int64_t cols, WeightFormat fmt, bool table,
                                              ThreadPool* pool, bool search) const {
  const int64_t shape[2] = {rows, cols};
  HEARTH_ASSIGN(Entry e, entry(name, shape));
  const GgmlType type = e.tensor->type;
  if (type == GgmlType::Q8_0 || type == GgmlType::Q4_0) {
    QMatrix m = make_block_matrix(type == GgmlType::Q8_0 ? WeightFormat::Q8_0 : WeightFormat::Q4_0, rows, cols);
    const uint64_t rb = uint64_t(block_row_bytes(m.format, cols));
    std::vector<uint8_t> raw;
    for (int64_t r = 0; r < rows; r += slice_rows(rb)) {
      const int64_t n = std::min(slice_rows(rb), rows - r);
      raw.resize(size_t(uint64_t(n) * rb));
      HEARTH_CHECK(read_rows(e, r, n, raw.data()));
      // Each block starts with its f16 scale: a NaN or Inf one makes the block's values non-finite.
      const auto info = ggml_type_info(uint32_t(type));
      const size_t blocks = size_t(uint64_t(n) * rb / uint64_t(info->block_bytes));
      const size_t bad = first_non_finite_f16(raw.data(), blocks, size_t(info->block_bytes));
      if (bad != blocks) {
        const int64_t per_row = cols / info->block;
        return err(file_->path(), ": tensor ", e.tensor->name, " (", name, "): row ", r + int64_t(bad) / per_row, ", block ",
                   int64_t(bad) % per_row, " has a non-finite scale (non-finite weights: a corrupt file, or one saved from a diverged run)");
      }
      set_block_rows(m, r, n, raw.data());
    }
    return m;
  }
  HEARTH_ASSIGN(std::vector<float> w, load_f32(name, shape));
  return quantize_matrix(w, rows, cols, load_format(name, fmt, table), pool, search);
}

WeightFormat GgufTensorSource::load_format(const std::string& name, WeightFormat fmt, bool table) const {
  auto it = by_hf_name_.find(name);
  if (it == by_hf_name_.end() || !it->second.tensor) return fmt;
  const GgmlType type = it->second.tensor->type;
  if (type == GgmlType::Q8_0) return WeightFormat::Q8_0;
  if (type == GgmlType::Q4_0) return WeightFormat::Q4_0;
  const bool is_float = type == GgmlType::F32 || type == GgmlType::F16 || type == GgmlType::BF16;
  return is_float ? fmt : table ? WeightFormat::Int8 : WeightFormat::Int4;
}

Result<Checkpoint> open_gguf_checkpoint(const std::string& path) {
  HEARTH_ASSIGN(GgufFile g, GgufFile::open(path));
  auto file = std::make_shared<const GgufFile>(std::move(g));
  HEARTH_ASSIGN(Json cfg_json, hf_config_from_gguf(*file));
  Checkpoint c;
  HEARTH_ASSIGN(c.config, parse_model_config(cfg_json, path + " (metadata)"));
  c.tensors = std::make_unique<GgufTensorSource>(file, c.config);
  return c;
}

}  // namespace hearth
