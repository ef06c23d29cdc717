// Hugging Face folder <-> GGUF file (see gguf_convert.h). Tensors stream one at a time: each is
// loaded as f32, reordered or converted, and written before the next is read.
#include "model/gguf_convert.h"

#include <sys/stat.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/dtype.h"
#include "formats/ggml_quants.h"
#include "formats/gguf_writer.h"
#include "formats/json_write.h"
#include "model/gguf_checkpoint.h"
#include "model/hf_layout.h"
#include "model/tensor_source.h"
#include "tokenizer/gguf_vocab.h"

namespace hearth {

namespace {

GgufValue u32(int64_t v) { return GgufValue::of_int(GgufType::U32, v); }
GgufValue f32(double v) { return GgufValue::of_float(GgufType::F32, v); }

// llama.cpp's general.file_type for the matrices' type.
int64_t file_type(GgmlType t) {
  switch (t) {
    case GgmlType::F16: return 1;
    case GgmlType::Q4_0: return 2;
    case GgmlType::Q8_0: return 7;
    case GgmlType::BF16: return 32;
    default: return 0;
  }
}

// llama.cpp's rope_freqs for Llama 3 scaling: one divisor per frequency.
std::vector<float> llama3_rope_freqs(const ModelConfig& c) {
  const RopeConfig& r = c.rope;
  const int64_t dim = c.rotary_dim();
  std::vector<float> out;
  const double low_wavelen = double(r.original_max_pos) / r.low_freq_factor;
  const double high_wavelen = double(r.original_max_pos) / r.high_freq_factor;
  for (int64_t i = 0; i < dim / 2; ++i) {
    const double freq = 1.0 / std::pow(r.theta, double(2 * i) / double(dim));
    const double wavelen = 2 * M_PI / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(float(r.factor));
    } else {
      const double smooth = (double(r.original_max_pos) / wavelen - r.low_freq_factor) / (r.high_freq_factor - r.low_freq_factor);
      out.push_back(float(1.0 / ((1 - smooth) / r.factor + smooth)));
    }
  }
  return out;
}

Status add_model_metadata(GgufWriter& w, const ModelConfig& c, const std::string& name, GgmlType type) {
  const std::string a = c.model_type;
  for (int64_t win : c.sliding_window) {
    if (win > 0) return err(name, ": sliding-window attention has no GGUF form that llama.cpp reads for ", a);
  }
  w.add("general.architecture", GgufValue::of_string(a));
  w.add("general.name", GgufValue::of_string(name));
  w.add("general.alignment", u32(int64_t(GgufWriter::kAlignment)));
  w.add(a + ".block_count", u32(c.n_layers));
  w.add(a + ".context_length", u32(c.max_position_embeddings));
  w.add(a + ".embedding_length", u32(c.hidden_size));
  w.add(a + ".feed_forward_length", u32(c.intermediate_size));
  w.add(a + ".attention.head_count", u32(c.n_heads));
  w.add(a + ".attention.head_count_kv", u32(c.n_kv_heads));
  w.add(a + ".rope.freq_base", f32(c.rope.theta));
  w.add(a + ".attention.layer_norm_rms_epsilon", f32(c.rms_norm_eps));
  if (c.head_dim * c.n_heads != c.hidden_size || c.arch == Arch::Qwen3) {
    w.add(a + ".attention.key_length", u32(c.head_dim));
    w.add(a + ".attention.value_length", u32(c.head_dim));
  }
  if (c.rotary_dim() != c.head_dim) w.add(a + ".rope.dimension_count", u32(c.rotary_dim()));
  switch (c.rope.type) {
    case RopeType::Default:
    case RopeType::Llama3:  // rope_freqs.weight
      break;
    case RopeType::Linear:
      w.add(a + ".rope.scaling.type", GgufValue::of_string("linear"));
      w.add(a + ".rope.scaling.factor", f32(c.rope.factor));
      break;
    case RopeType::Yarn:
      if (c.rope.attention_factor || c.rope.mscale != 0 || c.rope.mscale_all_dim != 0) {
        return err(name, ": yarn rope scaling with attention_factor or mscale has no GGUF form here");
      }
      w.add(a + ".rope.scaling.type", GgufValue::of_string("yarn"));
      w.add(a + ".rope.scaling.factor", f32(c.rope.factor));
      w.add(a + ".rope.scaling.original_context_length", u32(c.rope.original_max_pos));
      w.add(a + ".rope.scaling.yarn_beta_fast", f32(c.rope.beta_fast));
      w.add(a + ".rope.scaling.yarn_beta_slow", f32(c.rope.beta_slow));
      break;
  }
  w.add("general.file_type", u32(file_type(type)));
  w.add("general.quantization_version", u32(2));
  return {};
}

// The id of a special token given as text in tokenizer_config.json ("eos_token": "<|x|>" or
// {"content": "<|x|>"}), looked up in the GGUF token list.
std::optional<int64_t> token_id_of(const Json* v, const std::vector<std::string>& tokens) {
  if (!v) return std::nullopt;
  const Json* s = v->is_object() ? v->find("content") : v;
  if (!s || !s->is_string()) return std::nullopt;
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] == s->as_string()) return int64_t(i);
  }
  return std::nullopt;
}

