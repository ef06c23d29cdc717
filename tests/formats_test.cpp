// safetensors, config.json and JSON readers on good and bad input: every malformed file gives
// an error that names the file and the tensor or key, never a crash. Includes a mutation fuzz
// of safetensors headers and JSON text.
#include <cstring>
#include <fstream>

#include "formats/config.h"
#include "formats/json.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

std::vector<uint8_t> f32_bytes(std::vector<float> v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

std::shared_ptr<MappedFile> mem(const std::vector<uint8_t>& bytes) { return MappedFile::from_bytes(bytes, "mem.safetensors"); }

std::vector<uint8_t> with_header(const std::string& header, size_t data_bytes) {
  std::vector<uint8_t> out(8 + header.size() + data_bytes, 0);
  uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out[size_t(i)] = uint8_t(n >> (8 * i));
  std::memcpy(out.data() + 8, header.data(), header.size());
  return out;
}

void expect_error(const std::vector<uint8_t>& bytes, const std::string& needle) {
  auto r = SafetensorsFile::parse(mem(bytes));
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << needle;
  EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
  EXPECT_NE(r.message().find("mem.safetensors"), std::string::npos) << r.message();
}

TEST(Safetensors, RoundTripsAllFloatTypes) {
  std::vector<TensorToWrite> ts;
  ts.push_back({"a", DType::F32, {2, 2}, f32_bytes({1, -2, 3.5f, 0})});
  std::vector<uint8_t> h(6), b(6);
  const float vals[3] = {1.5f, -0.25f, 65504.0f};
  for (int i = 0; i < 3; ++i) {
    uint16_t x = f32_to_f16(vals[i]), y = f32_to_bf16(vals[i]);
    std::memcpy(&h[size_t(2 * i)], &x, 2);
    std::memcpy(&b[size_t(2 * i)], &y, 2);
  }
  ts.push_back({"h", DType::F16, {3}, h});
  ts.push_back({"b", DType::BF16, {3}, b});
  auto r = SafetensorsFile::parse(mem(serialize_safetensors(ts)));
  ASSERT_TRUE(r.ok()) << r.message();
  float out[4];
  ASSERT_TRUE(convert_to_f32(*r->find("a"), 0, 4, out).ok());
  EXPECT_EQ(out[1], -2.0f);
  ASSERT_TRUE(convert_to_f32(*r->find("h"), 0, 3, out).ok());
  EXPECT_EQ(out[0], 1.5f); EXPECT_EQ(out[1], -0.25f); EXPECT_EQ(out[2], 65504.0f);
  ASSERT_TRUE(convert_to_f32(*r->find("b"), 0, 3, out).ok());
  EXPECT_EQ(out[0], 1.5f); EXPECT_EQ(out[1], -0.25f);
}

TEST(Safetensors, RangedReadsEqualResidentOnes) {
  // What a multi-GB checkpoint gets in wasm: the header and each tensor read in ranges.
  const std::string path = fixture("qwen2-tiny/model.safetensors");
  auto ranged_file = MappedFile::open(path, true);
  ASSERT_TRUE(ranged_file.ok()) << ranged_file.message();
  EXPECT_EQ((*ranged_file)->data(), nullptr);
  auto ranged = SafetensorsFile::parse(*ranged_file);
  auto resident = SafetensorsFile::open(path);
  ASSERT_TRUE(ranged.ok()) << ranged.message();
  ASSERT_TRUE(resident.ok());
  ASSERT_EQ(ranged->tensors().size(), resident->tensors().size());
  for (const auto& t : resident->tensors()) {
    const TensorInfo* r = ranged->find(t.name);
    ASSERT_NE(r, nullptr);
    std::vector<float> a(size_t(t.numel())), b(size_t(t.numel()));
    ASSERT_TRUE(convert_to_f32(t, 0, a.size(), a.data()).ok());
    ASSERT_TRUE(convert_to_f32(*r, 0, b.size(), b.data()).ok());
    ASSERT_EQ(a, b) << t.name;
  }
  float x;
  EXPECT_FALSE(ranged->tensors()[0].read_bytes(ranged->tensors()[0].nbytes, 4, &x).ok());
}

TEST(Safetensors, HalfConversionsAreExact) {
  // Every f16 bit pattern that is finite round-trips through f32.
  for (uint32_t h = 0; h < 0x10000; ++h) {
    if ((h & 0x7c00) == 0x7c00) continue;
    float f = f16_to_f32(uint16_t(h));
    ASSERT_EQ(f32_to_f16(f), uint16_t(h)) << h;
  }
  EXPECT_EQ(f16_to_f32(0x0001), std::ldexp(1.0f, -24));
  EXPECT_EQ(f32_to_f16(1e6f), 0x7c00);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + 1.0f / 256)), 1.0f);  // tie rounds to even
}

