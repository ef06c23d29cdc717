// Bad input of every class found so far ends in a clear error (naming the file, key, tensor or
// element) or, where Hugging Face accepts it, in a warning: never a crash, a hang, a huge
// allocation or silent NaN. One test per class; the CLI and the malformed-input corpus
// (tests/malformed/) check the same through the command line.
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include "core/dtype.h"
#include "core/warning.h"
#include "engine/engine.h"
#include "formats/config.h"
#include "formats/gguf.h"
#include "model/lora.h"
#include "model/memory_estimate.h"
#include "model/tensor_source.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

using test::fixture;

// Collects warnings while alive.
struct Warnings {
  std::vector<std::string> seen;
  WarningHandler previous;
  Warnings() { previous = set_warning_handler([this](const std::string& m) { seen.push_back(m); }); }
  ~Warnings() { set_warning_handler(previous); }
  bool any(const std::string& needle) const {
    for (const auto& w : seen)
      if (w.find(needle) != std::string::npos) return true;
    return false;
  }
};

#define EXPECT_ERROR(expr, needle)                                                            \
  do {                                                                                        \
    auto r_ = (expr);                                                                         \
    ASSERT_FALSE(r_.ok()) << #expr;                                                           \
    EXPECT_NE(r_.message().find(needle), std::string::npos) << #expr << ": " << r_.message(); \
  } while (0)

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// qwen2-tiny's config.json with `edit` applied to its text ("key": value replaced).
std::string tiny_config_with(const std::string& key, const std::string& value) {
  std::string text = read_file(fixture("qwen2-tiny/config.json"));
  const size_t at = text.find("\"" + key + "\"");
  if (at == std::string::npos) {
    text.insert(text.find('{') + 1, "\"" + key + "\": " + value + ",");
  } else {
    const size_t colon = text.find(':', at), end = text.find_first_of(",\n}", colon);
    text.replace(colon + 1, end - colon - 1, " " + value);
  }
  return text;
}

Result<ModelConfig> config_with(const std::string& key, const std::string& value) {
  HEARTH_ASSIGN(Json j, parse_json(tiny_config_with(key, value), "config.json"));
  return parse_model_config(j, "config.json");
}

// A model folder: qwen2-tiny's weights (a symlink) with another config.json.
std::string folder_with_config(const std::string& name, const std::string& config_text) {
  const std::string dir = test::temp_dir("robust_" + name);
  std::ofstream(dir + "/config.json") << config_text;
  const std::string link = dir + "/model.safetensors";
  std::remove(link.c_str());
  EXPECT_EQ(::symlink(fixture("qwen2-tiny/model.safetensors").c_str(), link.c_str()), 0);
  return dir;
}

TEST(Robustness, JsonIntegersAreRangeChecked) {
  auto j = parse_json(R"([1e20, -1e300, 9007199254740993, 3.5, NaN])", "t");
  ASSERT_TRUE(j.ok());
  EXPECT_EQ((*j)[0].as_int(), INT64_MAX);  // saturates, never the undefined conversion
  EXPECT_EQ((*j)[1].as_int(), INT64_MIN);
  EXPECT_FALSE((*j)[0].fits_int64());
  EXPECT_TRUE((*j)[2].fits_int64());
  EXPECT_FALSE((*j)[3].fits_int64());
  EXPECT_EQ((*j)[4].as_int(), 0);
  auto g = parse_json(R"({"top_k": 1e20, "do_sample": true})", "generation_config.json");
  EXPECT_ERROR(parse_generation_config(*g, "generation_config.json"), "\"top_k\" must be an integer");
  auto g2 = parse_json(R"({"top_k": -3})", "generation_config.json");
  EXPECT_ERROR(parse_generation_config(*g2, "generation_config.json"), "\"top_k\" is -3, outside");
}