// Nothing when the folder has no tokenizer.json (the file then carries the model alone).
Status add_tokenizer_metadata(GgufWriter& w, const std::string& dir, const ModelConfig& c) {
  const std::string tok_path = dir + "/tokenizer.json";
  if (FILE* f = std::fopen(tok_path.c_str(), "rb")) {
    std::fclose(f);
  } else {
    return {};
  }
  HEARTH_ASSIGN(std::string text, read_text_file(tok_path));
  HEARTH_ASSIGN(Json tok, parse_json(text, tok_path));
  HEARTH_ASSIGN(auto kv, gguf_tokenizer_metadata(tok, tok_path));
  Json tcfg = Json::object({});
  const std::string tcfg_path = dir + "/tokenizer_config.json";
  if (FILE* f = std::fopen(tcfg_path.c_str(), "rb")) {
    std::fclose(f);
    HEARTH_ASSIGN(tcfg, read_json_file(tcfg_path));
  }
  const std::vector<std::string>* tokens = nullptr;
  bool spm = false;
  for (const auto& [k, v] : kv) {
    if (k == "tokenizer.ggml.tokens") tokens = &v.strs;
    if (k == "tokenizer.ggml.model") spm = v.strs[0] == "llama";
  }
  std::optional<int64_t> bos = c.bos_token_id, eos;
  if (!c.eos_token_ids.empty()) eos = c.eos_token_ids[0];
  if (!bos) bos = token_id_of(tcfg.find_non_null("bos_token"), *tokens);
  if (!eos) eos = token_id_of(tcfg.find_non_null("eos_token"), *tokens);
  const std::optional<int64_t> pad = token_id_of(tcfg.find_non_null("pad_token"), *tokens);
  for (auto& [k, v] : kv) w.add(k, std::move(v));
  if (bos) w.add("tokenizer.ggml.bos_token_id", u32(*bos));
  if (eos) w.add("tokenizer.ggml.eos_token_id", u32(*eos));
  if (pad) w.add("tokenizer.ggml.padding_token_id", u32(*pad));
  const Json* add_bos = tcfg.find_non_null("add_bos_token");
  w.add("tokenizer.ggml.add_bos_token", GgufValue::of_bool(add_bos && add_bos->is_bool() ? add_bos->as_bool() : spm));
  if (const Json* ct = tcfg.find_non_null("chat_template")) {
    if (ct->is_string()) {
      w.add("tokenizer.chat_template", GgufValue::of_string(ct->as_string()));
    } else if (ct->is_array()) {
      for (const Json& e : ct->as_array()) {
        const Json* n = e.find("name");
        const Json* t = e.find("template");
        if (!n || !n->is_string() || !t || !t->is_string()) continue;
        w.add(n->as_string() == "default" ? "tokenizer.chat_template" : "tokenizer.chat_template." + n->as_string(),
              GgufValue::of_string(t->as_string()));
      }
    }
  } else {
    auto jinja = read_text_file(dir + "/chat_template.jinja");
    if (jinja.ok()) w.add("tokenizer.chat_template", GgufValue::of_string(*jinja));
  }
  return {};
}

