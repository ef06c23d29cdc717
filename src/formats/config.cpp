// config.json / generation_config.json readers. Every key is type-checked and errors name the
// file and key; unsupported features are refused rather than silently ignored.
#include "formats/config.h"

#include "formats/packed.h"

#include <cmath>
#include <cstdio>

namespace hearth {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::Qwen2: return "qwen2";
    case Arch::Qwen3: return "qwen3";
    case Arch::Llama: return "llama";
  }
  return "?";
}

namespace {

// Sanity bounds on config sizes: far beyond any released model of these families (Llama 3.1
// 405B: hidden 16384, intermediate 53248, 126 layers, 128 heads), and small enough that no size
// computed from them overflows. What a config may really ask for is then checked against the
// memory there is before anything is allocated (Model::load).
constexpr int64_t kMaxVocab = int64_t(1) << 24;       // the tokenizer's id limit too
constexpr int64_t kMaxHidden = int64_t(1) << 18;
constexpr int64_t kMaxIntermediate = int64_t(1) << 20;
constexpr int64_t kMaxLayers = 4096;
constexpr int64_t kMaxHeads = int64_t(1) << 14;
constexpr int64_t kMaxHeadDim = int64_t(1) << 14;
constexpr int64_t kMaxPositions = int64_t(1) << 31;

// Typed access to a JSON object with errors that name the file and the key.
class Keys {
 public:
  Keys(const Json& j, std::string path, std::string prefix = "") : j_(j), path_(std::move(path)), prefix_(std::move(prefix)) {}

  const Json* get(const char* key) const { return j_.find_non_null(key); }

  Error bad(const char* key, const char* expected) const {
    return err(path_, ": key \"", prefix_, key, "\" must be ", expected);
  }

  Status int_(const char* key, int64_t* out, bool required) const {
    const Json* v = get(key);
    if (!v) return required ? err(path_, ": required key \"", prefix_, key, "\" is missing") : Status();
    if (!v->fits_int64()) return bad(key, "an integer (within [-2^63, 2^63))");
    *out = v->as_int();
    return {};
  }
  // An integer in [lo, hi] (a size that sanity bounds: far beyond any released model, far
  // below what would overflow the sizes computed from it).
  Status int_in(const char* key, int64_t* out, bool required, int64_t lo, int64_t hi) const {
    HEARTH_CHECK(int_(key, out, required));
    if (get(key) && (*out < lo || *out > hi))
      return err(path_, ": key \"", prefix_, key, "\" is ", *out, ", outside [", lo, ", ", hi, "]");
    return {};
  }
  // A finite number > 0 (>= 0 with allow_zero).
  Status positive(const char* key, double* out, bool required, bool allow_zero = false) const {
    HEARTH_CHECK(num(key, out, required));
    if (get(key) && (*out < 0 || (*out == 0 && !allow_zero))) return bad(key, allow_zero ? "a number >= 0" : "a number > 0");
    return {};
  }
  Status num(const char* key, double* out, bool required) const {
    const Json* v = get(key);
    if (!v) return required ? err(path_, ": required key \"", prefix_, key, "\" is missing") : Status();
    if (!v->is_number() || !std::isfinite(v->as_double())) return bad(key, "a finite number");
    *out = v->as_double();
    return {};
  }
  Status opt_num(const char* key, std::optional<double>* out) const {
    if (!get(key)) return {};
    double d;
    HEARTH_CHECK(num(key, &d, true));
    *out = d;
    return {};
  }
  Status boolean(const char* key, bool* out) const {
    const Json* v = get(key);
    if (!v) return {};
    if (!v->is_bool()) return bad(key, "true or false");
    *out = v->as_bool();
    return {};
  }
  // A token id given as a number or a list of numbers.
  Status id_list(const char* key, std::vector<int64_t>* out) const {
    const Json* v = get(key);
    if (!v) return {};
    out->clear();
    if (v->is_integer()) {
      out->push_back(v->as_int());
      return {};
    }
    if (!v->is_array()) return bad(key, "a token id or a list of token ids");
    for (const auto& e : v->as_array()) {
      if (!e.is_integer()) return bad(key, "a token id or a list of token ids");
      out->push_back(e.as_int());
    }
    return {};
  }

