// Models from GGUF files: llama.cpp's perplexity on the pycoder-6m Q8_0 / Q4_0 fixtures, the
// fp32 reference's greedy ids with the Q8_0 file, `convert` reproducing the fixture files byte
// for byte, Hugging Face -> GGUF -> model equal to the folder (Qwen2, Qwen3 against the HF
// references; Llama with llama.cpp's q/k row order and Llama 3 rope scaling), GGUF -> folder,
// and load errors that name the file and the tensor or key.
#include <sys/stat.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <random>

#include "core/dtype.h"
#include "engine/engine.h"
#include "formats/ggml_quants.h"
#include "formats/gguf_writer.h"
#include "model/gguf_checkpoint.h"
#include "model/gguf_convert.h"
#include "model/gguf_lora.h"
#include "model/rope.h"
#include "gguf_fuzz_entry.h"
#include "random_data.h"
#include "tokenizer/tokenizer.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

struct Windows {
  std::vector<int32_t> ids;
  int64_t n = 0, len = 0;
};

Windows eval_windows(int64_t max_windows) {
  auto f = SafetensorsFile::open(fixture("pycoder-6m/eval_windows.safetensors"));
  EXPECT_TRUE(f.ok()) << f.message();
  const TensorInfo& t = f->tensors().at(0);
  Windows w;
  w.n = std::min(t.shape[0], max_windows);
  w.len = t.shape[1];
  w.ids.resize(size_t(w.n * w.len));
  EXPECT_TRUE(t.read_bytes(0, w.ids.size() * 4, w.ids.data()).ok());
  return w;
}

double ppl_of(const std::string& path, int64_t max_windows) {
  Windows w = eval_windows(max_windows);
  LoadOptions opt;
  opt.max_ctx = w.len;
  opt.max_prefill_t = w.len;
  const auto t0 = std::chrono::steady_clock::now();
  auto m = Model::load(path, opt);
  EXPECT_TRUE(m.ok()) << m.message();
  if (!m.ok()) return 0;
  auto r = evaluate_perplexity(**m, w.ids, w.n, w.len);
  EXPECT_TRUE(r.ok()) << r.message();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ perplexity ] %s, %lld windows: %.4f (load %.3f s, total %.1f s)\n", path.c_str(), (long long)w.n, r->ppl,
              (*m)->load_seconds(), s);
  return r->ppl;
}

TEST(GgufModel, PerplexityEqualsLlamaCpp) {
#ifdef __EMSCRIPTEN__
  GTEST_SKIP() << "all 32 windows twice take minutes in Node; the native build runs this (FourWindows runs here)";
#endif
  EXPECT_NEAR(ppl_of(fixture("gguf/pycoder-6m-q8_0.gguf"), 32), 8.6233, 8.6233 * 5e-4);
  EXPECT_NEAR(ppl_of(fixture("gguf/pycoder-6m-q4_0.gguf"), 32), 8.8541, 8.8541 * 5e-4);
}

// A quick check for every build: Q8_0 costs little over fp32 on the first 4 windows. (Over so
// few windows the activations' Q8_0 rounding, which float differences between builds flip here
// and there, moves the figure by up to ~0.1 %: 8.4263 natively, 8.4193 in wasm, fp32 8.4280.)
TEST(GgufModel, FourWindowsQ8_0CloseToFp32) {
  const double f32 = ppl_of(fixture("pycoder-6m"), 4), q8 = ppl_of(fixture("gguf/pycoder-6m-q8_0.gguf"), 4);
  EXPECT_NEAR(q8, f32, f32 * 2e-3);
}

TEST(GgufModel, Q8_0GivesTheReferenceGreedyIds) {
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  ASSERT_TRUE(ref.ok());
  auto e = Engine::load(fixture("gguf/pycoder-6m-q8_0.gguf"), LoadOptions{});
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ((*e)->default_stop_ids(), std::vector<int32_t>{0});
  auto tok = Tokenizer::load_for_model(fixture("gguf/pycoder-6m-q8_0.gguf"));
  ASSERT_TRUE(tok.ok()) << tok.message();
  for (const auto& g : ref->find("greedy")->as_array()) {
    GenerateRequest req;
    req.prompt = tok->encode(g.find("prompt")->as_string());
    EXPECT_EQ(req.prompt, test::ids_of(*g.find("prompt_ids")));  // the GGUF tokenizer
    const std::vector<int32_t> want = test::ids_of(*g.find("greedy"));
    req.max_new_tokens = int64_t(want.size());
    req.stop_ids = {-1};
    req.sampling.temperature = 0;
    auto r = (*e)->generate(req);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->ids, want) << g.find("prompt")->as_string();
  }
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

