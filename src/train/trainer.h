// The training loop's step: gradient accumulation over micro-batches, the global norm,
// clipping and AdamW, with the record a log line is made of. Works for pretraining and LoRA
// fine-tuning alike (what is trained is the ParamSet the step's network points into).
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "train/optimizer.h"
#include "train/params.h"
#include "train/step.h"

namespace hearth::train {

struct StepRecord {
  int64_t step = 0;
  double loss = 0;       // mean cross-entropy over the step's targets
  double grad_norm = 0;  // global norm before clipping
  double lr = 0;
  int64_t tokens = 0;    // targets trained on in this step
  double seconds = 0;
  double tokens_per_s() const { return seconds > 0 ? double(tokens) / seconds : 0; }
  // {"step":..,"loss":..,"grad_norm":..,"lr":..,"tokens_per_s":..,"ms":..}
  std::string json() const;
};

class Trainer {
 public:
  Trainer(Backend& be, ParamSet& params, TrainStep& step, OptimConfig config);

  // One optimizer step over micro-batches, each [n_seq, seq + 1] tokens (n_seq <= the step's
  // max_seqs). The loss is the mean over all of their targets. before_update, when given, runs
  // after the gradients are complete and before clipping and the update (e.g. to save them).
  Result<StepRecord> step(const std::vector<std::vector<int32_t>>& micro_batches,
                          const std::function<Status()>& before_update = nullptr);
  int64_t steps_done() const { return steps_done_; }
  AdamW& optimizer() { return adamw_; }

 private:
  Backend& be_;
  TrainStep& step_;
  AdamW adamw_;
  int64_t steps_done_ = 0;
};

}  // namespace hearth::train
