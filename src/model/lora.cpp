// Adapter readers. Module names are matched by their last two path parts
// ("self_attn.q_proj", "mlp.down_proj") after "layers.N.", so the usual prefixes
// (base_model.model.model., model.) and PEFT adapter names (lora_A.default.weight) all work.
#include "model/lora.h"

#include <cmath>
#include <cstdio>
#include <regex>

#include "formats/json.h"
#include "formats/gguf.h"
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

// Splits a tensor name into (layer, projection, which) where which is 'A' or 'B'. Returns an
// error message for names that match no projection.
struct KeyParts {
  int64_t layer = -1;
  Proj proj = Proj::Q;
  char which = 0;
  std::string module;  // the module path, e.g. model.layers.3.self_attn.q_proj
};

std::optional<KeyParts> split_key(const std::string& name, bool mlx) {
  static const std::regex peft(R"(^(.*layers\.(\d+)\.(self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj)\.lora_(A|B)(\.[A-Za-z0-9_\-]+)?\.weight$)");
  static const std::regex mlx_re(R"(^(.*layers\.(\d+)\.(self_attn|mlp)\.(q|k|v|o|gate|up|down)_proj)\.lora_(a|b)$)");
  std::smatch m;
  if (!std::regex_match(name, m, mlx ? mlx_re : peft)) return std::nullopt;
  KeyParts k;
  k.module = m[1];
  // PEFT prefixes the wrapped model's module names with base_model.model.
  const std::string peft_prefix = "base_model.model.";
  if (k.module.compare(0, peft_prefix.size(), peft_prefix) == 0) k.module = k.module.substr(peft_prefix.size());
  k.layer = std::stoll(m[2]);
  if (m[2].length() > 6) return std::nullopt;
  const std::string group = m[3], p = m[4];
  k.proj = proj_from_short(p + "_proj").value_or(Proj::Q);  // the pattern admits only the seven
  bool attn = k.proj == Proj::Q || k.proj == Proj::K || k.proj == Proj::V || k.proj == Proj::O;
  if (attn != (group == "self_attn")) return std::nullopt;
  k.which = char(std::toupper(static_cast<unsigned char>(m[5].str()[0])));
  return k;
}

// PEFT's pattern rule: a key matches a module name when the name ends with it at a dot boundary.
bool pattern_matches(const std::string& key, const std::string& module) {
  std::regex re;
  try {
    re = std::regex("(.*\\.)?(" + key + ")");
  } catch (...) {
    return false;
  }
  return std::regex_match(module, re);
}

Status check_shape(const TensorInfo& t, int64_t d0, int64_t d1) {
  if (t.shape.size() != 2 || t.shape[0] != d0 || t.shape[1] != d1) {
    return err(t.file, ": tensor ", t.name, ": expected shape [", d0, ", ", d1, "], file has ", t.shape_str(),
               " (an adapter for another model?)");
  }
  return {};
}

}  // namespace