TEST(GgufModel, ConvertReproducesTheFixtureFiles) {
  const std::string dir = test::temp_dir("gguf_convert");
  for (const auto& [type, name] : {std::pair{GgmlType::Q8_0, "q8_0"}, {GgmlType::Q4_0, "q4_0"}}) {
    const std::string out = dir + "/pycoder-6m-" + name + ".gguf";
    ASSERT_TRUE(convert_hf_to_gguf(fixture("pycoder-6m"), out, type).ok());
    const auto a = file_bytes(out), b = file_bytes(fixture(std::string("gguf/pycoder-6m-") + name + ".gguf"));
    ASSERT_EQ(a.size(), b.size()) << name;
    EXPECT_TRUE(a == b) << name << ": metadata, tensor infos and every tensor byte must match";
  }
}

// Folder -> GGUF (BF16 keeps the checkpoint's values) -> model: the HF reference greedy ids.
void expect_reference_greedy_through_gguf(const std::string& name) {
  const std::string out = test::temp_dir("gguf_ref") + "/" + name + ".gguf";
  ASSERT_TRUE(convert_hf_to_gguf(fixture(name), out, GgmlType::BF16).ok());
  auto ref = read_json_file(fixture(name + "/reference.json"));
  ASSERT_TRUE(ref.ok());
  LoadOptions opt;
  opt.max_ctx = 2048;
  auto m = Model::load(out, opt);
  ASSERT_TRUE(m.ok()) << m.message();
  int checked = 0;
  for (const auto& c : ref->find("cases")->as_array()) {
    if (!c.find("adapter")->is_null()) continue;
    std::vector<int32_t> ids = test::ids_of(*c.find("prompt"));
    if (ids.size() > 64) continue;
    const std::vector<int32_t> want = test::ids_of(*c.find("greedy"));
    (*m)->reset();
    std::vector<float> logits;
    std::vector<int32_t> got;
    ASSERT_TRUE((*m)->forward(ids, &logits).ok());
    for (size_t i = 0; i < want.size(); ++i) {
      got.push_back(test::argmax(logits));
      ASSERT_TRUE((*m)->forward(std::span<const int32_t>(&got.back(), 1), &logits).ok());
    }
    EXPECT_EQ(got, want) << name << " case " << c.find("id")->as_int();
    ++checked;
  }
  EXPECT_GE(checked, 2);
}

TEST(GgufModel, Qwen2AndQwen3ThroughGgufMatchTheReference) {
  expect_reference_greedy_through_gguf("qwen2-tiny");
  expect_reference_greedy_through_gguf("qwen3-tiny");
}

// A random-weight Llama folder (q/k/v/o biases, Llama 3 rope scaling) for the permutation test.
std::string make_llama_folder() {
  const std::string dir = test::temp_dir("gguf_llama");
  const char* config = R"({"model_type": "llama", "vocab_size": 96, "hidden_size": 128, "intermediate_size": 160,
    "num_hidden_layers": 2, "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": 64,
    "max_position_embeddings": 131072, "rms_norm_eps": 1e-05, "rope_theta": 500000.0,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "tie_word_embeddings": false,
    "attention_bias": true, "hidden_act": "silu", "bos_token_id": 1, "eos_token_id": 2})";
  std::ofstream(dir + "/config.json") << config;
  auto cfg = parse_model_config(*parse_json(config, "config"), "config");
  std::vector<TensorToWrite> ts;
  uint32_t seed = 1;
  for (const HfTensor& t : hf_tensors(*cfg)) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    auto v = test::randn(size_t(n), seed++, 0.2f);
    std::vector<uint8_t> b(size_t(n) * 2);
    for (int64_t i = 0; i < n; ++i) {
      const uint16_t h = f32_to_bf16(v[size_t(i)] + (t.matrix() ? 0.0f : 1.0f));
      std::memcpy(&b[size_t(2 * i)], &h, 2);
    }
    ts.push_back({t.name, DType::BF16, t.shape, std::move(b)});
  }
  EXPECT_TRUE(write_safetensors(dir + "/model.safetensors", ts).ok());
  return dir;
}