// Encodes f32 rows [rows, cols] into `type`.
void encode(GgmlType type, const float* x, int64_t rows, int64_t cols, uint8_t* out) {
  const int64_t n = rows * cols;
  switch (type) {
    case GgmlType::F32: std::memcpy(out, x, size_t(n) * 4); break;
    case GgmlType::F16:
      for (int64_t i = 0; i < n; ++i) { const uint16_t h = f32_to_f16(x[i]); std::memcpy(out + 2 * i, &h, 2); }
      break;
    case GgmlType::BF16:
      for (int64_t i = 0; i < n; ++i) { const uint16_t h = f32_to_bf16(x[i]); std::memcpy(out + 2 * i, &h, 2); }
      break;
    case GgmlType::Q8_0:
      for (int64_t r = 0; r < rows; ++r) quantize_row_q8_0(x + r * cols, cols, out + r * (cols / 32) * kQ8_0Bytes);
      break;
    case GgmlType::Q4_0:
      for (int64_t r = 0; r < rows; ++r) quantize_row_q4_0(x + r * cols, cols, out + r * (cols / 32) * kQ4_0Bytes);
      break;
    default: break;
  }
}

GgmlType tensor_type(const HfTensor& t, GgmlType type) {
  if (!t.matrix()) return GgmlType::F32;
  const bool table = t.role == TensorRole::Embed || t.role == TensorRole::LmHead;
  GgmlType out = type == GgmlType::Q4_0 && table ? GgmlType::Q8_0 : type;
  if ((out == GgmlType::Q8_0 || out == GgmlType::Q4_0) && t.shape[1] % 32 != 0) out = GgmlType::F16;
  return out;
}

// The order llama.cpp-style writers use within a layer: attention norm, q/k/v weights, their
// biases, q/k norms, output projection, MLP norm, MLP weights (embeddings first, then the layers,
// the final norm and the head).
std::vector<HfTensor> gguf_order(std::vector<HfTensor> v) {
  auto rank = [](const HfTensor& t) {
    const bool mlp = t.proj == Proj::Gate || t.proj == Proj::Up || t.proj == Proj::Down;
    switch (t.role) {
      case TensorRole::Embed: return -1;
      case TensorRole::AttnNorm: return 0;
      case TensorRole::Weight: return mlp ? 8 : t.proj == Proj::O ? 5 : 1;
      case TensorRole::Bias: return mlp ? 9 : t.proj == Proj::O ? 6 : 2;
      case TensorRole::QNorm: return 3;
      case TensorRole::KNorm: return 4;
      case TensorRole::MlpNorm: return 7;
      case TensorRole::FinalNorm: return 100;
      case TensorRole::LmHead: return 101;
    }
    return 0;
  };
  std::stable_sort(v.begin(), v.end(), [&](const HfTensor& a, const HfTensor& b) {
    const int64_t la = a.layer < 0 ? (a.role == TensorRole::Embed ? -1 : INT64_MAX) : a.layer;
    const int64_t lb = b.layer < 0 ? (b.role == TensorRole::Embed ? -1 : INT64_MAX) : b.layer;
    return la != lb ? la < lb : rank(a) < rank(b);
  });
  return v;
}

std::string base_name(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  const size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

}  // namespace

