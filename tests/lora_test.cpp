// LoRA hot-swap: adapters give the merged-weights reference (greedy ids and logits), clearing
// gives back bit-identical output, swapping reproduces runs exactly, the MLX layout equals the
// PEFT one, and bad adapters leave the engine unchanged.
#include <fstream>

#include "engine/engine.h"
#include "model/lora.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

struct Case {
  int id;
  std::string adapter;
  std::vector<int32_t> prompt, greedy;
};

std::vector<Case> cases() {
  auto ref = read_json_file(fixture("qwen2-tiny/reference.json"));
  EXPECT_TRUE(ref.ok());
  std::vector<Case> out;
  for (const auto& c : ref->find("cases")->as_array()) {
    const Json* a = c.find("adapter");
    out.push_back({int(c.find("id")->as_int()), a->is_null() ? "" : a->as_string(), test::ids_of(*c.find("prompt")),
                   test::ids_of(*c.find("greedy"))});
  }
  return out;
}

std::unique_ptr<Engine> engine(ModelDType dt = ModelDType::F32) {
  LoadOptions opt;
  opt.dtype = dt;
  opt.max_ctx = 1200;
  opt.max_prefill_t = 128;  // the 300-token prompts take several batched passes
  auto e = Engine::load(fixture("qwen2-tiny"), opt);
  EXPECT_TRUE(e.ok()) << e.message();
  return std::move(*e);
}

// Greedy run that also returns the logits of the first `n_logits` steps.
std::vector<int32_t> run(Engine& e, const std::vector<int32_t>& prompt, const std::string& adapter, float scale,
                         std::vector<std::vector<float>>* logits = nullptr, int n = 32) {
  Model& m = e.model();
  EXPECT_TRUE(m.set_adapter(adapter, scale).ok());
  m.reset();
  std::vector<float> last;
  EXPECT_TRUE(m.forward(prompt, &last).ok());
  std::vector<int32_t> ids;
  for (int i = 0; i < n; ++i) {
    if (logits) logits->push_back(last);
    int32_t next = test::argmax(last);
    ids.push_back(next);
    EXPECT_TRUE(m.forward(std::span<const int32_t>(&next, 1), &last).ok());
  }
  return ids;
}

TEST(Lora, PeftAdaptersMatchMergedReference) {
  auto e = engine();
  ASSERT_TRUE(e->load_adapter("lora-all", fixture("qwen2-tiny/lora-all")).ok());
  ASSERT_TRUE(e->load_adapter("lora-qv", fixture("qwen2-tiny/lora-qv")).ok());
  auto refs = SafetensorsFile::open(fixture("qwen2-tiny/reference.safetensors"));
  ASSERT_TRUE(refs.ok());
  const int64_t V = e->model().config().vocab_size;
  int checked = 0;
  for (const Case& c : cases()) {
    if (c.adapter.empty()) continue;
    SCOPED_TRACE("case " + std::to_string(c.id) + " " + c.adapter);
    std::vector<std::vector<float>> logits;
    EXPECT_EQ(run(*e, c.prompt, c.adapter, 1.0f, &logits), c.greedy);
    const TensorInfo* t = refs->find("case" + std::to_string(c.id) + ".logits");
    ASSERT_NE(t, nullptr);
    std::vector<float> want(size_t(t->numel()));
    ASSERT_TRUE(convert_to_f32(*t, 0, want.size(), want.data()).ok());
    for (int64_t r = 0; r < t->shape[0]; ++r) {
      EXPECT_LT(test::max_abs_diff(logits[size_t(r)].data(), want.data() + r * V, size_t(V)), 1e-4f) << "row " << r;
    }
    ++checked;
  }
  EXPECT_EQ(checked, 4);
}