TEST(GgufModel, LlamaRowOrderAndRopeScalingRoundTrip) {
  const std::string dir = make_llama_folder();
  const std::string out = dir + ".gguf";
  ASSERT_TRUE(convert_hf_to_gguf(dir, out, GgmlType::F32).ok());
  // The GGUF holds llama.cpp's order: within a head, rows 2i and 2i + 1 are HF rows i and i + 32.
  auto g = GgufFile::open(out);
  ASSERT_TRUE(g.ok()) << g.message();
  auto st = TensorStore::open_dir(dir);
  ASSERT_TRUE(st.ok());
  for (const char* p : {"q", "k"}) {
    const GgufTensor* t = g->tensor(std::string("blk.1.attn_") + p + ".weight");
    const GgufTensor* b = g->tensor(std::string("blk.1.attn_") + p + ".bias");
    ASSERT_TRUE(t && b);
    const int64_t rows = t->ne[1], cols = t->ne[0];
    const int64_t shape[2] = {rows, cols}, bshape[1] = {rows};
    auto w = st->load_f32(std::string("model.layers.1.self_attn.") + p + "_proj.weight", shape);
    auto wb = st->load_f32(std::string("model.layers.1.self_attn.") + p + "_proj.bias", bshape);
    std::vector<float> gw(size_t(rows * cols)), gb(static_cast<size_t>(rows));
    ASSERT_TRUE(g->read(*t, 0, gw.size() * 4, gw.data()).ok());
    ASSERT_TRUE(g->read(*b, 0, gb.size() * 4, gb.data()).ok());
    for (int64_t h = 0; h < rows / 64; ++h) {
      for (int64_t i = 0; i < 32; ++i) {
        for (int64_t j = 0; j < 2; ++j) {
          const int64_t gr = h * 64 + 2 * i + j, hr = h * 64 + j * 32 + i;
          ASSERT_EQ(gb[size_t(gr)], (*wb)[size_t(hr)]);
          ASSERT_EQ(gw[size_t(gr * cols + 5)], (*w)[size_t(hr * cols + 5)]);
        }
      }
    }
  }
  ASSERT_NE(g->tensor("rope_freqs.weight"), nullptr);
  // Loaded back: the same config (rope parameters recovered from rope_freqs) and the same logits.
  auto a = Model::load(dir, LoadOptions{});
  auto b = Model::load(out, LoadOptions{});
  ASSERT_TRUE(a.ok()) << a.message();
  ASSERT_TRUE(b.ok()) << b.message();
  const RopeConfig& ra = (*a)->config().rope;
  const RopeConfig& rb = (*b)->config().rope;
  EXPECT_EQ(rb.type, RopeType::Llama3);
  EXPECT_EQ(rb.factor, ra.factor);
  EXPECT_EQ(rb.low_freq_factor, ra.low_freq_factor);
  EXPECT_EQ(rb.high_freq_factor, ra.high_freq_factor);
  EXPECT_EQ(rb.original_max_pos, ra.original_max_pos);
  EXPECT_EQ(make_rope_table((*a)->config()).inv_freq, make_rope_table((*b)->config()).inv_freq);
  const std::vector<int32_t> ids = {3, 17, 95, 0, 44, 44, 8};
  std::vector<float> la, lb;
  ASSERT_TRUE((*a)->forward(ids, nullptr, &la).ok());
  ASSERT_TRUE((*b)->forward(ids, nullptr, &lb).ok());
  EXPECT_EQ(la, lb);
}