 private:
  const Json& j_;
  std::string path_, prefix_;
};

Status parse_rope(const Json& j, const Keys& top, const std::string& path, ModelConfig& c) {
  // Newer checkpoints: rope_parameters {rope_type, rope_theta, ...}; classic: rope_theta +
  // rope_scaling {type|rope_type, factor, ...}.
  const Json* params = j.find_non_null("rope_parameters");
  const Json* scaling = j.find_non_null("rope_scaling");
  const Json* src = params ? params : scaling;
  const char* src_key = params ? "rope_parameters" : "rope_scaling";
  HEARTH_CHECK(top.positive("rope_theta", &c.rope.theta, false));
  double prf = 1.0;
  HEARTH_CHECK(top.num("partial_rotary_factor", &prf, false));
  c.rope.partial_rotary_factor = prf;
  c.rope.original_max_pos = c.max_position_embeddings;
  if (!src) return {};
  if (!src->is_object()) return err(path, ": key \"", src_key, "\" must be an object");
  if (src->find("full_attention") || src->find("sliding_attention")) {
    return err(path, ": ", src_key, " given per layer type is not supported");
  }
  Keys k(*src, path, std::string(src_key) + ".");
  const Json* type = src->find_non_null("rope_type");
  if (!type) type = src->find_non_null("type");
  std::string t = "default";
  if (type) {
    if (!type->is_string()) return k.bad("rope_type", "a string");
    t = type->as_string();
  }
  HEARTH_CHECK(k.positive("rope_theta", &c.rope.theta, false));
  HEARTH_CHECK(k.num("partial_rotary_factor", &c.rope.partial_rotary_factor, false));
  if (t == "default") {
    c.rope.type = RopeType::Default;
  } else if (t == "linear") {
    c.rope.type = RopeType::Linear;
    HEARTH_CHECK(k.num("factor", &c.rope.factor, true));
  } else if (t == "llama3") {
    c.rope.type = RopeType::Llama3;
    HEARTH_CHECK(k.num("factor", &c.rope.factor, true));
    HEARTH_CHECK(k.positive("low_freq_factor", &c.rope.low_freq_factor, true));
    HEARTH_CHECK(k.positive("high_freq_factor", &c.rope.high_freq_factor, true));
    HEARTH_CHECK(k.int_in("original_max_position_embeddings", &c.rope.original_max_pos, true, 1, kMaxPositions));
    if (c.rope.high_freq_factor == c.rope.low_freq_factor) return k.bad("high_freq_factor", "different from low_freq_factor");
  } else if (t == "yarn") {
    c.rope.type = RopeType::Yarn;
    HEARTH_CHECK(k.int_in("original_max_position_embeddings", &c.rope.original_max_pos, false, 1, kMaxPositions));
    double factor = 0;
    HEARTH_CHECK(k.num("factor", &factor, false));
    c.rope.factor = factor > 0 ? factor : double(c.max_position_embeddings) / double(c.rope.original_max_pos);
    HEARTH_CHECK(k.positive("beta_fast", &c.rope.beta_fast, false));
    HEARTH_CHECK(k.positive("beta_slow", &c.rope.beta_slow, false));
    HEARTH_CHECK(k.num("mscale", &c.rope.mscale, false));
    HEARTH_CHECK(k.num("mscale_all_dim", &c.rope.mscale_all_dim, false));
    HEARTH_CHECK(k.opt_num("attention_factor", &c.rope.attention_factor));
    HEARTH_CHECK(k.boolean("truncate", &c.rope.truncate));
  } else {
    return err(path, ": ", src_key, ".rope_type \"", t, "\" is not supported (expected default, linear, llama3 or yarn)");
  }
  if (c.rope.factor <= 0) return k.bad("factor", "positive");
  if (c.rope.partial_rotary_factor <= 0 || c.rope.partial_rotary_factor > 1) return k.bad("partial_rotary_factor", "in (0, 1]");
  return {};
}

Status parse_sliding(const Json& j, const Keys& k, const std::string& path, ModelConfig& c) {
  c.sliding_window.assign(size_t(c.n_layers), 0);
  bool use = false;
  HEARTH_CHECK(k.boolean("use_sliding_window", &use));
  int64_t window = 0;
  HEARTH_CHECK(k.int_in("sliding_window", &window, false, 0, kMaxPositions));
  int64_t max_window_layers = c.n_layers;
  HEARTH_CHECK(k.int_in("max_window_layers", &max_window_layers, false, 0, kMaxLayers));
  const Json* types = j.find_non_null("layer_types");
  if (types) {
    if (!types->is_array() || int64_t(types->size()) != c.n_layers) return err(path, ": key \"layer_types\" must list one type for each of the ", c.n_layers, " layers");
    for (int64_t i = 0; i < c.n_layers; ++i) {
      const Json& t = (*types)[size_t(i)];
      if (!t.is_string()) return k.bad("layer_types", "a list of strings");
      if (t.as_string() == "sliding_attention") {
        if (window <= 0) return err(path, ": layer ", i, " uses sliding_attention but \"sliding_window\" is not a positive integer");
        c.sliding_window[size_t(i)] = window;
      } else if (t.as_string() != "full_attention") {
        return err(path, ": layer_types[", i, "] = \"", t.as_string(), "\" is not supported (expected full_attention or sliding_attention)");
      }
    }
    return {};
  }
  if (c.arch == Arch::Llama) return {};
  if (use && window > 0) {
    for (int64_t i = max_window_layers; i < c.n_layers; ++i) c.sliding_window[size_t(i)] = window;
  }
  return {};
}

}  // namespace