TEST(Robustness, ConfigSizesAndValuesAreChecked) {
  EXPECT_ERROR(config_with("head_dim", "2147483648"), "\"head_dim\" is 2147483648, outside [1, 16384]");
  EXPECT_ERROR(config_with("head_dim", "1099511627776"), "\"head_dim\"");
  EXPECT_ERROR(config_with("hidden_size", "4611686018427387904"), "\"hidden_size\" is 4611686018427387904");
  EXPECT_ERROR(config_with("num_hidden_layers", "1000000000"), "\"num_hidden_layers\" is 1000000000");
  EXPECT_ERROR(config_with("vocab_size", "1e20"), "\"vocab_size\" must be an integer");
  EXPECT_ERROR(config_with("rope_theta", "0"), "\"rope_theta\" must be a number > 0");
  EXPECT_ERROR(config_with("rope_theta", "-10000"), "\"rope_theta\" must be a number > 0");
  EXPECT_ERROR(config_with("rms_norm_eps", "-1e-6"), "\"rms_norm_eps\" must be a number >= 0");
  EXPECT_ERROR(config_with("rope_scaling", R"({"rope_type": "yarn", "factor": 4, "original_max_position_embeddings": 0})"),
               "original_max_position_embeddings\" is 0");
  EXPECT_TRUE(config_with("rms_norm_eps", "0").ok());
}

TEST(Robustness, MemoryIsCheckedBeforeAllocating) {
  // A config asking for far more than exists fails before any weight is read (they would not
  // even fit its shapes), with what it would need and what there is.
  std::string text = tiny_config_with("hidden_size", "262144");
  const std::string dir = folder_with_config("huge", text);
  const auto t0 = std::chrono::steady_clock::now();
  auto m = Model::load(dir, LoadOptions{});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.message().find("loading needs about"), std::string::npos) << m.message();
  EXPECT_NE(m.message().find("available"), std::string::npos) << m.message();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

TEST(Robustness, MemoryEstimateMatchesWhatLoadingAllocates) {
  for (ModelDType dt : {ModelDType::F32, ModelDType::F16, ModelDType::Int8, ModelDType::Int4}) {
    LoadOptions opt;
    opt.dtype = dt;
    opt.max_ctx = 1024;
    opt.max_prefill_t = 64;
    auto m = Model::load(fixture("qwen3-tiny"), opt);
    ASSERT_TRUE(m.ok()) << m.message();
    const MemoryEstimate e = estimate_memory((*m)->config(), dt, opt.max_ctx, opt.max_prefill_t);
    const double used = double((*m)->backend().bytes_used());
    const double resident = e.weights + e.kv_cache + e.scratch;
    EXPECT_NEAR(resident / used, 1.0, 0.05) << model_dtype_name(dt) << ": estimate " << resident << ", used " << used;
    std::printf("%s: estimate %.0f bytes, backend holds %.0f\n", model_dtype_name(dt), resident, used);
  }
}

TEST(Robustness, NonFiniteWeightsNameTheTensorAndElement) {
  const std::string dir = test::temp_dir("robust_nan");
  const float f32[4] = {1.0f, 2.0f, NAN, 4.0f};
  std::vector<uint8_t> f32b(16), bf16b(8), f16b(8), f64b(32);
  std::memcpy(f32b.data(), f32, 16);
  const uint16_t bf[4] = {f32_to_bf16(1.0f), f32_to_bf16(2.0f), f32_to_bf16(3.0f), 0x7f80};  // +inf
  std::memcpy(bf16b.data(), bf, 8);
  const uint16_t h[4] = {0x3c00, 0x7e00, 0x3c00, 0x3c00};  // 1, NaN, 1, 1
  std::memcpy(f16b.data(), h, 8);
  const double d[4] = {1.0, 2.0, 3.0, 1e300};  // finite in f64, not in f32
  std::memcpy(f64b.data(), d, 32);
  const std::string path = dir + "/t.safetensors";
  ASSERT_TRUE(write_safetensors(path, {{"a.f32", DType::F32, {4}, f32b}, {"b.bf16", DType::BF16, {2, 2}, bf16b},
                                       {"c.f16", DType::F16, {4}, f16b}, {"d.f64", DType::F64, {4}, f64b},
                                       {"e.empty", DType::BF16, {0, 7}, {}}}).ok());
  for (bool ranges : {false, true}) {
    auto mf = MappedFile::open(path, ranges);
    ASSERT_TRUE(mf.ok());
    auto f = SafetensorsFile::parse(*mf);
    ASSERT_TRUE(f.ok()) << f.message();
    float out[4];
    Status a = convert_to_f32(*f->find("a.f32"), 0, 4, out);
    EXPECT_NE(a.message().find("tensor a.f32: element 2 is NaN"), std::string::npos) << a.message();
    Status b = convert_to_f32(*f->find("b.bf16"), 1, 3, out);
    EXPECT_NE(b.message().find("tensor b.bf16: element 3 is infinite"), std::string::npos) << b.message();
    Status c = convert_to_f32(*f->find("c.f16"), 0, 4, out);
    EXPECT_NE(c.message().find("tensor c.f16: element 1 is NaN"), std::string::npos) << c.message();
    Status dd = convert_to_f32(*f->find("d.f64"), 0, 4, out);
    EXPECT_NE(dd.message().find("tensor d.f64: element 3"), std::string::npos) << dd.message();
    EXPECT_TRUE(convert_to_f32(*f->find("e.empty"), 0, 0, out).ok());  // zero elements
    EXPECT_TRUE(convert_to_f32(*f->find("b.bf16"), 0, 3, out).ok());   // the finite part
  }
}

