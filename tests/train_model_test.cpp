// The whole training step on small random models of each supported family (Qwen2: q/k/v bias,
// tied head, a sliding-window layer; Qwen3: q_norm/k_norm, explicit head_dim; Llama: untied
// head, GQA): the gradient of every tensor against central differences of the loss along it;
// LoRA gradients through a frozen base; the seeded init; the token data sources; saving.
#include <fstream>

#include "engine/engine.h"
#include "model/lora.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"
#include "train/data.h"
#include "train/lora_train.h"
#include "train/rng.h"
#include "train/step.h"
#include "train/trainable_model.h"
#include "train/trainer.h"

namespace hearth {
namespace {

using namespace train;

ModelConfig config(const std::string& json) {
  auto j = parse_json(json, "test config");
  EXPECT_TRUE(j.ok()) << j.message();
  auto c = parse_model_config(*j, "test config");
  EXPECT_TRUE(c.ok()) << c.message();
  return *c;
}

const char* kQwen2 = R"({"model_type": "qwen2", "vocab_size": 40, "hidden_size": 24, "intermediate_size": 40,
  "num_hidden_layers": 2, "num_attention_heads": 6, "num_key_value_heads": 2, "max_position_embeddings": 64,
  "rms_norm_eps": 1e-6, "rope_theta": 10000.0, "tie_word_embeddings": true, "use_sliding_window": true,
  "sliding_window": 3, "max_window_layers": 1})";
const char* kQwen3 = R"({"model_type": "qwen3", "vocab_size": 40, "hidden_size": 24, "intermediate_size": 36,
  "num_hidden_layers": 2, "num_attention_heads": 3, "num_key_value_heads": 1, "head_dim": 6,
  "max_position_embeddings": 64, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0, "tie_word_embeddings": false})";