TEST(Safetensors, RejectsTruncatedAndLyingFiles) {
  expect_error({1, 2, 3}, "shorter than the 8-byte header length");
  expect_error(with_header("{}", 0).size() ? std::vector<uint8_t>{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0} : std::vector<uint8_t>{}, "exceeds the 100 MB limit");
  auto long_len = with_header("{}", 0);
  long_len[0] = 200;
  expect_error(long_len, "runs past the end of the file");
  expect_error(with_header("{\"a\":", 0), "invalid JSON");
  expect_error(with_header("[1,2]", 0), "not a JSON object");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4), "truncated");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8), "needs 12 bytes");
  expect_error(with_header(R"({"a":{"dtype":"Q9","shape":[2],"data_offsets":[0,8]}})", 8), "unknown dtype");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8), "negative");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8), "end before they begin");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8), "contiguous");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 4), "contiguous");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8), "after the last tensor");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[1]}})", 4), "data_offsets");
  expect_error(with_header(R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}})", 4), "too large");
}

TEST(Safetensors, FuzzedHeadersNeverCrash) {
  std::vector<TensorToWrite> ts;
  ts.push_back({"model.w", DType::F32, {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})});
  ts.push_back({"model.b", DType::BF16, {2}, std::vector<uint8_t>(4, 0x3f)});
  const std::vector<uint8_t> good = serialize_safetensors(ts);
  ASSERT_TRUE(SafetensorsFile::parse(mem(good)).ok());
  uint64_t s = 12345;
  auto rnd = [&s] { s = s * 6364136223846793005ull + 1442695040888963407ull; return uint32_t(s >> 33); };
  int rejected = 0;
  for (int it = 0; it < 20000; ++it) {
    std::vector<uint8_t> b = good;
    int edits = 1 + int(rnd() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rnd() % b.size();
      switch (rnd() % 4) {
        case 0: b[pos] = uint8_t(rnd()); break;
        case 1: b.erase(b.begin() + long(pos)); break;
        case 2: b.insert(b.begin() + long(pos), uint8_t("{}[]\",:0123456789e-"[rnd() % 19])); break;
        case 3: b.resize(pos); break;
      }
      if (b.empty()) break;
    }
    auto file = mem(b);
    auto r = SafetensorsFile::parse(file);
    if (!r.ok()) {
      ++rejected;
      EXPECT_FALSE(r.message().empty());
      continue;
    }
    // Whatever parses must be internally consistent.
    for (const auto& t : r->tensors()) {
      ASSERT_EQ(uint64_t(t.nbytes), uint64_t(t.numel()) * dtype_size(t.dtype));
      ASSERT_GE(t.data, file->data());
      ASSERT_LE(t.data + t.nbytes, file->data() + file->size());
    }
  }
  EXPECT_GT(rejected, 10000);
}