Status convert_hf_to_gguf(const std::string& dir, const std::string& out_path, GgmlType type) {
  if (type != GgmlType::F32 && type != GgmlType::F16 && type != GgmlType::BF16 && type != GgmlType::Q8_0 && type != GgmlType::Q4_0) {
    return err("convert: GGUF type ", ggml_type_name(type), " cannot be written (expected f32, f16, bf16, q8_0 or q4_0)");
  }
  HEARTH_ASSIGN(Checkpoint ckpt, open_checkpoint(dir));
  const ModelConfig& c = ckpt.config;
  GgufWriter w;
  HEARTH_CHECK(add_model_metadata(w, c, base_name(dir), type));
  HEARTH_CHECK(add_tokenizer_metadata(w, dir, c));
  const std::vector<HfTensor> hf = gguf_order(hf_tensors(c));
  for (const HfTensor& t : hf) {
    if (!ckpt.tensors->has(t.name)) return err(dir, ": tensor ", t.name, " is missing");
    w.add_tensor({gguf_tensor_name(t.role, t.layer, t.proj), tensor_type(t, type), std::vector<int64_t>(t.shape.rbegin(), t.shape.rend())});
  }
  const bool rope_freqs = c.rope.type == RopeType::Llama3;
  if (rope_freqs) w.add_tensor({"rope_freqs.weight", GgmlType::F32, {c.rotary_dim() / 2}});
  return w.write(out_path, [&](size_t i, std::vector<uint8_t>& out) -> Status {
    if (i == hf.size()) {
      const std::vector<float> f = llama3_rope_freqs(c);
      std::memcpy(out.data(), f.data(), f.size() * 4);
      return {};
    }
    const HfTensor& t = hf[i];
    HEARTH_ASSIGN(std::vector<float> x, ckpt.tensors->load_f32(t.name, t.shape));
    const int64_t cols = t.shape.back(), rows = int64_t(x.size()) / cols;
    if (gguf_rows_permuted(c, t)) {  // GGUF row gguf_row(r) holds Hugging Face row r (a bias: element r)
      const int64_t n = t.shape[0], width = int64_t(x.size()) / n;
      std::vector<float> p(x.size());
      for (int64_t r = 0; r < n; ++r) std::memcpy(&p[size_t(gguf_row(r, c.head_dim) * width)], &x[size_t(r * width)], size_t(width) * 4);
      x.swap(p);
    }
    encode(w.tensors()[i].type, x.data(), rows, cols, out.data());
    return {};
  });
}

Status convert_gguf_to_hf(const std::string& gguf_path, const std::string& out_dir, const std::string& dtype) {
  if (dtype != "auto" && dtype != "f32" && dtype != "f16" && dtype != "bf16") return err("convert: --dtype \"", dtype, "\" is not one of auto, f32, f16, bf16");
  HEARTH_ASSIGN(GgufFile g, GgufFile::open(gguf_path));
  auto file = std::make_shared<const GgufFile>(std::move(g));
  HEARTH_ASSIGN(Json cfg_json, hf_config_from_gguf(*file));
  HEARTH_ASSIGN(ModelConfig c, parse_model_config(cfg_json, gguf_path + " (metadata)"));
  GgufTensorSource src(file, c);
  ::mkdir(out_dir.c_str(), 0755);
  HEARTH_CHECK(write_json_file(out_dir + "/config.json", cfg_json));
  if (file->find("tokenizer.ggml.model")) {
    HEARTH_ASSIGN(Json tok, tokenizer_json_from_gguf(*file));
    HEARTH_CHECK(write_json_file(out_dir + "/tokenizer.json", tok, 2, true));
    HEARTH_ASSIGN(Json tcfg, tokenizer_config_from_gguf(*file));
    HEARTH_CHECK(write_json_file(out_dir + "/tokenizer_config.json", tcfg));
  }
  std::vector<TensorToWrite> metas;
  const std::vector<HfTensor> hf = hf_tensors(c);
  for (const HfTensor& t : hf) {
    if (!src.has(t.name)) return err(gguf_path, ": tensor ", gguf_tensor_name(t.role, t.layer, t.proj), " (", t.name, ") is missing");
    const GgmlType gt = file->tensor(gguf_tensor_name(t.role, t.layer, t.proj))->type;
    DType d = DType::F32;
    if (dtype == "f16" || (dtype == "auto" && gt == GgmlType::F16)) d = DType::F16;
    if (dtype == "bf16" || (dtype == "auto" && gt == GgmlType::BF16)) d = DType::BF16;
    metas.push_back({t.name, d, t.shape, {}});
  }
  Status st;
  HEARTH_CHECK(write_safetensors_generated(out_dir + "/model.safetensors", metas, [&](size_t i, std::vector<uint8_t>& out) {
    if (!st.ok()) return;
    auto x = src.load_f32(hf[i].name, hf[i].shape);
    if (!x.ok()) {
      st = x.status();
      return;
    }
    for (size_t k = 0; k < x->size(); ++k) {
      const float v = (*x)[k];
      if (metas[i].dtype == DType::F32) {
        std::memcpy(out.data() + 4 * k, &v, 4);
      } else {
        const uint16_t h = metas[i].dtype == DType::F16 ? f32_to_f16(v) : f32_to_bf16(v);
        std::memcpy(out.data() + 2 * k, &h, 2);
      }
    }
  }));
  return st;
}

}  // namespace hearth