const char* kLlama = R"({"model_type": "llama", "vocab_size": 40, "hidden_size": 24, "intermediate_size": 36,
  "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "max_position_embeddings": 64,
  "rms_norm_eps": 1e-5, "rope_theta": 500000.0, "tie_word_embeddings": false, "rope_scaling": {"rope_type": "llama3",
  "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 16}})";

std::vector<int32_t> random_tokens(int64_t rows, int64_t seq, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> v(static_cast<size_t>(rows * (seq + 1)));
  for (int32_t& x : v) x = int32_t(rng.below(uint64_t(vocab)));
  return v;
}

// Gives every tensor of the set random values around its init (norms and biases included), so no
// gradient is trivially structured.
void jitter(Backend& be, ParamSet& ps, uint64_t seed) {
  Rng rng(seed);
  for (Param& p : ps.params()) {
    std::vector<float> v = ParamSet::read(be, p.value, p.numel);
    for (float& x : v) x += float((p.decay ? 0.05 : 0.3) * rng.normal());
    be.write(p.value, v);
  }
}

// For each trained tensor: the directional derivative of the mean loss along its gradient,
// by central differences in f32 (h = 1e-2 along the unit direction), equals the gradient's norm.
void check_gradients(Backend& be, ParamSet& ps, TrainStep& step, const std::vector<int32_t>& tokens, int64_t rows) {
  const double count = double(rows * step.seq());
  for (Param& p : ps.params()) be.fill(p.grad, p.numel, 0.0f);
  auto base = step.forward_backward(tokens, rows, float(1.0 / count));
  ASSERT_TRUE(base.ok()) << base.message();
  auto loss_at = [&](const Param& p, const std::vector<float>& v0, const std::vector<float>& dir, double h) {
    std::vector<float> v(v0);
    for (size_t i = 0; i < v.size(); ++i) v[i] += float(h * dir[i]);
    be.write(p.value, v);
    auto l = step.loss(tokens, rows);
    EXPECT_TRUE(l.ok()) << l.message();
    return (l.ok() ? *l : 0.0) / count;
  };
  for (Param& p : ps.params()) {
    const std::vector<float> g = ParamSet::read(be, p.grad, p.numel), v0 = ParamSet::read(be, p.value, p.numel);
    double norm = 0;
    for (float x : g) norm += double(x) * x;
    norm = std::sqrt(norm);
    if (norm == 0) {
      ADD_FAILURE() << p.name << ": zero gradient";
      continue;
    }
    std::vector<float> dir(g.size());
    for (size_t i = 0; i < g.size(); ++i) dir[i] = float(g[i] / norm);
    const double h = 1e-2;
    const double fd = (loss_at(p, v0, dir, h) - loss_at(p, v0, dir, -h)) / (2 * h);
    be.write(p.value, v0);
    EXPECT_NEAR(fd, norm, 2e-2 * norm + 2e-5) << p.name;
  }
}

void check_family(const char* json) {
  const ModelConfig cfg = config(json);
  auto be = make_cpu_backend(2);
  auto model = TrainableModel::init(*be, cfg, 7);
  ASSERT_TRUE(model.ok()) << model.message();
  jitter(*be, model->params(), 8);
  const int64_t rows = 2, seq = 7;
  TrainStep step(*be, cfg, model->network(), rows, seq);
  check_gradients(*be, model->params(), step, random_tokens(rows, seq, cfg.vocab_size, 9), rows);
}

TEST(TrainModel, Qwen2GradientsMatchFiniteDifferences) { check_family(kQwen2); }
TEST(TrainModel, Qwen3GradientsMatchFiniteDifferences) { check_family(kQwen3); }
TEST(TrainModel, LlamaGradientsMatchFiniteDifferences) { check_family(kLlama); }

TEST(TrainModel, LoraGradientsThroughEveryFrozenFormat) {
  // A Qwen3-shaped checkpoint written to disk, loaded frozen as f32, int8 and int4, with pairs
  // on all seven projections (B made nonzero so that A has a gradient).
  const std::string dir = test::temp_dir("train_lora_fd");
  const ModelConfig cfg = config(kQwen3);
  {
    auto be = make_cpu_backend(1);
    auto m = TrainableModel::init(*be, cfg, 3);
    ASSERT_TRUE(m.ok());
    jitter(*be, m->params(), 4);
    std::vector<const Param*> ps;
    for (const Param& p : m->params().params()) ps.push_back(&p);
    ASSERT_TRUE(write_tensors(*be, dir + "/model.safetensors", ps, DType::F32).ok());
    std::ofstream(dir + "/config.json") << kQwen3;
  }
  for (ModelDType dt : {ModelDType::F32, ModelDType::Int8, ModelDType::Int4}) {
    SCOPED_TRACE(model_dtype_name(dt));
    LoadOptions opt;
    opt.dtype = dt;
    opt.max_ctx = 16;
    auto model = Model::load(dir, opt);
    ASSERT_TRUE(model.ok()) << model.message();
    LoraSpec spec;
    spec.rank = 3;
    spec.alpha = 5;
    for (int p = 0; p < kNumProj; ++p) spec.targets.push_back(Proj(p));
    auto lora = LoraTraining::create((*model)->backend(), cfg, spec, 5);
    ASSERT_TRUE(lora.ok()) << lora.message();
    jitter((*model)->backend(), lora->params(), 6);
    TrainStep step((*model)->backend(), cfg, lora->network(**model), 2, 5, dt == ModelDType::Int8);  // int8: recompute
    check_gradients((*model)->backend(), lora->params(), step, random_tokens(2, 5, cfg.vocab_size, 10), 2);
  }
}

TEST(TrainModel, InitIsSeededNormalWithUnitNormsAndZeroBiases) {
  const ModelConfig cfg = config(kQwen2);
  auto be = make_cpu_backend(1);
  auto a = TrainableModel::init(*be, cfg, 11), b = TrainableModel::init(*be, cfg, 11), c = TrainableModel::init(*be, cfg, 12);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  double sum = 0, sq = 0, n = 0;
  for (size_t i = 0; i < a->params().params().size(); ++i) {
    const Param& p = a->params().params()[i];
    const auto va = ParamSet::read(*be, p.value, p.numel), vb = ParamSet::read(*be, b->params().params()[i].value, p.numel);
    const auto vc = ParamSet::read(*be, c->params().params()[i].value, p.numel);
    EXPECT_EQ(va, vb) << p.name;
    if (p.shape.size() == 2) {
      EXPECT_NE(va, vc) << p.name;
      for (float x : va) sum += x, sq += double(x) * x, n += 1;
    } else {
      const float want = p.name.find(".bias") != std::string::npos ? 0.0f : 1.0f;
      for (float x : va) EXPECT_EQ(x, want) << p.name;
    }
  }
  EXPECT_NEAR(sum / n, 0.0, 1e-3);
  EXPECT_NEAR(std::sqrt(sq / n), 0.02, 5e-4);
}

TEST(TrainModel, LoraInitIsPeftsKaimingUniform) {
  const ModelConfig cfg = config(kQwen3);
  auto be = make_cpu_backend(1);
  LoraSpec spec;
  spec.rank = 4;
  spec.alpha = 8;
  spec.targets = {Proj::Q, Proj::Down};
  auto lora = LoraTraining::create(*be, cfg, spec, 1);
  ASSERT_TRUE(lora.ok()) << lora.message();
  ASSERT_EQ(lora->params().params().size(), 2u * 2u * 2u);
  for (const Param& p : lora->params().params()) {
    const auto v = ParamSet::read(*be, p.value, p.numel);
    if (p.name.find("lora_B") != std::string::npos) {
      for (float x : v) EXPECT_EQ(x, 0.0f) << p.name;
      continue;
    }
    const double bound = 1.0 / std::sqrt(double(p.shape[1]));  // kaiming_uniform_(a=sqrt(5)): 1/sqrt(fan_in)
    float lo = 1, hi = -1;
    for (float x : v) lo = std::min(lo, x), hi = std::max(hi, x);
    EXPECT_GE(lo, -bound);
    EXPECT_LE(hi, bound);
    EXPECT_LT(lo, -0.8 * bound);
    EXPECT_GT(hi, 0.8 * bound);
  }
  EXPECT_EQ(lora->params().params()[0].name, "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(lora->params().params()[3].name, "base_model.model.model.layers.0.mlp.down_proj.lora_B.weight");
}

TEST(TrainModel, LoraTargets) {
  auto t = parse_lora_targets("v_proj,q_proj,v_proj");
  ASSERT_TRUE(t.ok()) << t.message();
  EXPECT_EQ(*t, (std::vector<Proj>{Proj::Q, Proj::V}));
  auto all = parse_lora_targets("all-linear");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), size_t(kNumProj));
  auto bad = parse_lora_targets("q_proj,,k_proj");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("\"\" is not one of"), std::string::npos) << bad.message();
}