TEST(Json, ParsesAndReportsPositions) {
  auto j = parse_json(R"({"a": [1, 2.5, -3e2, true, null, "x\u00e9\ud83d\ude00"], "b": {}})", "t.json");
  ASSERT_TRUE(j.ok()) << j.message();
  const Json& a = *j->find("a");
  EXPECT_TRUE(a[0].is_integer());
  EXPECT_FALSE(a[1].is_integer());
  EXPECT_EQ(a[2].as_double(), -300.0);
  EXPECT_EQ(a[5].as_string(), "x\xc3\xa9\xf0\x9f\x98\x80");
  auto pairs = parse_json(R"(["\ud800\ud83d\ude00", "\udc00x"])", "t.json");
  ASSERT_TRUE(pairs.ok());
  EXPECT_EQ((*pairs)[0].as_string(), "\xef\xbf\xbd\xf0\x9f\x98\x80");  // U+FFFD then the emoji
  EXPECT_EQ((*pairs)[1].as_string(), "\xef\xbf\xbdx");
  auto bad = parse_json("{\n  \"a\": tru\n}", "t.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("t.json: invalid JSON at line 2"), std::string::npos) << bad.message();
  std::string deep(100000, '[');
  EXPECT_FALSE(parse_json(deep, "deep.json").ok());
}

TEST(Json, FuzzedTextNeverCrashes) {
  const std::string good = R"({"model_type":"qwen2","n":[1,2,{"x":"\u0041\n"}],"f":-1.5e-3,"t":true})";
  uint64_t s = 99;
  auto rnd = [&s] { s = s * 6364136223846793005ull + 1442695040888963407ull; return uint32_t(s >> 33); };
  for (int it = 0; it < 20000; ++it) {
    std::string t = good;
    for (int e = 0; e < 3; ++e) {
      size_t pos = rnd() % (t.size() + 1);
      if (rnd() % 2) t.insert(pos, 1, "{}[]\",:\\u0e-+ .tfn"[rnd() % 19]);
      else if (pos < t.size()) t.erase(pos, 1);
    }
    auto r = parse_json(t, "fuzz.json");
    if (!r.ok()) {
      EXPECT_NE(r.message().find("fuzz.json"), std::string::npos);
    }
  }
}

Json cfg_json(const std::string& text) {
  auto j = parse_json(text, "config.json");
  EXPECT_TRUE(j.ok()) << j.message();
  return *j;
}

const char* kBase = R"("vocab_size": 100, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2,
  "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 1024)";

Result<ModelConfig> cfg(const std::string& extra, const std::string& type = "llama") {
  return parse_model_config(cfg_json("{\"model_type\": \"" + type + "\", " + kBase + extra + "}"), "config.json");
}

TEST(Config, ReadsFixturesAndDefaults) {
  auto q2 = read_model_config(fixture("qwen2-tiny"));
  ASSERT_TRUE(q2.ok()) << q2.message();
  EXPECT_TRUE(q2->qkv_bias);
  EXPECT_FALSE(q2->o_bias);
  EXPECT_EQ(q2->head_dim, 64);
  auto q3 = read_model_config(fixture("qwen3-tiny"));
  ASSERT_TRUE(q3.ok()) << q3.message();
  EXPECT_TRUE(q3->qk_norm);
  EXPECT_EQ(q3->q_dim(), 512);
  auto l = cfg("");
  ASSERT_TRUE(l.ok()) << l.message();
  EXPECT_EQ(l->head_dim, 16);
  EXPECT_FALSE(l->qkv_bias);
}

TEST(Config, RopeScalingTypes) {
  auto l3 = cfg(R"(, "rope_theta": 500000, "rope_scaling": {"rope_type": "llama3", "factor": 8.0,
      "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192})");
  ASSERT_TRUE(l3.ok()) << l3.message();
  EXPECT_EQ(l3->rope.type, RopeType::Llama3);
  EXPECT_EQ(l3->rope.theta, 500000);
  auto lin = cfg(R"(, "rope_scaling": {"type": "linear", "factor": 2.0})");
  ASSERT_TRUE(lin.ok()) << lin.message();
  EXPECT_EQ(lin->rope.type, RopeType::Linear);
  auto yarn = cfg(R"(, "rope_parameters": {"rope_type": "yarn", "rope_theta": 1000000.0, "factor": 4.0,
      "original_max_position_embeddings": 256})");
  ASSERT_TRUE(yarn.ok()) << yarn.message();
  EXPECT_EQ(yarn->rope.type, RopeType::Yarn);
  EXPECT_EQ(yarn->rope.theta, 1e6);
  auto def = cfg(R"(, "rope_parameters": {"rope_type": "default", "rope_theta": 5000.0})");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->rope.theta, 5000.0);
}