// A copy of a fixture GGUF file with `edit(bytes, file)` applied to its bytes.
std::string gguf_with(const std::string& name, const std::string& fixture_path,
                      const std::function<void(std::vector<uint8_t>&, const GgufFile&)>& edit) {
  auto g = GgufFile::open(fixture_path);
  EXPECT_TRUE(g.ok()) << g.message();
  const std::string text = read_file(fixture_path);
  std::vector<uint8_t> bytes(text.begin(), text.end());
  edit(bytes, *g);
  const std::string path = test::temp_dir("robust_gguf") + "/" + name + ".gguf";
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  return path;
}

TEST(Robustness, NonFiniteGgufWeightsNameTheTensor) {
  // An F32 norm with an Inf, and a Q8_0 / Q4_0 block whose f16 scale is NaN (its 32 values all
  // come out NaN): each fails the load naming the GGUF tensor, its Hugging Face name and where.
  const std::string q8 = fixture("gguf/pycoder-6m-q8_0.gguf"), q4 = fixture("gguf/pycoder-6m-q4_0.gguf");
  const auto set_f32 = [](const char* tensor, size_t i, float v) {
    return [=](std::vector<uint8_t>& b, const GgufFile& g) { std::memcpy(&b[g.tensor(tensor)->offset + 4 * i], &v, 4); };
  };
  // Row r, block j of a [rows, 256] matrix of 34-byte (Q8_0) or 18-byte (Q4_0) blocks.
  const auto nan_scale = [](const char* tensor, size_t r, size_t j, size_t block_bytes) {
    return [=](std::vector<uint8_t>& b, const GgufFile& g) {
      const uint16_t nan16 = 0x7e00;
      std::memcpy(&b[g.tensor(tensor)->offset + (r * 8 + j) * block_bytes], &nan16, 2);
    };
  };
  struct Case {
    std::string path, needle;
  };
  const Case cases[] = {
      {gguf_with("inf_norm", q8, set_f32("blk.3.ffn_norm.weight", 7, INFINITY)),
       "tensor blk.3.ffn_norm.weight (model.layers.3.post_attention_layernorm.weight): element 7 is infinite"},
      {gguf_with("nan_q8", q8, nan_scale("blk.2.ffn_up.weight", 5, 3, 34)),
       "tensor blk.2.ffn_up.weight (model.layers.2.mlp.up_proj.weight): row 5, block 3 has a non-finite scale"},
      {gguf_with("nan_q4", q4, nan_scale("blk.1.attn_output.weight", 200, 7, 18)),
       "tensor blk.1.attn_output.weight (model.layers.1.self_attn.o_proj.weight): row 200, block 7 has a non-finite scale"},
  };
  for (const Case& c : cases) {
    auto m = Model::load(c.path, LoadOptions{});
    ASSERT_FALSE(m.ok()) << c.needle;
    EXPECT_NE(m.message().find(c.path + ": " + c.needle), std::string::npos) << m.message();
  }
  // The same files unedited load (the scan finds nothing in real weights).
  for (const std::string& path : {q8, q4}) EXPECT_TRUE(Model::load(path, LoadOptions{}).ok()) << path;
}