Result<ModelConfig> parse_model_config(const Json& j, const std::string& path) {
  if (!j.is_object()) return err(path, ": expected a JSON object");
  Keys k(j, path);
  ModelConfig c;
  const Json* mt = j.find_non_null("model_type");
  if (!mt || !mt->is_string()) return err(path, ": key \"model_type\" is missing or not a string");
  c.model_type = mt->as_string();
  if (c.model_type == "qwen2") c.arch = Arch::Qwen2;
  else if (c.model_type == "qwen3") c.arch = Arch::Qwen3;
  else if (c.model_type == "llama") c.arch = Arch::Llama;
  else return err(path, ": model_type \"", c.model_type, "\" is not supported (expected qwen2, qwen3 or llama)");

  HEARTH_CHECK(k.int_in("vocab_size", &c.vocab_size, true, 1, kMaxVocab));
  HEARTH_CHECK(k.int_in("hidden_size", &c.hidden_size, true, 1, kMaxHidden));
  HEARTH_CHECK(k.int_in("intermediate_size", &c.intermediate_size, true, 1, kMaxIntermediate));
  HEARTH_CHECK(k.int_in("num_hidden_layers", &c.n_layers, true, 1, kMaxLayers));
  HEARTH_CHECK(k.int_in("num_attention_heads", &c.n_heads, true, 1, kMaxHeads));
  c.n_kv_heads = c.n_heads;
  HEARTH_CHECK(k.int_in("num_key_value_heads", &c.n_kv_heads, false, 1, kMaxHeads));
  if (c.n_heads % c.n_kv_heads != 0) return err(path, ": num_attention_heads (", c.n_heads, ") must be a multiple of num_key_value_heads (", c.n_kv_heads, ")");
  c.head_dim = 0;
  HEARTH_CHECK(k.int_in("head_dim", &c.head_dim, false, 1, kMaxHeadDim));
  if (c.head_dim == 0) {
    if (c.hidden_size % c.n_heads != 0) return err(path, ": hidden_size (", c.hidden_size, ") is not divisible by num_attention_heads (", c.n_heads, ") and no head_dim is given");
    c.head_dim = c.hidden_size / c.n_heads;
  }
  if (c.head_dim % 2 != 0) return err(path, ": head_dim (", c.head_dim, ") must be even for rotary embeddings");
  HEARTH_CHECK(k.positive("rms_norm_eps", &c.rms_norm_eps, false, /*allow_zero=*/true));
  c.max_position_embeddings = 32768;
  HEARTH_CHECK(k.int_in("max_position_embeddings", &c.max_position_embeddings, false, 1, kMaxPositions));
  HEARTH_CHECK(k.boolean("tie_word_embeddings", &c.tie_word_embeddings));
  const Json* act = j.find_non_null("hidden_act");
  if (act && (!act->is_string() || act->as_string() != "silu")) return err(path, ": hidden_act must be \"silu\" (SwiGLU)");

  bool attention_bias = false;
  HEARTH_CHECK(k.boolean("attention_bias", &attention_bias));
  HEARTH_CHECK(k.boolean("mlp_bias", &c.mlp_bias));
  switch (c.arch) {
    case Arch::Qwen2: c.qkv_bias = true; c.o_bias = false; c.mlp_bias = false; break;
    case Arch::Qwen3: c.qkv_bias = attention_bias; c.o_bias = attention_bias; c.qk_norm = true; c.mlp_bias = false; break;
    case Arch::Llama: c.qkv_bias = attention_bias; c.o_bias = attention_bias; break;
  }
  HEARTH_CHECK(parse_rope(j, k, path, c));
  if (c.rotary_dim() % 2 != 0 || c.rotary_dim() <= 0) return err(path, ": head_dim x partial_rotary_factor must be a positive even number");
  HEARTH_CHECK(parse_sliding(j, k, path, c));
  int64_t bos = 0;
  if (k.get("bos_token_id")) {
    HEARTH_CHECK(k.int_("bos_token_id", &bos, true));
    c.bos_token_id = bos;
  }
  HEARTH_CHECK(k.id_list("eos_token_id", &c.eos_token_ids));
  return c;
}

