// GGUF LoRA adapters (see gguf_lora.h): written F32, read from F32 / F16 / BF16 (or any type
// the dequantizer knows), with llama.cpp's q/k row order of lora_b undone for llama.
#include "model/gguf_lora.h"

#include <cmath>
#include <cstring>

#include "core/finite.h"
#include "formats/ggml_quants.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "model/gguf_checkpoint.h"

namespace hearth {

namespace {

// Reorders the rows of B [out, r] between Hugging Face and GGUF order (to_gguf or back).
std::vector<float> reorder_rows(const std::vector<float>& b, int64_t out, int64_t r, int64_t head_dim, bool to_gguf) {
  std::vector<float> p(b.size());
  for (int64_t row = 0; row < out; ++row) {
    const int64_t g = gguf_row(row, head_dim);
    std::memcpy(&p[size_t((to_gguf ? g : row) * r)], &b[size_t((to_gguf ? row : g) * r)], size_t(r) * 4);
  }
  return p;
}

std::string tensor_base(int64_t layer, Proj p) { return gguf_tensor_name(TensorRole::Weight, layer, p); }

}  // namespace

Status write_gguf_lora(const LoraAdapter& a, const ModelConfig& base, const std::string& out_path) {
  struct Item {
    const LoraPair* pair;
    int64_t layer;
    Proj proj;
  };
  std::vector<Item> items;
  for (size_t l = 0; l < a.layers.size(); ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      if (a.layers[l][p]) items.push_back({&*a.layers[l][p], int64_t(l), Proj(p)});
    }
  }
  if (items.empty()) return err(a.dir, ": the adapter has no LoRA pairs");
  bool uniform = true;
  for (const Item& it : items) uniform = uniform && it.pair->rank == items[0].pair->rank && it.pair->scale == items[0].pair->scale;
  const double alpha = uniform ? double(items[0].pair->scale) * double(items[0].pair->rank) : 0.0;
  GgufWriter w;
  w.add("general.architecture", GgufValue::of_string(base.model_type));
  w.add("general.type", GgufValue::of_string("adapter"));
  w.add("adapter.type", GgufValue::of_string("lora"));
  w.add("adapter.lora.alpha", GgufValue::of_float(GgufType::F32, alpha));
  for (const Item& it : items) {
    w.add_tensor({tensor_base(it.layer, it.proj) + ".lora_a", GgmlType::F32, {it.pair->in, it.pair->rank}});
    w.add_tensor({tensor_base(it.layer, it.proj) + ".lora_b", GgmlType::F32, {it.pair->rank, it.pair->out}});
  }
  return w.write(out_path, [&](size_t i, std::vector<uint8_t>& out) -> Status {
    const Item& it = items[i / 2];
    const LoraPair& p = *it.pair;
    if (i % 2 == 0) {
      std::memcpy(out.data(), p.A.data(), p.A.size() * 4);
      return {};
    }
    std::vector<float> b = p.B;
    if (!uniform) {
      for (float& v : b) v *= p.scale;
    }
    const HfTensor t{"", {p.out, p.rank}, TensorRole::Weight, it.layer, it.proj};
    if (gguf_rows_permuted(base, t)) b = reorder_rows(b, p.out, p.rank, base.head_dim, true);
    std::memcpy(out.data(), b.data(), b.size() * 4);
    return {};
  });
}

Result<LoraAdapter> read_gguf_lora(const std::string& path, const ModelConfig& base) {
  HEARTH_ASSIGN(GgufFile g, GgufFile::open(path));
  return read_gguf_lora(g, base);
}

Result<LoraAdapter> read_gguf_lora(const GgufFile& g, const ModelConfig& base) {
  const std::string& path = g.path();
  HEARTH_ASSIGN(std::string type, g.get_string("general.type", ""));
  HEARTH_ASSIGN(std::string kind, g.get_string("adapter.type", ""));
  if (type != "adapter" || kind != "lora") return err(path, ": not a LoRA adapter (general.type \"", type, "\", adapter.type \"", kind, "\")");
  HEARTH_ASSIGN(std::string arch, g.get_string("general.architecture"));
  if (arch != base.model_type) return err(path, ": adapter for architecture ", arch, ", the model is ", base.model_type);
  HEARTH_ASSIGN(double alpha, g.get_float("adapter.lora.alpha", 0.0));
  if (!std::isfinite(alpha)) return err(path, ": adapter.lora.alpha must be a finite number");
  LoraAdapter out;
  out.dir = path;
  out.format = "gguf";
  out.layers.resize(size_t(base.n_layers));
  size_t used = 0;
  auto load = [&](const GgufTensor& t, std::vector<float>& v) -> Status {
    if (!ggml_can_dequantize(t.type) || t.ne.size() != 2) return err(path, ": tensor ", t.name, ": expected a matrix of a float type");
    std::vector<uint8_t> raw(size_t(t.nbytes));
    HEARTH_CHECK(g.read(t, 0, raw.size(), raw.data()));
    v.resize(size_t(t.numel()));
    dequantize_row(t.type, raw.data(), t.numel(), v.data());
    const size_t bad = first_non_finite(v.data(), v.size());
    if (bad != v.size()) return err(path, ": tensor ", t.name, ": element ", bad, " is ", std::isnan(v[bad]) ? "NaN" : "infinite");
    return {};
  };
  for (int64_t l = 0; l < base.n_layers; ++l) {
    for (int p = 0; p < kNumProj; ++p) {
      const std::string name = tensor_base(l, Proj(p));
      const GgufTensor* ta = g.tensor(name + ".lora_a");
      const GgufTensor* tb = g.tensor(name + ".lora_b");
      if (!ta && !tb) continue;
      if (!ta || !tb) return err(path, ": ", name, " has only one of lora_a and lora_b");
      LoraPair pair;
      pair.in = proj_in(base, Proj(p));
      pair.out = proj_out(base, Proj(p));
      pair.rank = ta->ne.size() == 2 ? ta->ne[1] : 0;
      if (ta->shape() != std::vector<int64_t>{pair.rank, pair.in} || tb->shape() != std::vector<int64_t>{pair.out, pair.rank} || pair.rank <= 0) {
        return err(path, ": ", name, ": lora_a ", ta->shape_str(), " and lora_b ", tb->shape_str(), " do not fit [r, ", pair.in, "] and [", pair.out, ", r]");
      }
      HEARTH_CHECK(load(*ta, pair.A));
      HEARTH_CHECK(load(*tb, pair.B));
      const HfTensor t{"", {pair.out, pair.rank}, TensorRole::Weight, l, Proj(p)};
      if (gguf_rows_permuted(base, t)) pair.B = reorder_rows(pair.B, pair.out, pair.rank, base.head_dim, false);
      pair.scale = alpha != 0 ? float(alpha / double(pair.rank)) : 1.0f;
      out.layers[size_t(l)][p] = std::move(pair);
      used += 2;
    }
  }
  for (const auto& t : g.tensors()) {
    if (used == g.tensors().size()) break;
    const bool lora = t.name.size() > 7 && (t.name.compare(t.name.size() - 7, 7, ".lora_a") == 0 || t.name.compare(t.name.size() - 7, 7, ".lora_b") == 0);
    if (!lora) return err(path, ": tensor ", t.name, " is not a LoRA tensor");
  }
  if (used != g.tensors().size()) return err(path, ": ", g.tensors().size() - used, " tensors name no projection of this model");
  if (used == 0) return err(path, ": the adapter has no LoRA tensors");
  return out;
}

}  // namespace hearth
