// ParamSet (see params.h).
#include "train/params.h"

namespace hearth::train {

Param& ParamSet::add(Backend& be, std::string name, std::vector<int64_t> shape, std::span<const float> init) {
  Param p;
  p.name = std::move(name);
  p.shape = std::move(shape);
  p.numel = int64_t(init.size());
  p.decay = p.shape.size() == 2;
  p.value = be.alloc(p.numel);
  be.write(p.value, init);
  p.grad = be.alloc(p.numel);
  p.m = be.alloc(p.numel);
  p.v = be.alloc(p.numel);
  params_.push_back(std::move(p));
  return params_.back();
}

const Param* ParamSet::find(const std::string& name) const {
  for (const Param& p : params_)
    if (p.name == name) return &p;
  return nullptr;
}

int64_t ParamSet::numel() const {
  int64_t n = 0;
  for (const Param& p : params_) n += p.numel;
  return n;
}

std::vector<float> ParamSet::read(Backend& be, Buf b, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  be.read(b, v);
  return v;
}

}  // namespace hearth::train
