// AdamW over a ParamSet with PyTorch's semantics (torch.optim.AdamW: bias-corrected moments,
// decoupled weight decay on 2-D tensors only), global-norm gradient clipping as
// torch.nn.utils.clip_grad_norm_ does it, and the learning-rate schedule: linear warmup, then
// cosine to a floor.
#pragma once
#include <cstdint>

#include "core/error.h"
#include "ops/backend.h"
#include "train/params.h"

namespace hearth::train {

struct OptimConfig {
  double lr = 1e-3, min_lr = 0.0;
  int64_t warmup = 0, steps = 1;
  double beta1 = 0.9, beta2 = 0.95, eps = 1e-8, weight_decay = 0.1;
  double grad_clip = 1.0;  // max global norm; 0 = no clipping
  Status validate() const;
};

// The rate of step s (from 0): lr (s + 1) / warmup while s < warmup, then
// min_lr + (lr - min_lr) (1 + cos(pi (s - warmup) / (steps - warmup))) / 2.
double lr_at(const OptimConfig& c, int64_t step);

// The f32 scalars of one AdamW update (see AdamWStep) for step s (from 0) at rate lr.
AdamWStep adamw_scalars(const OptimConfig& c, int64_t step, double lr, bool decay, float grad_scale);

class AdamW {
 public:
  AdamW(Backend& be, ParamSet& params, OptimConfig config);
  const OptimConfig& config() const { return cfg_; }
  // sqrt of the sum over every trained tensor of its squared gradient (one read-back).
  Result<double> grad_norm();
  // Clips by the global norm (when grad_clip > 0) and updates every tensor; step from 0.
  Status step(int64_t step, double grad_norm);
  void zero_grads();

 private:
  Backend& be_;
  ParamSet& params_;
  OptimConfig cfg_;
  Buf sums_;  // [number of tensors]: squared gradient sums
};

}  // namespace hearth::train