TEST(Lora, ClearingAndSwappingAreBitExact) {
  auto fresh = engine();
  std::vector<int32_t> prompt = cases()[1].prompt;
  std::vector<std::vector<float>> base_logits;
  auto base = run(*fresh, prompt, "", 1.0f, &base_logits, 8);

  auto e = engine();
  ASSERT_TRUE(e->load_adapter("all", fixture("qwen2-tiny/lora-all")).ok());
  ASSERT_TRUE(e->load_adapter("qv", fixture("qwen2-tiny/lora-qv")).ok());
  std::vector<std::vector<float>> a1, b1, none, a2, zero;
  auto ids_a1 = run(*e, prompt, "all", 1.0f, &a1, 8);
  auto ids_b1 = run(*e, prompt, "qv", 1.0f, &b1, 8);
  auto ids_none = run(*e, prompt, "", 1.0f, &none, 8);
  auto ids_a2 = run(*e, prompt, "all", 1.0f, &a2, 8);
  EXPECT_EQ(none, base_logits);  // bit for bit
  EXPECT_EQ(ids_none, base);
  EXPECT_EQ(a1, a2);
  EXPECT_NE(a1, b1);
  EXPECT_NE(a1, none);
  // Scale 0 adds exact zeros; scale changes are applied without reloading anything.
  run(*e, prompt, "all", 0.0f, &zero, 8);
  EXPECT_EQ(zero, base_logits);
  std::vector<std::vector<float>> a3;
  run(*e, prompt, "all", 1.0f, &a3, 8);
  EXPECT_EQ(a3, a1);
  ASSERT_TRUE(e->unload_adapter("all").ok());
  EXPECT_FALSE(e->model().set_adapter("all").ok());
}

TEST(Lora, WorksOverQuantizedBaseAndInGenerate) {
  auto e = engine(ModelDType::Int4);
  std::vector<int32_t> prompt = cases()[1].prompt;
  std::vector<std::vector<float>> before, with, after;
  run(*e, prompt, "", 1.0f, &before, 4);
  ASSERT_TRUE(e->load_adapter("all", fixture("qwen2-tiny/lora-all")).ok());
  run(*e, prompt, "all", 1.0f, &with, 4);
  run(*e, prompt, "", 1.0f, &after, 4);
  EXPECT_NE(before, with);
  EXPECT_EQ(before, after);
  GenerateRequest req;
  req.prompt = prompt;
  req.max_new_tokens = 6;
  req.sampling.temperature = 0;
  req.adapter = "all";
  auto r = e->generate(req);
  ASSERT_TRUE(r.ok()) << r.message();
  EXPECT_EQ(r->ids.size(), 6u);
  req.adapter = "missing";
  auto bad = e->generate(req);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("no adapter named \"missing\""), std::string::npos);
}

// Writes lora-all in MLX-LM's layout: lora_a (in, r), lora_b (r, out), scale multiplies.
std::string peft_to_mlx(const std::string& peft_dir) {
  auto st = SafetensorsFile::open(peft_dir + "/adapter_model.safetensors");
  EXPECT_TRUE(st.ok());
  std::vector<TensorToWrite> out;
  int64_t rank = 0;
  for (const auto& t : st->tensors()) {
    std::string name = t.name;
    name = name.substr(std::string("base_model.model.").size());
    bool is_a = name.find(".lora_A.weight") != std::string::npos;
    name = name.substr(0, name.find(is_a ? ".lora_A.weight" : ".lora_B.weight")) + (is_a ? ".lora_a" : ".lora_b");
    const int64_t d0 = t.shape[0], d1 = t.shape[1];
    std::vector<uint8_t> bytes(t.nbytes);
    for (int64_t i = 0; i < d0; ++i)
      for (int64_t j = 0; j < d1; ++j) std::memcpy(&bytes[size_t((j * d0 + i) * 2)], t.data + (i * d1 + j) * 2, 2);
    out.push_back({name, t.dtype, {d1, d0}, bytes});
    if (is_a) rank = d0;
  }
  auto cfg = read_json_file(peft_dir + "/adapter_config.json");
  double scale = cfg->find("lora_alpha")->as_double() / double(rank);
  std::string dir = test::temp_dir("mlx_adapter");
  EXPECT_TRUE(write_safetensors(dir + "/adapters.safetensors", out).ok());
  std::ofstream(dir + "/adapter_config.json") << "{\"fine_tune_type\": \"lora\", \"num_layers\": 4, \"lora_parameters\": {\"rank\": "
                                              << rank << ", \"scale\": " << scale << ", \"dropout\": 0.0}}";
  return dir;
}

TEST(Lora, MlxLayoutEqualsPeft) {
  auto e = engine();
  ASSERT_TRUE(e->load_adapter("peft", fixture("qwen2-tiny/lora-all")).ok());
  ASSERT_TRUE(e->load_adapter("mlx", peft_to_mlx(fixture("qwen2-tiny/lora-all"))).ok());
  std::vector<int32_t> prompt = cases()[1].prompt;
  std::vector<std::vector<float>> a, b;
  EXPECT_EQ(run(*e, prompt, "peft", 1.0f, &a, 8), run(*e, prompt, "mlx", 1.0f, &b, 8));
  EXPECT_EQ(a, b);
}