TEST(GgufModel, GgufToFolderAndBack) {
  const std::string dir = test::temp_dir("gguf_to_hf");
  ASSERT_TRUE(convert_gguf_to_hf(fixture("gguf/pycoder-6m-q8_0.gguf"), dir, "auto").ok());
  // The folder's tokenizer.json is hearth's own format and encodes like the original.
  auto ours = Tokenizer::load_file(dir + "/tokenizer.json");
  auto orig = Tokenizer::load_file(fixture("pycoder-6m/tokenizer.json"));
  ASSERT_TRUE(ours.ok()) << ours.message();
  ASSERT_TRUE(orig.ok());
  const std::string text = "def f(x):\n    return {'a': x ** 2}  # caf\xC3\xA9 \xE2\x9C\x93<|endoftext|>\n\n\tpass";
  EXPECT_EQ(ours->encode(text), orig->encode(text));
  EXPECT_EQ(ours->decode(orig->encode(text)), text);
  // The weights are the Q8_0 values, dequantized exactly (F32).
  auto g = GgufFile::open(fixture("gguf/pycoder-6m-q8_0.gguf"));
  auto st = TensorStore::open_dir(dir);
  ASSERT_TRUE(g.ok() && st.ok());
  const GgufTensor* q = g->tensor("blk.2.ffn_down.weight");
  std::vector<uint8_t> raw(size_t(q->nbytes));
  ASSERT_TRUE(g->read(*q, 0, raw.size(), raw.data()).ok());
  std::vector<float> want(size_t(q->numel()));
  dequantize_row(GgmlType::Q8_0, raw.data(), q->numel(), want.data());
  const int64_t shape[2] = {256, 768};
  auto got = st->load_f32("model.layers.2.mlp.down_proj.weight", shape);
  ASSERT_TRUE(got.ok()) << got.message();
  EXPECT_EQ(*got, want);
  // The folder loads, and as GGUF again (Q8_0 of Q8_0 values) gives back the same blocks.
  auto m = Model::load(dir, LoadOptions{});
  ASSERT_TRUE(m.ok()) << m.message();
  const std::string again = dir + "/again.gguf";
  ASSERT_TRUE(convert_hf_to_gguf(dir, again, GgmlType::Q8_0).ok());
  auto g2 = GgufFile::open(again);
  ASSERT_TRUE(g2.ok());
  const GgufTensor* q2 = g2->tensor("blk.2.ffn_down.weight");
  std::vector<uint8_t> raw2(size_t(q2->nbytes));
  ASSERT_TRUE(g2->read(*q2, 0, raw2.size(), raw2.data()).ok());
  EXPECT_EQ(raw, raw2);
}

// A GGUF of the qwen2-tiny shapes with edits applied to its metadata and tensor infos
// (edit_tensor returns false to leave a tensor out). Tensor data is zeros.
std::string tiny_gguf(const std::string& name, const std::function<void(GgufWriter&)>& edit_meta,
                      const std::function<bool(GgufTensorToWrite&)>& edit_tensor = nullptr) {
  auto src = GgufFile::open(test::temp_dir("gguf_ref") + "/qwen2-tiny.gguf");
  EXPECT_TRUE(src.ok()) << src.message();
  GgufWriter w;
  edit_meta(w);
  for (const auto& [k, v] : src->metadata()) {
    if (!w.has(k)) w.add(k, v);
  }
  std::vector<std::vector<uint8_t>> data;
  for (const auto& t : src->tensors()) {
    GgufTensorToWrite tw{t.name, t.type, t.ne};
    if (edit_tensor && !edit_tensor(tw)) continue;
    w.add_tensor(tw);
    data.emplace_back(size_t(tw.nbytes()), 0);
  }
  const std::string path = test::temp_dir("gguf_bad") + "/" + name + ".gguf";
  const auto bytes = w.serialize(data);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  return path;
}

void expect_load_error(const std::string& path, const std::string& needle) {
  auto m = Model::load(path, LoadOptions{});
  ASSERT_FALSE(m.ok()) << needle;
  EXPECT_NE(m.message().find(needle), std::string::npos) << m.message();
  EXPECT_NE(m.message().find(path), std::string::npos) << m.message();
}