TEST(Robustness, GgufMemoryEstimateCountsTheBlocksKept) {
  // A GGUF file's Q8_0 / Q4_0 matrices stay in their blocks whatever dtype says: the estimate
  // counts them as loaded (an f32 estimate would refuse models that fit, at 4x their size).
  for (const char* name : {"gguf/pycoder-6m-q8_0.gguf", "gguf/pycoder-6m-q4_0.gguf"}) {
    LoadOptions opt;
    opt.max_ctx = 256;
    opt.max_prefill_t = 32;
    auto m = Model::load(fixture(name), opt);
    ASSERT_TRUE(m.ok()) << m.message();
    auto ckpt = open_checkpoint(fixture(name));
    ASSERT_TRUE(ckpt.ok()) << ckpt.message();
    const MemoryEstimate e = estimate_memory(ckpt->config, opt.dtype, opt.max_ctx, opt.max_prefill_t, ckpt->tensors.get());
    const double used = double((*m)->backend().bytes_used());
    EXPECT_NEAR((e.weights + e.kv_cache + e.scratch) / used, 1.0, 0.05) << name << ": estimate " << e.describe() << ", used " << used;
    const MemoryEstimate as_f32 = estimate_memory(ckpt->config, opt.dtype, opt.max_ctx, opt.max_prefill_t);
    EXPECT_GT(as_f32.weights, 3 * e.weights) << name;
  }
}

TEST(Robustness, IndexNamingTheWrongShardFails) {
  auto src = SafetensorsFile::open(fixture("qwen2-tiny/model.safetensors"));
  ASSERT_TRUE(src.ok());
  std::vector<TensorToWrite> a, b;
  std::string index = "{\"weight_map\": {";
  for (size_t i = 0; i < src->tensors().size(); ++i) {
    const auto& t = src->tensors()[i];
    (i % 2 ? a : b).push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
    // Every entry names the other shard.
    index += std::string(i ? "," : "") + "\"" + t.name + "\": \"" + (i % 2 ? "s2" : "s1") + ".safetensors\"";
  }
  index += "}}";
  const std::string dir = test::temp_dir("robust_shard");
  std::remove((dir + "/s2.safetensors").c_str());
  ASSERT_TRUE(write_safetensors(dir + "/s1.safetensors", a).ok());
  ASSERT_TRUE(write_safetensors(dir + "/s2.safetensors", b).ok());
  std::ofstream(dir + "/model.safetensors.index.json") << index;
  auto store = TensorStore::open_dir(dir);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.message().find("but that file does not hold it (" + dir + "/s"), std::string::npos) << store.message();
}

TEST(Robustness, ExtraLayersInTheCheckpointWarn) {
  Warnings w;
  const std::string dir = folder_with_config("layers", tiny_config_with("num_hidden_layers", "2"));
  auto m = Model::load(dir, LoadOptions{});
  ASSERT_TRUE(m.ok()) << m.message();  // Hugging Face loads it too, with a warning
  EXPECT_TRUE(w.any("holds layers up to 3")) << (w.seen.empty() ? "" : w.seen[0]);
  EXPECT_TRUE(w.any("layers 2..3 are not used"));
}

TEST(Robustness, TokenizerWithoutMergesFailsAndDuplicateIdsWarn) {
  EXPECT_ERROR(Tokenizer::load_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1}}})", "tok.json"),
               "merges: missing");
  Warnings w;
  auto t = Tokenizer::load_json(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 0, "ab": 1}, "merges": ["a b"]}})",
                                "tok.json");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_TRUE(w.any("'a' and 'b' both have id 0")) << (w.seen.empty() ? "" : w.seen[0]);
}

TEST(Robustness, TokenTextsThatAreNotUtf8DecodeWithoutReadingPastThem) {
  // Found by fuzz_tokenizer_load: a vocabulary entry with a cut-off UTF-8 sequence reached the
  // Strip decoder, which read past the end of the text. A Strip of an ASCII character now works
  // on bytes, so such bytes pass through as they are (and nothing past them is read).
  auto t = Tokenizer::load_json("{\"model\": {\"type\": \"BPE\", \"vocab\": {\"\xE2\x96\": 0, \"x\": 1}, \"merges\": []},"
                                " \"decoder\": {\"type\": \"Strip\", \"content\": \" \", \"start\": 1, \"stop\": 0}}",
                                "tok.json");
  ASSERT_TRUE(t.ok()) << t.message();
  const int32_t ids[] = {0, 1};
  EXPECT_EQ(t->decode(ids), "\xE2\x96x");
}