TEST(TrainData, TokenFileRowsInOrderThenAgain) {
  const std::string path = test::temp_dir("train_data") + "/tokens.safetensors";
  std::vector<int32_t> ids(3 * 2 * 5);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = int32_t(i % 17);
  std::vector<uint8_t> bytes(ids.size() * 4);
  std::memcpy(bytes.data(), ids.data(), bytes.size());
  ASSERT_TRUE(write_safetensors(path, {TensorToWrite{"tokens", DType::I32, {3, 2, 5}, bytes}}).ok());
  auto d = TokenData::open(path, 4, 17, Tokenizer(), std::nullopt, 0);
  ASSERT_TRUE(d.ok()) << d.message();
  EXPECT_EQ(d->rows(), 6);
  EXPECT_EQ(d->next(2), std::vector<int32_t>(ids.begin(), ids.begin() + 10));
  d->next(4);
  EXPECT_EQ(d->next(1), std::vector<int32_t>(ids.begin(), ids.begin() + 5));  // starts over
  auto wrong_seq = TokenData::open(path, 5, 17, Tokenizer(), std::nullopt, 0);
  ASSERT_FALSE(wrong_seq.ok());
  EXPECT_NE(wrong_seq.message().find("rows of 5 tokens"), std::string::npos) << wrong_seq.message();
  auto small_vocab = TokenData::open(path, 4, 10, Tokenizer(), std::nullopt, 0);
  ASSERT_FALSE(small_vocab.ok());
  EXPECT_NE(small_vocab.message().find("outside the vocabulary"), std::string::npos) << small_vocab.message();
}

