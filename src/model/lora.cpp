// Adapter readers. Module names are matched by their last two path parts
// ("self_attn.q_proj", "mlp.down_proj") after "layers.N.", so the usual prefixes
// (base_model.model.model., model.) and PEFT adapter names (lora_A.default.weight) all work.
#include "model/lora.h"

#include <cmath>
#include <cstdio>

#include "core/linear_regex.h"
#include "core/warning.h"
#include "formats/gguf.h"
#include "formats/json.h"
#include "formats/safetensors.h"
#include "model/gguf_lora.h"

namespace hearth {

int64_t LoraAdapter::max_rank() const {
  int64_t r = 0;
  for (const auto& l : layers) for (const auto& p : l) if (p) r = std::max(r, p->rank);
  return r;
}

int64_t LoraAdapter::n_pairs() const {
  int64_t n = 0;
  for (const auto& l : layers) for (const auto& p : l) n += p.has_value();
  return n;
}

namespace {

bool file_exists(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

// Splits a tensor name into (layer, projection, which) where which is 'A' or 'B':
//   PEFT: <prefix>layers.N.(self_attn|mlp).X_proj.lora_(A|B)[.adapter_name].weight
//   MLX:  <prefix>layers.N.(self_attn|mlp).X_proj.lora_(a|b)
// nullopt for names that match no projection.
struct KeyParts {
  int64_t layer = -1;        // -1 when the index has more digits than any model has layers
  std::string layer_text;    // the index as written
  Proj proj = Proj::Q;
  char which = 0;
  std::string module;  // the module path, e.g. model.layers.3.self_attn.q_proj
};

bool all_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

// "...X.lora_A[.name].weight" (PEFT) or "...X.lora_a" (MLX): the module X and 'A' or 'B'.
std::optional<std::pair<std::string, char>> split_lora_suffix(const std::string& name, bool mlx) {
  std::string rest = name;
  if (!mlx) {
    const std::string weight = ".weight";
    if (rest.size() < weight.size() || rest.compare(rest.size() - weight.size(), weight.size(), weight) != 0) return std::nullopt;
    rest.resize(rest.size() - weight.size());
  }
  const size_t at = rest.rfind(".lora_");
  if (at == std::string::npos || at + 7 > rest.size()) return std::nullopt;
  const char which = rest[at + 6];
  const std::string tail = rest.substr(at + 7);  // PEFT: "" or ".adapter_name"
  if (mlx) {
    if ((which != 'a' && which != 'b') || !tail.empty()) return std::nullopt;
  } else {
    if (which != 'A' && which != 'B') return std::nullopt;
    if (!tail.empty()) {
      if (tail.size() < 2 || tail[0] != '.') return std::nullopt;
      for (size_t i = 1; i < tail.size(); ++i) {
        const char c = tail[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return std::nullopt;
      }
    }
  }
  return std::make_pair(rest.substr(0, at), char(std::toupper(static_cast<unsigned char>(which))));
}

std::optional<KeyParts> split_key(const std::string& name, bool mlx) {
  auto suffix = split_lora_suffix(name, mlx);
  if (!suffix) return std::nullopt;
  KeyParts k;
  k.module = suffix->first;
  k.which = suffix->second;
  // The module ends in "layers.N.<group>.<proj>" (anything may precede "layers").
  std::vector<std::string_view> parts;
  std::string_view m = k.module;
  for (int i = 0; i < 3; ++i) {
    const size_t dot = m.rfind('.');
    if (dot == std::string_view::npos) return std::nullopt;
    parts.push_back(m.substr(dot + 1));
    m = m.substr(0, dot);
  }
  const std::string_view proj = parts[0], group = parts[1], index = parts[2];
  const std::string_view layers = "layers";
  if (m.size() < layers.size() || m.substr(m.size() - layers.size()) != layers || !all_digits(index)) return std::nullopt;
  const std::optional<Proj> p = proj_from_short(std::string(proj));
  if (!p) return std::nullopt;
  k.proj = *p;
  const bool attn = k.proj == Proj::Q || k.proj == Proj::K || k.proj == Proj::V || k.proj == Proj::O;
  if (group != (attn ? "self_attn" : "mlp")) return std::nullopt;
  k.layer_text = std::string(index);
  k.layer = index.size() > 9 ? -1 : std::stoll(k.layer_text);
  // PEFT prefixes the wrapped model's module names with base_model.model.
  const std::string peft_prefix = "base_model.model.";
  if (k.module.compare(0, peft_prefix.size(), peft_prefix) == 0) k.module = k.module.substr(peft_prefix.size());
  return k;
}

// PEFT's rule for rank_pattern / alpha_pattern keys: the module name matches "(.*\.)?(key)"
// as a regular expression (matched in linear time).
Result<bool> pattern_matches(const std::string& key, const std::string& module, const std::string& cfg_path) {
  auto re = LinearRegex::compile("(.*\\.)?(" + key + ")");
  if (!re.ok()) return err(cfg_path, ": pattern \"", key, "\": ", re.message());
  return re->full_match(module);
}

// PEFT's target_modules: a string is a regular expression the whole module name must match;
// a list holds names that the module name equals or ends with after a dot.
Result<bool> targeted(const Json& target, const std::string& module, const std::string& cfg_path) {
  if (target.is_string()) {
    auto re = LinearRegex::compile(target.as_string());
    if (!re.ok()) return err(cfg_path, ": target_modules: ", re.message());
    return re->full_match(module);
  }
  if (!target.is_array()) return err(cfg_path, ": target_modules must be a string or a list of strings");
  for (const auto& m : target.as_array()) {
    if (!m.is_string()) return err(cfg_path, ": target_modules must be a string or a list of strings");
    const std::string& t = m.as_string();
    if (module == t || (module.size() > t.size() && module.compare(module.size() - t.size(), t.size(), t) == 0 &&
                        module[module.size() - t.size() - 1] == '.'))
      return true;
  }
  return false;
}

Status check_shape(const TensorInfo& t, int64_t d0, int64_t d1) {
  if (t.shape.size() != 2 || t.shape[0] != d0 || t.shape[1] != d1) {
    return err(t.file, ": tensor ", t.name, ": expected shape [", d0, ", ", d1, "], file has ", t.shape_str(),
               " (an adapter for another model?)");
  }
  return {};
}

// The scale rules of an adapter_config.json.
struct ScaleRules {
  bool mlx = false;
  double r = 0, alpha = 0, mlx_scale = 0;
  bool rslora = false;
  const Json* target = nullptr;
  const Json* rank_pattern = nullptr;
  const Json* alpha_pattern = nullptr;
};

Result<double> finite_number(const Json* v, const std::string& cfg_path, const char* key) {
  if (!v || !v->is_number() || !std::isfinite(v->as_double())) return err(cfg_path, ": \"", key, "\" must be a finite number");
  return v->as_double();
}

Result<ScaleRules> read_scale_rules(const Json& ac, const std::string& cfg_path, bool mlx) {
  ScaleRules s;
  s.mlx = mlx;
  if (mlx) {
    const Json* ftt = ac.find_non_null("fine_tune_type");
    if (ftt && (!ftt->is_string() || ftt->as_string() != "lora")) return err(cfg_path, ": fine_tune_type \"", ftt->is_string() ? ftt->as_string() : "?", "\" is not supported (only lora)");
    const Json* lp = ac.find_non_null("lora_parameters");
    if (!lp || !lp->is_object()) return err(cfg_path, ": missing \"lora_parameters\" object");
    const Json* rank = lp->find_non_null("rank");
    if (!rank || !rank->is_integer() || rank->as_int() <= 0) return err(cfg_path, ": lora_parameters.rank must be a positive integer");
    s.r = double(rank->as_int());
    HEARTH_ASSIGN(s.mlx_scale, finite_number(lp->find_non_null("scale"), cfg_path, "lora_parameters.scale"));
    if (s.mlx_scale == 0) warn_of(cfg_path, ": lora_parameters.scale is 0: the adapter changes nothing");
    return s;
  }
  const Json* pt = ac.find_non_null("peft_type");
  if (pt && (!pt->is_string() || pt->as_string() != "LORA")) return err(cfg_path, ": peft_type \"", pt->is_string() ? pt->as_string() : "?", "\" is not supported (only LORA)");
  const Json* r = ac.find_non_null("r");
  if (!r || !r->is_integer() || r->as_int() <= 0) return err(cfg_path, ": \"r\" must be a positive integer");
  s.r = double(r->as_int());
  s.alpha = s.r;
  if (const Json* a = ac.find_non_null("lora_alpha")) {
    HEARTH_ASSIGN(s.alpha, finite_number(a, cfg_path, "lora_alpha"));
  }
  if (s.alpha == 0) warn_of(cfg_path, ": lora_alpha is 0: the adapter changes nothing (scale = lora_alpha / r = 0)");
  const Json* rs = ac.find_non_null("use_rslora");
  if (rs && !rs->is_bool()) return err(cfg_path, ": \"use_rslora\" must be true or false");
  s.rslora = rs && rs->as_bool();
  const Json* dora = ac.find_non_null("use_dora");
  if (dora && dora->is_bool() && dora->as_bool()) return err(cfg_path, ": use_dora adapters are not supported");
  s.target = ac.find_non_null("target_modules");
  s.rank_pattern = ac.find_non_null("rank_pattern");
  s.alpha_pattern = ac.find_non_null("alpha_pattern");
  // fan_in_fan_out only concerns Conv1D-style base layers; these families use Linear, where
  // the LoRA product is the same either way.
  return s;
}

// rank_pattern / alpha_pattern: the value of the last key that matches the module, else `v`.
Status pattern_value(const Json* pat, const std::string& module, const std::string& cfg_path, double* v) {
  if (!pat || !pat->is_object()) return {};
  for (const auto& [key, val] : pat->as_object()) {
    HEARTH_ASSIGN(bool hit, pattern_matches(key, module, cfg_path));
    if (!hit) continue;
    if (!val.is_number() || !std::isfinite(val.as_double())) return err(cfg_path, ": pattern \"", key, "\" must map to a finite number");
    *v = val.as_double();
  }
  return {};
}

struct Half {
  const TensorInfo* a = nullptr;
  const TensorInfo* b = nullptr;
  std::string module;
};

// Sorts the adapter's tensors into (layer, projection) halves, checking names and targets.
Status collect_halves(const SafetensorsFile& st, const ScaleRules& rules, const std::string& cfg_path,
                      const ModelConfig& cfg, std::vector<std::array<Half, kNumProj>>& found) {
  const std::string& st_path = st.path();
  for (const auto& t : st.tensors()) {
    auto k = split_key(t.name, rules.mlx);
    if (!k) return err(st_path, ": tensor ", t.name, " matches no projection of a ", arch_name(cfg.arch), " model (expected ...layers.N.self_attn.{q,k,v,o}_proj or mlp.{gate,up,down}_proj ", rules.mlx ? "lora_a / lora_b" : "lora_A / lora_B", ")");
    if (k->layer < 0 || k->layer >= cfg.n_layers) return err(st_path, ": tensor ", t.name, ": layer ", k->layer_text, " does not exist (the model has ", cfg.n_layers, " layers)");
    if (rules.target && !(rules.target->is_string() && rules.target->as_string() == "all-linear")) {
      HEARTH_ASSIGN(bool ok, targeted(*rules.target, k->module, cfg_path));
      if (!ok) return err(st_path, ": tensor ", t.name, ": module ", k->module, " is not in target_modules of ", cfg_path);
    }
    Half& h = found[size_t(k->layer)][int(k->proj)];
    const TensorInfo*& slot = k->which == 'A' ? h.a : h.b;
    if (slot) return err(st_path, ": tensor ", t.name, ": a second lora_", std::string(1, k->which), " for ", k->module);
    slot = &t;
    h.module = k->module;
  }
  return {};
}

// One projection's pair: shapes checked, converted to f32 (PEFT orientation), scale set.
Result<LoraPair> read_pair(const Half& h, Proj p, const ScaleRules& rules, const std::string& st_path,
                           const std::string& cfg_path, const ModelConfig& cfg) {
  if (!h.a || !h.b) return err(st_path, ": ", h.module, " has lora_", h.a ? "A" : "B", " but no lora_", h.a ? "B" : "A");
  const bool mlx = rules.mlx;
  const int64_t in = proj_in(cfg, p), o = proj_out(cfg, p);
  LoraPair pair;
  pair.in = in;
  pair.out = o;
  // PEFT: A [r, in], B [out, r]; MLX: a [in, r], b [r, out].
  const int64_t r = mlx ? (h.a->shape.size() == 2 ? h.a->shape[1] : 0) : (h.a->shape.size() == 2 ? h.a->shape[0] : 0);
  if (r <= 0) return err(st_path, ": tensor ", h.a->name, ": expected a 2-D matrix, file has ", h.a->shape_str());
  HEARTH_CHECK(mlx ? check_shape(*h.a, in, r) : check_shape(*h.a, r, in));
  HEARTH_CHECK(mlx ? check_shape(*h.b, r, o) : check_shape(*h.b, o, r));
  pair.rank = r;
  std::vector<float> a(size_t(r * in)), b(size_t(o * r));
  HEARTH_CHECK(convert_to_f32(*h.a, 0, a.size(), a.data()));
  HEARTH_CHECK(convert_to_f32(*h.b, 0, b.size(), b.data()));
  if (mlx) {  // transpose into PEFT's orientation
    pair.A.resize(a.size());
    pair.B.resize(b.size());
    for (int64_t i = 0; i < in; ++i) for (int64_t j = 0; j < r; ++j) pair.A[size_t(j * in + i)] = a[size_t(i * r + j)];
    for (int64_t j = 0; j < r; ++j) for (int64_t i = 0; i < o; ++i) pair.B[size_t(i * r + j)] = b[size_t(j * o + i)];
    pair.scale = float(rules.mlx_scale);
    return pair;
  }
  pair.A = std::move(a);
  pair.B = std::move(b);
  double rr = rules.r, al = rules.alpha;
  HEARTH_CHECK(pattern_value(rules.rank_pattern, h.module, cfg_path, &rr));
  HEARTH_CHECK(pattern_value(rules.alpha_pattern, h.module, cfg_path, &al));
  if (rr != double(r)) {
    char given[32];
    std::snprintf(given, sizeof given, "%.17g", rr);
    return err(st_path, ": ", h.module, ": rank ", r, " in the file but ", given, " in ", cfg_path);
  }
  pair.scale = float(rules.rslora ? al / std::sqrt(rr) : al / rr);
  return pair;
}

}  // namespace

Result<LoraAdapter> parse_lora_adapter(const Json& adapter_config, const std::string& cfg_path,
                                       const SafetensorsFile& st, bool mlx, const ModelConfig& cfg) {
  if (!adapter_config.is_object()) return err(cfg_path, ": expected a JSON object");
  HEARTH_ASSIGN(ScaleRules rules, read_scale_rules(adapter_config, cfg_path, mlx));
  LoraAdapter out;
  out.format = mlx ? "mlx" : "peft";
  out.layers.resize(size_t(cfg.n_layers));
  std::vector<std::array<Half, kNumProj>> found(size_t(cfg.n_layers));
  HEARTH_CHECK(collect_halves(st, rules, cfg_path, cfg, found));
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      const Half& h = found[size_t(l)][p];
      if (!h.a && !h.b) continue;
      HEARTH_ASSIGN(LoraPair pair, read_pair(h, Proj(p), rules, st.path(), cfg_path, cfg));
      out.layers[size_t(l)][p] = std::move(pair);
    }
  }
  if (out.n_pairs() == 0) return err(st.path(), ": holds no LoRA tensors");
  return out;
}

Result<LoraAdapter> load_lora_adapter(const std::string& dir, const ModelConfig& cfg) {
  if (is_gguf_file(dir)) return read_gguf_lora(dir, cfg);
  const std::string cfg_path = dir + "/adapter_config.json";
  HEARTH_ASSIGN(Json ac, read_json_file(cfg_path));
  const bool mlx = file_exists(dir + "/adapters.safetensors");
  const std::string st_path = dir + (mlx ? "/adapters.safetensors" : "/adapter_model.safetensors");
  if (!mlx && !file_exists(st_path)) return err(dir, ": no adapter_model.safetensors (PEFT) or adapters.safetensors (MLX)");
  HEARTH_ASSIGN(SafetensorsFile st, SafetensorsFile::open(st_path));
  HEARTH_ASSIGN(LoraAdapter out, parse_lora_adapter(ac, cfg_path, st, mlx, cfg));
  out.dir = dir;
  return out;
}

}  // namespace hearth
