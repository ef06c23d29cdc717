// AdamW, clipping and the schedule (see optimizer.h).
#include "train/optimizer.h"

#include <cmath>

namespace hearth::train {

Status OptimConfig::validate() const {
  if (!(lr > 0) || !std::isfinite(lr)) return err("--lr must be a positive number, got ", lr);
  if (min_lr < 0 || min_lr > lr) return err("--min-lr must be in [0, --lr], got ", min_lr);
  if (steps < 1) return err("--steps must be at least 1, got ", steps);
  if (warmup < 0) return err("--warmup must not be negative, got ", warmup);
  if (!(beta1 >= 0 && beta1 < 1)) return err("--beta1 must be in [0, 1), got ", beta1);
  if (!(beta2 >= 0 && beta2 < 1)) return err("--beta2 must be in [0, 1), got ", beta2);
  if (!(eps > 0)) return err("--eps must be positive, got ", eps);
  if (weight_decay < 0) return err("--weight-decay must not be negative, got ", weight_decay);
  if (grad_clip < 0) return err("--grad-clip must not be negative (0 turns clipping off), got ", grad_clip);
  return {};
}

double lr_at(const OptimConfig& c, int64_t step) {
  if (step < c.warmup) return c.lr * double(step + 1) / double(c.warmup);
  if (c.steps <= c.warmup) return c.lr;
  const double progress = double(step - c.warmup) / double(c.steps - c.warmup);
  return c.min_lr + (c.lr - c.min_lr) * (1.0 + std::cos(M_PI * progress)) / 2.0;
}

AdamWStep adamw_scalars(const OptimConfig& c, int64_t step, double lr, bool decay, float grad_scale) {
  const double t = double(step + 1);
  AdamWStep s;
  s.grad_scale = grad_scale;
  s.decay = float(1.0 - lr * (decay ? c.weight_decay : 0.0));
  s.beta1 = float(c.beta1);
  s.one_minus_beta1 = float(1.0 - c.beta1);
  s.beta2 = float(c.beta2);
  s.one_minus_beta2 = float(1.0 - c.beta2);
  s.step_size = float(lr / (1.0 - std::pow(c.beta1, t)));
  s.bias2_sqrt = float(std::sqrt(1.0 - std::pow(c.beta2, t)));
  s.eps = float(c.eps);
  return s;
}

AdamW::AdamW(Backend& be, ParamSet& params, OptimConfig config) : be_(be), params_(params), cfg_(config) {
  sums_ = be_.alloc(int64_t(params_.params().size()));
}

Result<double> AdamW::grad_norm() {
  const auto& ps = params_.params();
  for (size_t i = 0; i < ps.size(); ++i) be_.sum_squares(ps[i].grad, ps[i].numel, sums_.at(int64_t(i)));
  std::vector<float> sums(ps.size());
  be_.read(sums_, sums);
  HEARTH_CHECK(be_.status());
  double total = 0;
  for (float s : sums) total += double(s);
  return std::sqrt(total);
}

Status AdamW::step(int64_t step, double grad_norm) {
  if (!std::isfinite(grad_norm)) return err("step ", step, ": the gradient norm is ", grad_norm, " (the loss diverged; lower --lr)");
  float scale = 1.0f;
  if (cfg_.grad_clip > 0) {
    // As clip_grad_norm_: coef = max_norm / (norm + 1e-6) in f32, capped at 1.
    scale = std::min(1.0f, float(cfg_.grad_clip) / (float(grad_norm) + 1e-6f));
  }
  const double lr = lr_at(cfg_, step);
  for (Param& p : params_.params()) be_.adamw(p.value, p.grad, p.m, p.v, p.numel, adamw_scalars(cfg_, step, lr, p.decay, scale));
  return be_.status();
}

void AdamW::zero_grads() {
  for (Param& p : params_.params()) be_.fill(p.grad, p.numel, 0.0f);
}

}  // namespace hearth::train