Result<ModelConfig> read_model_config(const std::string& dir) {
  std::string path = dir + "/config.json";
  HEARTH_ASSIGN(Json j, read_json_file(path));
  return parse_model_config(j, path);
}

Result<GenerationConfig> parse_generation_config(const Json& j, const std::string& path) {
  if (!j.is_object()) return err(path, ": expected a JSON object");
  Keys k(j, path);
  GenerationConfig g;
  HEARTH_CHECK(k.id_list("eos_token_id", &g.eos_token_ids));
  int64_t v = 0;
  if (k.get("bos_token_id")) { HEARTH_CHECK(k.int_("bos_token_id", &v, true)); g.bos_token_id = v; }
  if (k.get("top_k")) { HEARTH_CHECK(k.int_in("top_k", &v, true, 0, INT64_MAX)); g.top_k = v; }
  if (k.get("max_new_tokens")) { HEARTH_CHECK(k.int_in("max_new_tokens", &v, true, 0, INT64_MAX)); g.max_new_tokens = v; }
  if (k.get("do_sample")) { bool b = false; HEARTH_CHECK(k.boolean("do_sample", &b)); g.do_sample = b; }
  HEARTH_CHECK(k.opt_num("temperature", &g.temperature));
  HEARTH_CHECK(k.opt_num("top_p", &g.top_p));
  HEARTH_CHECK(k.opt_num("min_p", &g.min_p));
  HEARTH_CHECK(k.opt_num("repetition_penalty", &g.repetition_penalty));
  if (g.temperature && *g.temperature < 0) return k.bad("temperature", "a number >= 0");
  if (g.top_p && (*g.top_p < 0 || *g.top_p > 1)) return k.bad("top_p", "in [0, 1]");
  if (g.min_p && (*g.min_p < 0 || *g.min_p > 1)) return k.bad("min_p", "in [0, 1]");
  if (g.repetition_penalty && *g.repetition_penalty <= 0) return k.bad("repetition_penalty", "a number > 0");
  return g;
}

Result<GenerationConfig> read_generation_config(const std::string& dir) {
  if (is_packed_file(dir)) {
    HEARTH_ASSIGN(PackedFile pack, PackedFile::open(dir));
    HEARTH_ASSIGN(std::optional<std::string> text, pack.file_text("generation_config.json"));
    if (!text) return GenerationConfig{};
    const std::string what = dir + " (generation_config.json)";
    HEARTH_ASSIGN(Json j, parse_json(*text, what));
    return parse_generation_config(j, what);
  }
  std::string path = dir + "/generation_config.json";
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return GenerationConfig{};
  std::fclose(f);
  HEARTH_ASSIGN(Json j, read_json_file(path));
  return parse_generation_config(j, path);
}

}  // namespace hearth