TEST(Robustness, ZeroByteReadsTouchNothing) {
  // Found by fuzz_safetensors: a zero-byte read into an empty buffer passed a null pointer to
  // memcpy (undefined even for 0 bytes).
  auto f = MappedFile::from_bytes({1, 2, 3}, "x");
  EXPECT_TRUE(f->read(3, 0, nullptr).ok());
  EXPECT_FALSE(f->read(3, 1, nullptr).ok());
}

// A PEFT adapter folder for qwen2-tiny: lora-qv's tensors with `edit` applied, and `config`.
std::string adapter(const std::string& name, const std::string& config,
                    const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  auto src = SafetensorsFile::open(fixture("qwen2-tiny/lora-qv/adapter_model.safetensors"));
  EXPECT_TRUE(src.ok());
  std::vector<TensorToWrite> ts;
  for (const auto& t : src->tensors()) ts.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
  edit(ts);
  const std::string dir = test::temp_dir("robust_lora_" + name);
  EXPECT_TRUE(write_safetensors(dir + "/adapter_model.safetensors", ts).ok());
  std::ofstream(dir + "/adapter_config.json") << config;
  return dir;
}

TEST(Robustness, LoraAdaptersWithHostileKeysPatternsAndValues) {
  auto cfg = read_model_config(fixture("qwen2-tiny"));
  ASSERT_TRUE(cfg.ok());
  const std::string qv = R"({"r": 4, "lora_alpha": 8})";
  auto none = [](std::vector<TensorToWrite>&) {};
  // A 20-digit layer index (once parsed with stoll before any length check).
  EXPECT_ERROR(load_lora_adapter(adapter("digits", qv, [](auto& ts) {
                 ts[0].name = "base_model.model.model.layers.12345678901234567890.self_attn.q_proj.lora_A.weight";
               }), *cfg),
               "layer 12345678901234567890 does not exist");
  // A target_modules pattern that takes exponential time in a backtracking matcher.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_ERROR(load_lora_adapter(adapter("regex", R"({"r": 4, "lora_alpha": 8, "target_modules": "(.*.*)*x$"})", none), *cfg),
               "is not in target_modules");
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  EXPECT_ERROR(load_lora_adapter(adapter("badre", R"({"r": 4, "target_modules": "(q_proj"})", none), *cfg),
               "target_modules: regular expression \"(q_proj\"");
  EXPECT_TRUE(load_lora_adapter(adapter("alllin", R"({"r": 4, "lora_alpha": 8, "target_modules": "all-linear"})", none), *cfg).ok());
  // NaN in an adapter matrix.
  EXPECT_ERROR(load_lora_adapter(adapter("nan", qv, [](auto& ts) {
                 ts[1].bytes[6] = 0xc0;
                 ts[1].bytes[7] = 0x7f;
               }), *cfg),
               "element 3 is NaN");
  EXPECT_ERROR(load_lora_adapter(adapter("alpha_nan", R"({"r": 4, "lora_alpha": NaN})", none), *cfg),
               "\"lora_alpha\" must be a finite number");
  // lora_alpha 0: PEFT accepts it (the adapter does nothing); a warning says so.
  Warnings w;
  EXPECT_TRUE(load_lora_adapter(adapter("alpha0", R"({"r": 4, "lora_alpha": 0})", none), *cfg).ok());
  EXPECT_TRUE(w.any("lora_alpha is 0"));
}

TEST(Robustness, PerplexityOverNoWindowsIsAnError) {
  auto m = Model::load(fixture("qwen2-tiny"), LoadOptions{});
  ASSERT_TRUE(m.ok());
  EXPECT_ERROR(evaluate_perplexity(**m, {}, 0, 16), "no windows");
}

TEST(Robustness, OutOfVocabularyEosIdsWarnAndDoNotWrap) {
  Warnings w;
  const std::string dir = folder_with_config("eos", tiny_config_with("eos_token_id", "[2, 4294967298]"));
  auto e = Engine::load(dir, LoadOptions{});
  ASSERT_TRUE(e.ok()) << e.message();
  EXPECT_EQ((*e)->default_stop_ids(), std::vector<int32_t>({2}));  // 2^32 + 2 does not become 2 again
  EXPECT_TRUE(w.any("eos_token_id 4294967298 is outside the vocabulary"));
}

}  // namespace
}  // namespace hearth