TEST(TrainData, TextWindowsAreShuffledSlicesOfTheTokenStream) {
  auto tok = Tokenizer::load_file(test::source("models/pycoder-6m/tokenizer.json"));
  ASSERT_TRUE(tok.ok()) << tok.message();
  const std::string dir = test::temp_dir("train_text");
  std::ofstream(dir + "/a.txt") << "def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n";
  std::ofstream(dir + "/b.py") << "import os\nfor name in os.listdir('.'):\n    print(name.upper())\n";
  const std::vector<int32_t> a = tok->encode("def add(a, b):\n    return a + b\n\nprint(add(1, 2))\n");
  const std::vector<int32_t> b = tok->encode("import os\nfor name in os.listdir('.'):\n    print(name.upper())\n");
  std::vector<int32_t> stream(a);
  stream.push_back(0);  // the separator passed below
  stream.insert(stream.end(), b.begin(), b.end());
  const int64_t seq = 4;
  auto d1 = TokenData::open(dir, seq, tok->vocab_size(), *tok, 0, 5), d2 = TokenData::open(dir, seq, tok->vocab_size(), *tok, 0, 5);
  ASSERT_TRUE(d1.ok() && d2.ok()) << d1.message();
  const int64_t windows = (int64_t(stream.size()) - 1) / seq;
  EXPECT_EQ(d1->rows(), windows);
  std::vector<int> seen(size_t(windows), 0);
  for (int64_t r = 0; r < windows; ++r) {
    const std::vector<int32_t> row = d1->next(1);
    EXPECT_EQ(row, d2->next(1));  // the same seed, the same order
    bool found = false;
    for (int64_t w = 0; w < windows && !found; ++w) {
      if (std::equal(row.begin(), row.end(), stream.begin() + w * seq)) found = true, ++seen[size_t(w)];
    }
    EXPECT_TRUE(found) << "row " << r << " is no window of the stream";
  }
  EXPECT_EQ(std::count(seen.begin(), seen.end(), 1), windows);  // each window once per pass
  auto none = TokenData::open(dir, seq, tok->vocab_size(), Tokenizer(), 0, 5);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.message().find("no tokenizer.json"), std::string::npos) << none.message();
}

TEST(TrainModel, SavedFolderLoadsWithTheSameLogits) {
  const ModelConfig cfg = config(kQwen3);
  auto be = make_cpu_backend(2);
  const std::string src = test::temp_dir("train_save_src"), out = test::temp_dir("train_save_out");
  std::ofstream(src + "/config.json") << kQwen3;
  auto model = TrainableModel::init(*be, src, 21);
  ASSERT_TRUE(model.ok()) << model.message();
  jitter(*be, model->params(), 22);
  TrainStep step(*be, cfg, model->network(), 1, 9);
  const std::vector<int32_t> ids = {3, 17, 0, 39, 22, 5, 8, 8, 1};
  std::vector<float> want;
  ASSERT_TRUE(step.logits(ids, &want).ok());
  for (DType dt : {DType::F32, DType::BF16}) {
    ASSERT_TRUE(model->save(*be, out, dt).ok());
    auto m = Model::load(out, LoadOptions{});
    ASSERT_TRUE(m.ok()) << m.message();
    std::vector<float> got;
    ASSERT_TRUE((*m)->forward(ids, nullptr, &got).ok());
    float largest = 0;
    for (float x : want) largest = std::max(largest, std::fabs(x));
    EXPECT_LT(test::max_abs_diff(got.data(), want.data(), want.size()), (dt == DType::F32 ? 1e-5f : 2e-2f) * largest)
        << dtype_name(dt);
  }
  EXPECT_FALSE(model->save(*be, src, DType::F32).ok());  // never over its own checkpoint
}

}  // namespace
}  // namespace hearth
