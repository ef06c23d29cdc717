// Trainer (see trainer.h).
#include "train/trainer.h"

#include <chrono>
#include <cstdio>

namespace hearth::train {

std::string StepRecord::json() const {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "{\"step\": %lld, \"loss\": %.9g, \"grad_norm\": %.9g, \"lr\": %.9g, \"tokens\": %lld, "
                "\"tokens_per_s\": %.1f, \"ms\": %.3f}",
                (long long)step, loss, grad_norm, lr, (long long)tokens, tokens_per_s(), seconds * 1e3);
  return buf;
}

Trainer::Trainer(Backend& be, ParamSet& params, TrainStep& step, OptimConfig config)
    : be_(be), step_(step), adamw_(be, params, config) {}

Result<StepRecord> Trainer::step(const std::vector<std::vector<int32_t>>& micro_batches,
                                 const std::function<Status()>& before_update) {
  const auto t0 = std::chrono::steady_clock::now();
  if (micro_batches.empty()) return err("a step needs at least one micro-batch");
  const int64_t row = step_.seq() + 1;
  // The loss is the mean over every target of the step: each micro-batch's gradient is scaled by
  // 1 / (all targets), so that accumulation sums to the gradient of the mean.
  int64_t targets = 0;
  for (const auto& mb : micro_batches) {
    if (mb.empty() || int64_t(mb.size()) % row != 0) return err("a micro-batch of ", mb.size(), " tokens is not whole rows of ", row);
    for (size_t i = 0; i < mb.size(); ++i)
      if (int64_t(i) % row != 0 && mb[i] >= 0) ++targets;
  }
  if (targets == 0) return err("step ", steps_done_, ": no targets to train on");
  adamw_.zero_grads();
  for (const auto& mb : micro_batches) {
    HEARTH_CHECK(step_.accumulate(mb, int64_t(mb.size()) / row, float(1.0 / double(targets))));
  }
  HEARTH_ASSIGN(const double loss_sum, step_.take_loss_sum());
  StepRecord r;
  r.step = steps_done_;
  r.loss = loss_sum / double(targets);
  r.tokens = targets;
  r.lr = lr_at(adamw_.config(), steps_done_);
  HEARTH_ASSIGN(r.grad_norm, adamw_.grad_norm());
  if (before_update) HEARTH_CHECK(before_update());
  HEARTH_CHECK(adamw_.step(steps_done_, r.grad_norm));
  // The update has run when its effects are read; a read of one value waits for it.
  float probe = 0;
  be_.read(step_.network().final_norm.value, std::span<float>(&probe, 1));
  HEARTH_CHECK(be_.status());
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ++steps_done_;
  return r;
}

}  // namespace hearth::train