std::string adapter_variant(const std::string& name, const std::string& config,
                            const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  auto st = SafetensorsFile::open(fixture("qwen2-tiny/lora-qv/adapter_model.safetensors"));
  std::vector<TensorToWrite> ts;
  for (const auto& t : st->tensors()) ts.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
  edit(ts);
  std::string dir = test::temp_dir(name);
  EXPECT_TRUE(write_safetensors(dir + "/adapter_model.safetensors", ts).ok());
  std::ofstream(dir + "/adapter_config.json") << config;
  return dir;
}

const char* kQv = R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj", "v_proj"]})";

TEST(Lora, ScaleRules) {
  auto cfg = read_model_config(fixture("qwen2-tiny"));
  ASSERT_TRUE(cfg.ok());
  auto keep = [](std::vector<TensorToWrite>&) {};
  auto plain = load_lora_adapter(adapter_variant("s1", kQv, keep), *cfg);
  ASSERT_TRUE(plain.ok()) << plain.message();
  EXPECT_FLOAT_EQ(plain->layers[0][int(Proj::Q)]->scale, 2.0f);
  auto rs = load_lora_adapter(adapter_variant("s2", R"({"r": 4, "lora_alpha": 8, "use_rslora": true})", keep), *cfg);
  ASSERT_TRUE(rs.ok()) << rs.message();
  EXPECT_FLOAT_EQ(rs->layers[0][int(Proj::Q)]->scale, 4.0f);
  auto pat = load_lora_adapter(adapter_variant("s3", R"({"r": 4, "lora_alpha": 8, "alpha_pattern": {"v_proj": 2}, "target_modules": "model\\.layers\\.\\d+\\.self_attn\\.(q|v)_proj"})", keep), *cfg);
  ASSERT_TRUE(pat.ok()) << pat.message();
  EXPECT_FLOAT_EQ(pat->layers[1][int(Proj::Q)]->scale, 2.0f);
  EXPECT_FLOAT_EQ(pat->layers[1][int(Proj::V)]->scale, 0.5f);
}

TEST(Lora, BadAdaptersAreRefusedAndChangeNothing) {
  auto e = engine();
  std::vector<int32_t> prompt = cases()[1].prompt;
  std::vector<std::vector<float>> before, after;
  run(*e, prompt, "", 1.0f, &before, 4);
  struct Bad { std::string name, config; std::function<void(std::vector<TensorToWrite>&)> edit; std::string needle; };
  std::vector<Bad> bad = {
      {"unknown_key", kQv, [](auto& ts) { ts[0].name = "base_model.model.model.layers.0.self_attn.rotary.lora_A.weight"; }, "matches no projection"},
      {"wrong_shape", kQv, [](auto& ts) { ts[1].shape = {128, 8}; ts[1].bytes.resize(128 * 8 * 2); }, "expected shape [256, 4]"},
      {"layer_range", kQv, [](auto& ts) { ts[0].name = "base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight"; }, "layer 9 does not exist"},
      {"half_pair", kQv, [](auto& ts) { ts.erase(ts.begin()); }, "has lora_B but no lora_A"},
      {"not_targeted", R"({"r": 4, "lora_alpha": 8, "target_modules": ["k_proj"]})", [](auto&) {}, "not in target_modules"},
      {"rank_mismatch", R"({"r": 8, "lora_alpha": 8})", [](auto&) {}, "rank 4 in the file but 8"},
      {"bad_config", R"({"r": "four"})", [](auto&) {}, "\"r\" must be a positive integer"},
  };
  for (const auto& b : bad) {
    Status s = e->load_adapter(b.name, adapter_variant(b.name, b.config, b.edit));
    ASSERT_FALSE(s.ok()) << b.name;
    EXPECT_NE(s.message().find(b.needle), std::string::npos) << b.name << ": " << s.message();
  }
  EXPECT_TRUE(e->model().adapter_names().empty());
  // An adapter made for another architecture (qwen2-tiny's on qwen3-tiny) does not fit.
  auto q3 = Engine::load(fixture("qwen3-tiny"), LoadOptions{});
  ASSERT_TRUE(q3.ok());
  Status s = (*q3)->load_adapter("x", fixture("qwen2-tiny/lora-qv"));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("expected shape"), std::string::npos) << s.message();
  run(*e, prompt, "", 1.0f, &after, 4);
  EXPECT_EQ(before, after);
}

}  // namespace
}  // namespace hearth