Result<LoraAdapter> load_lora_adapter(const std::string& dir, const ModelConfig& cfg) {
  if (is_gguf_file(dir)) return read_gguf_lora(dir, cfg);
  const std::string cfg_path = dir + "/adapter_config.json";
  HEARTH_ASSIGN(Json ac, read_json_file(cfg_path));
  if (!ac.is_object()) return err(cfg_path, ": expected a JSON object");
  LoraAdapter out;
  out.dir = dir;
  out.layers.resize(size_t(cfg.n_layers));
  const bool mlx = file_exists(dir + "/adapters.safetensors");
  const std::string st_path = dir + (mlx ? "/adapters.safetensors" : "/adapter_model.safetensors");
  if (!mlx && !file_exists(st_path)) return err(dir, ": no adapter_model.safetensors (PEFT) or adapters.safetensors (MLX)");
  out.format = mlx ? "mlx" : "peft";

  // Scale rules.
  double r_cfg = 0, alpha = 0, mlx_scale = 0;
  bool rslora = false;
  const Json* target = nullptr;
  const Json *rank_pattern = nullptr, *alpha_pattern = nullptr;
  if (mlx) {
    const Json* ftt = ac.find_non_null("fine_tune_type");
    if (ftt && (!ftt->is_string() || ftt->as_string() != "lora")) return err(cfg_path, ": fine_tune_type \"", ftt->is_string() ? ftt->as_string() : "?", "\" is not supported (only lora)");
    const Json* lp = ac.find_non_null("lora_parameters");
    if (!lp || !lp->is_object()) return err(cfg_path, ": missing \"lora_parameters\" object");
    const Json* rank = lp->find_non_null("rank");
    const Json* scale = lp->find_non_null("scale");
    if (!rank || !rank->is_integer() || rank->as_int() <= 0) return err(cfg_path, ": lora_parameters.rank must be a positive integer");
    if (!scale || !scale->is_number()) return err(cfg_path, ": lora_parameters.scale must be a number");
    r_cfg = double(rank->as_int());
    mlx_scale = scale->as_double();
  } else {
    const Json* pt = ac.find_non_null("peft_type");
    if (pt && (!pt->is_string() || pt->as_string() != "LORA")) return err(cfg_path, ": peft_type \"", pt->is_string() ? pt->as_string() : "?", "\" is not supported (only LORA)");
    const Json* r = ac.find_non_null("r");
    const Json* a = ac.find_non_null("lora_alpha");
    if (!r || !r->is_integer() || r->as_int() <= 0) return err(cfg_path, ": \"r\" must be a positive integer");
    r_cfg = double(r->as_int());
    alpha = a ? (a->is_number() ? a->as_double() : -1) : r_cfg;
    if (alpha < 0) return err(cfg_path, ": \"lora_alpha\" must be a number");
    const Json* rs = ac.find_non_null("use_rslora");
    if (rs && !rs->is_bool()) return err(cfg_path, ": \"use_rslora\" must be true or false");
    rslora = rs && rs->as_bool();
    const Json* dora = ac.find_non_null("use_dora");
    if (dora && dora->is_bool() && dora->as_bool()) return err(cfg_path, ": use_dora adapters are not supported");
    target = ac.find_non_null("target_modules");
    rank_pattern = ac.find_non_null("rank_pattern");
    alpha_pattern = ac.find_non_null("alpha_pattern");
    // fan_in_fan_out only concerns Conv1D-style base layers; these families use Linear, where
    // the LoRA product is the same either way.
  }

  HEARTH_ASSIGN(SafetensorsFile st, SafetensorsFile::open(st_path));
  struct Half { const TensorInfo* a = nullptr; const TensorInfo* b = nullptr; std::string module; };
  std::vector<std::array<Half, kNumProj>> found(size_t(cfg.n_layers));
  for (const auto& t : st.tensors()) {
    auto k = split_key(t.name, mlx);
    if (!k) return err(st_path, ": tensor ", t.name, " matches no projection of a ", arch_name(cfg.arch), " model (expected ...layers.N.self_attn.{q,k,v,o}_proj or mlp.{gate,up,down}_proj ", mlx ? "lora_a / lora_b" : "lora_A / lora_B", ")");
    if (k->layer >= cfg.n_layers) return err(st_path, ": tensor ", t.name, ": layer ", k->layer, " does not exist (the model has ", cfg.n_layers, " layers)");
    if (target) {
      bool ok = false;
      std::string short_name = k->module.substr(k->module.rfind('.') + 1);
      if (target->is_string()) {
        try {
          ok = std::regex_match(k->module, std::regex(target->as_string()));
        } catch (...) {
          return err(cfg_path, ": target_modules regex \"", target->as_string(), "\" is not a valid regular expression");
        }
      } else if (target->is_array()) {
        for (const auto& m : target->as_array()) {
          if (m.is_string() && (m.as_string() == short_name || pattern_matches(m.as_string(), k->module))) ok = true;
        }
      }
      if (!ok) return err(st_path, ": tensor ", t.name, ": module ", k->module, " is not in target_modules of ", cfg_path);
    }
    Half& h = found[size_t(k->layer)][int(k->proj)];
    const TensorInfo*& slot = k->which == 'A' ? h.a : h.b;
    if (slot) return err(st_path, ": tensor ", t.name, ": a second lora_", std::string(1, k->which), " for ", k->module);
    slot = &t;
    h.module = k->module;
  }
  for (int64_t l = 0; l < cfg.n_layers; ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      Half& h = found[size_t(l)][p];
      if (!h.a && !h.b) continue;
      if (!h.a || !h.b) return err(st_path, ": ", h.module, " has lora_", h.a ? "A" : "B", " but no lora_", h.a ? "B" : "A");
      const int64_t in = proj_in(cfg, Proj(p)), o = proj_out(cfg, Proj(p));
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
        pair.scale = float(mlx_scale);
      } else {
        pair.A = std::move(a);
        pair.B = std::move(b);
        double rr = r_cfg, al = alpha;
        auto pattern_value = [&](const Json* pat, double* v) -> Status {
          if (!pat || !pat->is_object()) return {};
          for (const auto& [key, val] : pat->as_object()) {
            if (pattern_matches(key, h.module)) {
              if (!val.is_number()) return err(cfg_path, ": pattern \"", key, "\" must map to a number");
              *v = val.as_double();
            }
          }
          return {};
        };
        HEARTH_CHECK(pattern_value(rank_pattern, &rr));
        HEARTH_CHECK(pattern_value(alpha_pattern, &al));
        if (int64_t(rr) != r) return err(st_path, ": ", h.module, ": rank ", r, " in the file but ", int64_t(rr), " in ", cfg_path);
        pair.scale = float(rslora ? al / std::sqrt(rr) : al / rr);
      }
      out.layers[size_t(l)][p] = std::move(pair);
    }
  }
  if (out.n_pairs() == 0) return err(st_path, ": holds no LoRA tensors");
  return out;
}

}  // namespace hearth
