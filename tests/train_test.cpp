// Training against PyTorch on the CPU backend (fixtures/train, fp32 reference runs; the checks
// are tests/train_fixture.h's, which WebGPU runs too): pretraining gpt-qwen2, LoRA fine-tuning
// of the frozen qwen2-tiny base with the trained adapter hot-swapped, and QLoRA on its int4
// form. Also: gradient accumulation equals the whole batch, and runs are bit-identical for any
// thread count.
#include "train_fixture.h"

namespace hearth {
namespace {

using namespace train_fixture;

MakeBackend cpu(int threads = 0) {
  return [threads] { return make_cpu_backend(threads); };
}

TEST(TrainFixture, PretrainGptQwen2MatchesPyTorch) { check_pretrain(cpu()); }

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

TEST(TrainFixture, LoraQwen2TinyMatchesPyTorchAndHotSwaps) { check_lora(cpu()); }

TEST(TrainFixture, QLoraOnAnInt4BaseTrains) { check_qlora_int4(cpu()); }

}  // namespace
}  // namespace hearth