TEST(Config, SlidingWindowIsHonoured) {
  auto c = cfg(R"(, "use_sliding_window": true, "sliding_window": 16, "max_window_layers": 1)", "qwen2");
  ASSERT_TRUE(c.ok()) << c.message();
  EXPECT_EQ(c->sliding_window, (std::vector<int64_t>{0, 16}));
  auto t = cfg(R"(, "sliding_window": 8, "layer_types": ["sliding_attention", "full_attention"])", "qwen3");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(t->sliding_window, (std::vector<int64_t>{8, 0}));
  auto off = cfg(R"(, "use_sliding_window": false, "sliding_window": 16)", "qwen2");
  EXPECT_EQ(off->sliding_window, (std::vector<int64_t>{0, 0}));
  auto bad = cfg(R"(, "layer_types": ["chunked_attention", "full_attention"])", "qwen3");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("chunked_attention"), std::string::npos);
}

TEST(Config, BadValuesNameTheKey) {
  struct { std::string extra, type, needle; } cases[] = {
      {"", "gpt2", "model_type \"gpt2\" is not supported"},
      {R"(, "rope_scaling": {"type": "dynamic", "factor": 2.0})", "llama", "rope_type \"dynamic\" is not supported"},
      {R"(, "rms_norm_eps": "small")", "llama", "\"rms_norm_eps\" must be a finite number"},
      {R"(, "rope_theta": [1])", "llama", "\"rope_theta\""},
      {R"(, "num_key_value_heads": 3)", "llama", "multiple of num_key_value_heads"},
      {R"(, "head_dim": 2.5)", "llama", "\"head_dim\" must be an integer"},
      {R"(, "rope_scaling": {"rope_type": "llama3", "factor": 8.0})", "llama", "rope_scaling.low_freq_factor"},
      {R"(, "tie_word_embeddings": "yes")", "llama", "\"tie_word_embeddings\" must be true or false"},
      {R"(, "hidden_act": "gelu")", "llama", "hidden_act"},
  };
  for (const auto& c : cases) {
    auto r = cfg(c.extra, c.type);
    ASSERT_FALSE(r.ok()) << c.extra;
    EXPECT_NE(r.message().find(c.needle), std::string::npos) << r.message();
    EXPECT_NE(r.message().find("config.json"), std::string::npos) << r.message();
  }
  auto missing = parse_model_config(cfg_json(R"({"model_type": "llama", "hidden_size": 64})"), "config.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("\"vocab_size\" is missing"), std::string::npos) << missing.message();
}

TEST(Config, GenerationConfigEosNumberOrList) {
  auto a = parse_generation_config(cfg_json(R"({"eos_token_id": 7})"), "g.json");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->eos_token_ids, (std::vector<int64_t>{7}));
  auto b = parse_generation_config(cfg_json(R"({"eos_token_id": [1, 2], "temperature": 0.6, "do_sample": true})"), "g.json");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->eos_token_ids, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(*b->temperature, 0.6);
  auto c = parse_generation_config(cfg_json(R"({"eos_token_id": "x"})"), "g.json");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.message().find("eos_token_id"), std::string::npos);
}

// A checkpoint folder with one tensor altered, to check the loader's messages.
std::string broken_checkpoint(const std::string& name, const std::function<void(std::vector<TensorToWrite>&)>& edit) {
  auto src = SafetensorsFile::open(fixture("qwen2-tiny/model.safetensors"));
  EXPECT_TRUE(src.ok());
  std::vector<TensorToWrite> ts;
  for (const auto& t : src->tensors()) ts.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
  edit(ts);
  std::string dir = test::temp_dir(name);
  EXPECT_TRUE(write_safetensors(dir + "/model.safetensors", ts).ok());
  std::ifstream in(fixture("qwen2-tiny/config.json"), std::ios::binary);
  std::ofstream(dir + "/config.json", std::ios::binary) << in.rdbuf();
  return dir;
}