TEST(GgufModel, LoadErrorsNameTheFileAndWhatIsWrong) {
  ASSERT_TRUE(convert_hf_to_gguf(fixture("qwen2-tiny"), test::temp_dir("gguf_ref") + "/qwen2-tiny.gguf", GgmlType::BF16).ok());
  expect_load_error(tiny_gguf("arch", [](GgufWriter& w) { w.add("general.architecture", GgufValue::of_string("gpt2")); }),
                    "architecture \"gpt2\" is not supported");
  expect_load_error(tiny_gguf("nokey", [](GgufWriter& w) { w.add("qwen2.block_count", GgufValue::of_string("4")); }),
                    "qwen2.block_count is a string, expected an integer");
  const auto none = [](GgufWriter&) {};
  expect_load_error(tiny_gguf("missing", none, [](GgufTensorToWrite& t) { return t.name != "blk.3.ffn_up.weight"; }),
                    "blk.3.ffn_up.weight (model.layers.3.mlp.up_proj.weight) is missing");
  expect_load_error(tiny_gguf("shape", none, [](GgufTensorToWrite& t) {
                      if (t.name == "blk.2.attn_v.weight") t.ne = {256, 64};
                      return true;
                    }),
                    "blk.2.attn_v.weight (model.layers.2.self_attn.v_proj.weight): expected shape [128, 256], file has [64, 256]");
  expect_load_error(tiny_gguf("ff", [](GgufWriter& w) { w.add("qwen2.feed_forward_length", GgufValue::of_int(GgufType::U32, 1 << 30)); }),
                    "qwen2.feed_forward_length 1073741824 does not match tensor blk.0.ffn_up.weight (768)");
  expect_load_error(tiny_gguf("layers", [](GgufWriter& w) { w.add("qwen2.block_count", GgufValue::of_int(GgufType::U64, int64_t(1) << 40)); }),
                    "block_count 1099511627776 does not fit");
  expect_load_error(tiny_gguf("iq", none, [](GgufTensorToWrite& t) {
                      if (t.name == "token_embd.weight") t.type = GgmlType::IQ2_XXS;
                      return true;
                    }),
                    "type IQ2_XXS is not supported");
  auto tok = Tokenizer::load_for_model(tiny_gguf("bert", [](GgufWriter& w) {
    w.add("tokenizer.ggml.model", GgufValue::of_string("bert"));
    w.add("tokenizer.ggml.tokens", GgufValue::string_array({"a"}));
  }));
  ASSERT_FALSE(tok.ok());
  EXPECT_NE(tok.message().find("tokenizer.ggml.model \"bert\" is not supported"), std::string::npos) << tok.message();
}

// PEFT adapters as llama.cpp GGUF adapters (written, read back and applied): the reference
// greedy ids of the adapter cases, on the base model loaded from GGUF too; a Llama adapter
// through GGUF gives the same logits as the PEFT folder (lora_b rows of q/k reordered).
TEST(GgufModel, LoraAdaptersThroughGguf) {
  const std::string dir = test::temp_dir("gguf_lora");
  auto base = Model::load(fixture("qwen2-tiny"), LoadOptions{});
  ASSERT_TRUE(base.ok());
  for (const char* name : {"lora-all", "lora-qv"}) {
    auto a = load_lora_adapter(fixture(std::string("qwen2-tiny/") + name), (*base)->config());
    ASSERT_TRUE(a.ok()) << a.message();
    ASSERT_TRUE(write_gguf_lora(*a, (*base)->config(), dir + "/" + name + ".gguf").ok());
  }
  const std::string model_gguf = dir + "/qwen2-tiny.gguf";
  ASSERT_TRUE(convert_hf_to_gguf(fixture("qwen2-tiny"), model_gguf, GgmlType::BF16).ok());
  auto e = Engine::load(model_gguf, LoadOptions{});
  ASSERT_TRUE(e.ok()) << e.message();
  ASSERT_TRUE((*e)->load_adapter("lora-all", dir + "/lora-all.gguf").ok());
  ASSERT_TRUE((*e)->load_adapter("lora-qv", dir + "/lora-qv.gguf").ok());
  auto ref = read_json_file(fixture("qwen2-tiny/reference.json"));
  int checked = 0;
  for (const auto& c : ref->find("cases")->as_array()) {
    if (c.find("adapter")->is_null()) continue;
    GenerateRequest req;
    req.prompt = test::ids_of(*c.find("prompt"));
    const std::vector<int32_t> want = test::ids_of(*c.find("greedy"));
    req.max_new_tokens = int64_t(want.size());
    req.sampling.temperature = 0;
    req.stop_ids = {-1};
    req.adapter = c.find("adapter")->as_string();
    auto r = (*e)->generate(req);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_EQ(r->ids, want) << req.adapter;
    ++checked;
  }
  EXPECT_GE(checked, 4);
  // Llama: a random adapter on all projections, PEFT folder against its GGUF form.
  const std::string llama = make_llama_folder();
  auto cfg = read_model_config(llama);
  ASSERT_TRUE(cfg.ok());
  LoraAdapter ad;
  ad.dir = "random";
  ad.layers.resize(size_t(cfg->n_layers));
  uint32_t seed = 50;
  for (auto& layer : ad.layers) {
    for (int p = 0; p < kNumProj; ++p) {
      LoraPair pair;
      pair.rank = 4;
      pair.in = proj_in(*cfg, Proj(p));
      pair.out = proj_out(*cfg, Proj(p));
      pair.scale = p == 2 ? 0.5f : 2.0f;  // unequal scales: B written pre-scaled, alpha 0
      pair.A = test::randn(size_t(pair.rank * pair.in), seed++, 0.1f);
      pair.B = test::randn(size_t(pair.out * pair.rank), seed++, 0.1f);
      layer[p] = pair;
    }
  }
  ASSERT_TRUE(write_gguf_lora(ad, *cfg, dir + "/llama-lora.gguf").ok());
  {  // lora_b of q in llama.cpp's row order: GGUF row 2i + j of a head is row j * 32 + i, scaled
    auto g = GgufFile::open(dir + "/llama-lora.gguf");
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(*g->get_float("adapter.lora.alpha"), 0.0);
    const GgufTensor* t = g->tensor("blk.0.attn_q.weight.lora_b");
    ASSERT_NE(t, nullptr);
    std::vector<float> b(size_t(t->numel()));
    ASSERT_TRUE(g->read(*t, 0, b.size() * 4, b.data()).ok());
    const LoraPair& q = *ad.layers[0][0];
    for (int64_t h = 0; h < 2; ++h)
      for (int64_t i = 0; i < 32; ++i)
        for (int64_t j = 0; j < 2; ++j)
          for (int64_t k = 0; k < 4; ++k) ASSERT_EQ(b[size_t((h * 64 + 2 * i + j) * 4 + k)], q.B[size_t((h * 64 + j * 32 + i) * 4 + k)] * 2.0f);
  }
  auto back = load_lora_adapter(dir + "/llama-lora.gguf", *cfg);
  ASSERT_TRUE(back.ok()) << back.message();
  auto m = Model::load(llama, LoadOptions{});
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE((*m)->add_adapter("peft", ad).ok());
  ASSERT_TRUE((*m)->add_adapter("gguf", *back).ok());
  const std::vector<int32_t> ids = {5, 9, 2, 77, 31};
  std::vector<float> la, lb;
  ASSERT_TRUE((*m)->set_adapter("peft").ok());
  ASSERT_TRUE((*m)->forward(ids, nullptr, &la).ok());
  (*m)->reset();
  ASSERT_TRUE((*m)->set_adapter("gguf").ok());
  ASSERT_TRUE((*m)->forward(ids, nullptr, &lb).ok());
  EXPECT_LT(test::max_abs_diff(la.data(), lb.data(), la.size()), 1e-5f);
  // An adapter of another architecture is refused with the file's name.
  auto wrong = load_lora_adapter(dir + "/llama-lora.gguf", (*base)->config());
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("adapter for architecture llama, the model is qwen2"), std::string::npos) << wrong.message();
}

