// Training against PyTorch (fixtures/train, fp32 reference runs): pretraining gpt-qwen2 (step-0
// gradients of every tensor, every step's loss, gradient norm and rate, the final weights, and
// the trained model's greedy ids after saving and loading it), and LoRA fine-tuning of the
// frozen qwen2-tiny base (every loss, the final adapter, greedy ids with the trained adapter
// hot-swapped into the same loaded model, and without it). Also: gradient accumulation equals
// the whole batch, and runs are bit-identical for any thread count.
#include "engine/engine.h"
#include "model/lora.h"
#include "test_util.h"
#include "train/data.h"
#include "train/lora_train.h"
#include "train/step.h"
#include "train/trainable_model.h"
#include "train/trainer.h"

namespace hearth {
namespace {

using test::fixture;
using namespace train;

struct Reference {
  OptimConfig optim;
  int64_t batch = 0, seq = 0;
  std::vector<double> loss, grad_norm, lr;
  Json json;
};

Reference read_reference(const std::string& dir) {
  auto j = read_json_file(fixture(dir + "/reference.json"));
  EXPECT_TRUE(j.ok()) << j.message();
  Reference r;
  r.json = *j;
  const Json& h = *j->find("hyper");
  r.optim.steps = h.find("steps")->as_int();
  r.optim.lr = h.find("lr")->as_double();
  r.optim.min_lr = h.find("min_lr")->as_double();
  r.optim.warmup = h.find("warmup_steps")->as_int();
  r.optim.beta1 = h.find("beta1")->as_double();
  r.optim.beta2 = h.find("beta2")->as_double();
  r.optim.eps = h.find("eps")->as_double();
  r.optim.weight_decay = h.find("weight_decay")->as_double();
  r.optim.grad_clip = h.find("grad_clip")->as_double();
  r.batch = h.find("batch")->as_int();
  r.seq = h.find("seq")->as_int();
  for (const Json& s : j->find("steps")->as_array()) {
    r.loss.push_back(s.find("loss")->as_double());
    r.grad_norm.push_back(s.find("grad_norm")->as_double());
    r.lr.push_back(s.find("lr")->as_double());
  }
  return r;
}

// Each tensor of `params` against the file's: every element within tol * (the tensor's largest
// magnitude), except at most max_outliers elements in all, which must be within outlier_tol.
void expect_tensors_match(Backend& be, const ParamSet& params, const std::string& file, double tol, bool grads,
                          int64_t max_outliers = 0, double outlier_tol = 0) {
  auto st = SafetensorsFile::open(file);
  ASSERT_TRUE(st.ok()) << st.message();
  ASSERT_EQ(st->tensors().size(), params.params().size()) << file;
  int64_t outliers = 0;
  for (const Param& p : params.params()) {
    const TensorInfo* t = st->find(p.name);
    ASSERT_NE(t, nullptr) << p.name << " missing from " << file;
    ASSERT_EQ(t->shape, p.shape) << p.name;
    std::vector<float> want(static_cast<size_t>(t->numel()));
    ASSERT_TRUE(convert_to_f32(*t, 0, want.size(), want.data()).ok());
    const std::vector<float> got = ParamSet::read(be, grads ? p.grad : p.value, p.numel);
    double den = 0;
    for (float w : want) den = std::max(den, std::fabs(double(w)));
    double worst = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      const double d = std::fabs(double(got[i]) - double(want[i]));
      worst = std::max(worst, d);
      if (d > tol * den) ++outliers;
    }
    EXPECT_LE(worst, std::max(tol, outlier_tol) * den) << file << ": " << p.name << " differs by " << worst << ", largest magnitude " << den;
  }
  EXPECT_LE(outliers, max_outliers) << file << ": elements beyond " << tol << " of their tensor's largest magnitude";
}

// The fixture's batches: step s takes the next `batch` rows.
TokenData batches(const std::string& dir, int64_t seq, int64_t vocab) {
  auto d = TokenData::open(fixture(dir + "/batches.safetensors"), seq, vocab, Tokenizer(), std::nullopt, 0);
  EXPECT_TRUE(d.ok()) << d.message();
  return std::move(*d);
}

std::vector<int32_t> greedy(Engine& e, const std::vector<int32_t>& prompt, int64_t n, const std::string& adapter = "") {
  GenerateRequest req;
  req.prompt = prompt;
  req.max_new_tokens = n;
  req.sampling.temperature = 0;
  req.stop_ids = {-1};
  req.adapter = adapter;
  auto r = e.generate(req);
  EXPECT_TRUE(r.ok()) << r.message();
  return r.ok() ? r->ids : std::vector<int32_t>{};
}

TEST(TrainFixture, PretrainGptQwen2MatchesPyTorch) {
  const Reference ref = read_reference("train/gpt-qwen2");
  auto be = make_cpu_backend(0);
  auto model = TrainableModel::load(*be, fixture("train/gpt-qwen2"));
  ASSERT_TRUE(model.ok()) << model.message();
  TrainStep step(*be, model->config(), model->network(), ref.batch, ref.seq);
  Trainer trainer(*be, model->params(), step, ref.optim);
  TokenData data = batches("train/gpt-qwen2", ref.seq, model->config().vocab_size);
  for (int64_t s = 0; s < ref.optim.steps; ++s) {
    auto check_grads = [&]() -> Status {
      expect_tensors_match(*be, model->params(), fixture("train/gpt-qwen2/grads_step0.safetensors"), 1e-4, true);
      return {};
    };
    auto r = trainer.step({data.next(ref.batch)}, s == 0 ? std::function<Status()>(check_grads) : nullptr);
    ASSERT_TRUE(r.ok()) << r.message();
    EXPECT_NEAR(r->loss, ref.loss[size_t(s)], 1e-3) << "step " << s;
    EXPECT_NEAR(r->grad_norm, ref.grad_norm[size_t(s)], 1e-3 * ref.grad_norm[size_t(s)]) << "step " << s;
    EXPECT_NEAR(r->lr, ref.lr[size_t(s)], 1e-12) << "step " << s;
  }
  expect_tensors_match(*be, model->params(), fixture("train/gpt-qwen2/final.safetensors"), 1e-3, false);

  // Saved as a Hugging Face folder, the trained model loads and gives PyTorch's greedy ids.
  const std::string out = test::temp_dir("train_gpt_qwen2");
  ASSERT_TRUE(model->save(*be, out, DType::F32).ok());
  auto engine = Engine::load(out, LoadOptions{});
  ASSERT_TRUE(engine.ok()) << engine.message();
  const Json& g = *ref.json.find("greedy_after");
  const std::vector<int32_t> want = test::ids_of(*g.find("ids"));
  EXPECT_EQ(greedy(**engine, test::ids_of(*g.find("prompt")), int64_t(want.size())), want);
}

struct GptRun {
  std::vector<double> losses;
  std::vector<float> grads0, weights;  // every tensor's step-0 gradient and final value, back to back
};

// Runs `steps` steps of gpt-qwen2 (the batch split into `accum` micro-batches) on `threads` threads.
GptRun run_gpt(int threads, int64_t steps, int64_t accum, bool recompute = false) {
  const Reference ref = read_reference("train/gpt-qwen2");
  auto be = make_cpu_backend(threads);
  auto model = TrainableModel::load(*be, fixture("train/gpt-qwen2"));
  EXPECT_TRUE(model.ok()) << model.message();
  TrainStep step(*be, model->config(), model->network(), ref.batch / accum, ref.seq, recompute);
  Trainer trainer(*be, model->params(), step, ref.optim);
  TokenData data = batches("train/gpt-qwen2", ref.seq, model->config().vocab_size);
  GptRun run;
  auto read_all = [&](bool grads) {
    std::vector<float> all;
    for (const Param& p : model->params().params()) {
      const auto v = ParamSet::read(*be, grads ? p.grad : p.value, p.numel);
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  };
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<std::vector<int32_t>> micro;
    for (int64_t k = 0; k < accum; ++k) micro.push_back(data.next(ref.batch / accum));
    auto r = trainer.step(micro, [&]() -> Status {
      if (s == 0) run.grads0 = read_all(true);
      return {};
    });
    EXPECT_TRUE(r.ok()) << r.message();
    run.losses.push_back(r.ok() ? r->loss : 0.0);
  }
  run.weights = read_all(false);
  return run;
}

TEST(TrainFixture, AccumulationEqualsTheWholeBatch) {
  // The same gradients and losses (up to summation order) from 4 micro-batches of 1 sequence
  // as from one batch of 4.
  const GptRun whole = run_gpt(2, 3, 1), parts = run_gpt(2, 3, 4);
  for (size_t s = 0; s < whole.losses.size(); ++s) EXPECT_NEAR(parts.losses[s], whole.losses[s], 1e-5) << s;
  ASSERT_EQ(parts.grads0.size(), whole.grads0.size());
  float largest = 0;
  for (float g : whole.grads0) largest = std::max(largest, std::fabs(g));
  EXPECT_LT(test::max_abs_diff(parts.grads0.data(), whole.grads0.data(), whole.grads0.size()), 1e-5f * largest);
}

TEST(TrainFixture, RunsAreBitIdenticalForAnyThreadCountAndWithRecompute) {
  const GptRun a = run_gpt(1, 2, 2), b = run_gpt(3, 2, 2), c = run_gpt(3, 2, 2), r = run_gpt(2, 2, 2, true);
  EXPECT_EQ(a.losses, b.losses);
  EXPECT_EQ(a.weights, b.weights);
  EXPECT_EQ(b.weights, c.weights);
  // Recomputing each layer's activations before its backward changes no bit.
  EXPECT_EQ(r.losses, a.losses);
  EXPECT_EQ(r.grads0, a.grads0);
  EXPECT_EQ(r.weights, a.weights);
}

std::unique_ptr<Engine> load_qwen2_tiny(ModelDType dtype) {
  LoadOptions opt;
  opt.dtype = dtype;
  opt.max_ctx = 128;
  auto e = Engine::load(fixture("qwen2-tiny"), opt);
  EXPECT_TRUE(e.ok()) << e.message();
  return e.ok() ? std::move(*e) : nullptr;
}

// Fine-tunes the fixture's initial adapter on the model's own backend; returns the losses.
std::vector<double> finetune(Model& model, LoraTraining& lora, const Reference& ref) {
  TrainStep step(model.backend(), model.config(), lora.network(model), ref.batch, ref.seq);
  Trainer trainer(model.backend(), lora.params(), step, ref.optim);
  TokenData data = batches("train/lora-qwen2-tiny", ref.seq, model.config().vocab_size);
  std::vector<double> losses;
  for (int64_t s = 0; s < ref.optim.steps; ++s) {
    auto r = trainer.step({data.next(ref.batch)});
    EXPECT_TRUE(r.ok()) << r.message();
    losses.push_back(r.ok() ? r->loss : 0.0);
  }
  return losses;
}

TEST(TrainFixture, LoraQwen2TinyMatchesPyTorchAndHotSwaps) {
  const Reference ref = read_reference("train/lora-qwen2-tiny");
  auto engine = load_qwen2_tiny(ModelDType::F32);
  ASSERT_TRUE(engine);
  Model& model = engine->model();
  const Json& base = *ref.json.find("greedy_base");
  const std::vector<int32_t> base_ids = test::ids_of(*base.find("ids"));
  EXPECT_EQ(greedy(*engine, test::ids_of(*base.find("prompt")), int64_t(base_ids.size())), base_ids);

  auto lora = LoraTraining::from_adapter(model.backend(), model.config(), fixture("train/lora-qwen2-tiny/init"));
  ASSERT_TRUE(lora.ok()) << lora.message();
  EXPECT_EQ(lora->spec().rank, 8);
  EXPECT_FLOAT_EQ(lora->spec().scale(), 2.0f);
  const std::vector<double> losses = finetune(model, *lora, ref);
  for (size_t s = 0; s < losses.size(); ++s) EXPECT_NEAR(losses[s], ref.loss[s], 1e-3) << "step " << s;
  // The final adapter: its 157k elements within 1e-3 of each tensor's largest magnitude, but for
  // a handful within 1e-2. Those are elements of lora_A whose gradient at step 1 (the first with
  // B != 0) is ~2e-5 of the tensor's largest, ~2e-8, at the rounding floor of its sum and as small
  // as AdamW's eps, so the size of their first update is set by rounding: any other summation
  // order moves them by up to a few 1e-3 (this implementation, summing in K blocks of 64 or 256,
  // puts the same 7 elements between 1e-3 and 5e-3), while every loss stays within 3e-6.
  expect_tensors_match(model.backend(), lora->params(), fixture("train/lora-qwen2-tiny/final/adapter_model.safetensors"),
                       1e-3, false, 16, 1e-2);

  // The trained adapter goes into the same loaded model and generates at once.
  ASSERT_TRUE(engine->add_adapter("trained", lora->to_adapter(model.backend())).ok());
  const Json& with = *ref.json.find("greedy_with_final");
  const std::vector<int32_t> want = test::ids_of(*with.find("ids"));
  EXPECT_EQ(greedy(*engine, test::ids_of(*with.find("prompt")), int64_t(want.size()), "trained"), want);
  EXPECT_EQ(greedy(*engine, test::ids_of(*base.find("prompt")), int64_t(base_ids.size())), base_ids);

  // Saved in PEFT layout, it loads back as the same adapter.
  const std::string out = test::temp_dir("train_lora_qwen2_tiny");
  ASSERT_TRUE(lora->save_peft(model.backend(), out, "qwen2-tiny").ok());
  ASSERT_TRUE(engine->load_adapter("saved", out).ok());
  EXPECT_EQ(greedy(*engine, test::ids_of(*with.find("prompt")), int64_t(want.size()), "saved"), want);
}

TEST(TrainFixture, QLoraOnAnInt4BaseTrains) {
  // The same run on the base quantized to int4 (frozen as loaded): the loss follows the f32
  // run's within the quantization error, and the trained adapter lowers the loss over all of
  // the run's batches.
  const Reference ref = read_reference("train/lora-qwen2-tiny");
  auto engine = load_qwen2_tiny(ModelDType::Int4);
  ASSERT_TRUE(engine);
  Model& model = engine->model();
  auto lora = LoraTraining::from_adapter(model.backend(), model.config(), fixture("train/lora-qwen2-tiny/init"));
  ASSERT_TRUE(lora.ok()) << lora.message();
  auto mean_loss = [&] {
    TrainStep step(model.backend(), model.config(), lora->network(model), ref.batch, ref.seq);
    TokenData data = batches("train/lora-qwen2-tiny", ref.seq, model.config().vocab_size);
    double sum = 0;
    for (int64_t s = 0; s < ref.optim.steps; ++s) {
      auto l = step.loss(data.next(ref.batch), ref.batch);
      EXPECT_TRUE(l.ok()) << l.message();
      sum += l.ok() ? *l : 0.0;
    }
    return sum / double(ref.optim.steps * ref.batch * ref.seq);
  };
  const double before = mean_loss();
  const std::vector<double> losses = finetune(model, *lora, ref);
  for (size_t s = 0; s < losses.size(); ++s) EXPECT_NEAR(losses[s], ref.loss[s], 0.05 * ref.loss[s]) << "step " << s;
  const double after = mean_loss();
  EXPECT_LT(after, before - 0.1);
  ASSERT_TRUE(model.add_adapter("trained", lora->to_adapter(model.backend())).ok());
  const Json& with = *ref.json.find("greedy_with_final");
  EXPECT_EQ(greedy(*engine, test::ids_of(*with.find("prompt")), 24, "trained").size(), 24u);
}

}  // namespace
}  // namespace hearth