TEST(ModelLoad, MissingTensorAndWrongShapeAreNamed) {
  std::string d1 = broken_checkpoint("missing", [](std::vector<TensorToWrite>& ts) {
    for (size_t i = 0; i < ts.size(); ++i) {
      if (ts[i].name == "model.layers.2.mlp.up_proj.weight") { ts.erase(ts.begin() + long(i)); break; }
    }
  });
  auto m1 = Model::load(d1, LoadOptions{});
  ASSERT_FALSE(m1.ok());
  EXPECT_NE(m1.message().find("model.layers.2.mlp.up_proj.weight: missing"), std::string::npos) << m1.message();

  std::string d2 = broken_checkpoint("shape", [](std::vector<TensorToWrite>& ts) {
    for (auto& t : ts) {
      if (t.name == "model.layers.1.self_attn.k_proj.weight") std::swap(t.shape[0], t.shape[1]);
    }
  });
  auto m2 = Model::load(d2, LoadOptions{});
  ASSERT_FALSE(m2.ok());
  EXPECT_NE(m2.message().find("model.layers.1.self_attn.k_proj.weight: expected shape [128, 256], file has [256, 128]"), std::string::npos) << m2.message();

  std::string d3 = broken_checkpoint("dtype", [](std::vector<TensorToWrite>& ts) {
    for (auto& t : ts) {
      if (t.name == "model.norm.weight") t.dtype = DType::I16;
    }
  });
  auto m3 = Model::load(d3, LoadOptions{});
  ASSERT_FALSE(m3.ok());
  EXPECT_NE(m3.message().find("model.norm.weight: dtype I16 is not a floating-point type"), std::string::npos) << m3.message();
}

TEST(ModelLoad, ShardedCheckpointLoadsLikeSingleFile) {
  auto src = SafetensorsFile::open(fixture("qwen2-tiny/model.safetensors"));
  ASSERT_TRUE(src.ok());
  std::vector<TensorToWrite> a, b;
  std::string index = "{\"metadata\": {}, \"weight_map\": {";
  for (size_t i = 0; i < src->tensors().size(); ++i) {
    const auto& t = src->tensors()[i];
    auto& dst = (i % 2) ? a : b;
    dst.push_back({t.name, t.dtype, t.shape, std::vector<uint8_t>(t.data, t.data + t.nbytes)});
    index += std::string(i ? "," : "") + "\"" + t.name + "\": \"" + ((i % 2) ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors") + "\"";
  }
  index += "}}";
  std::string dir = test::temp_dir("sharded");
  ASSERT_TRUE(write_safetensors(dir + "/model-00001-of-00002.safetensors", a).ok());
  ASSERT_TRUE(write_safetensors(dir + "/model-00002-of-00002.safetensors", b).ok());
  std::ofstream(dir + "/model.safetensors.index.json") << index;
  std::ifstream in(fixture("qwen2-tiny/config.json"), std::ios::binary);
  std::ofstream(dir + "/config.json", std::ios::binary) << in.rdbuf();
  auto m1 = Model::load(dir, LoadOptions{});
  ASSERT_TRUE(m1.ok()) << m1.message();
  auto m2 = Model::load(fixture("qwen2-tiny"), LoadOptions{});
  ASSERT_TRUE(m2.ok());
  std::vector<int32_t> prompt = {5, 17, 300, 2};
  std::vector<float> l1, l2;
  ASSERT_TRUE((*m1)->forward(prompt, &l1).ok());
  ASSERT_TRUE((*m2)->forward(prompt, &l2).ok());
  EXPECT_EQ(l1, l2);
}

}  // namespace
}  // namespace hearth