// Random byte flips in the metadata and tensor infos of real model files, through everything a
// load does short of the forward pass (gguf_fuzz_entry.h): errors, never crashes.
TEST(GgufModel, MutatedModelFilesNeverCrash) {
  const std::string tiny = test::temp_dir("gguf_ref") + "/qwen2-tiny-q8_0.gguf";
  ASSERT_TRUE(convert_hf_to_gguf(fixture("qwen2-tiny"), tiny, GgmlType::Q8_0).ok());
  for (const auto& [path, iters] : {std::pair{tiny, 400}, {fixture("gguf/pycoder-6m-q4_0.gguf"), 60}}) {
    const std::vector<uint8_t> base = file_bytes(path);
    auto g = GgufFile::parse(MappedFile::from_bytes(base, path));
    ASSERT_TRUE(g.ok());
    ASSERT_EQ(test::exercise_gguf(base), path == tiny ? 3 : 7) << path;
    const size_t header = size_t(g->data_offset());
    std::mt19937 rng(99);
    int config_ok = 0;
    for (int i = 0; i < iters; ++i) {
      std::vector<uint8_t> b = base;
      const int flips = 1 + int(rng() % 3);
      for (int k = 0; k < flips; ++k) {
        // Half the flips land in the last 4 KiB of the header: the tensor infos.
        const size_t at = (rng() % 2 && header > 4096) ? header - 1 - rng() % 4096 : rng() % header;
        b[at] = uint8_t(rng());
      }
      config_ok += (test::exercise_gguf(b) & 2) != 0;
    }
    EXPECT_GT(config_ok, 0) << path << ": no mutation got as far as the config";
  }
}

}  // namespace
}  // namespace hearth
