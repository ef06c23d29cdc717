// The tensors a run trains: each lives on the backend with its gradient and its two AdamW
// moments, under the name it is saved with (Hugging Face or PEFT layout).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/backend.h"

namespace hearth::train {

struct Param {
  std::string name;
  std::vector<int64_t> shape;
  int64_t numel = 0;
  Buf value, grad, m, v;  // each [numel]
  bool decay = false;     // weight decay applies: 2-D tensors (matrices, embeddings, LoRA A and B)
};

class ParamSet {
 public:
  // Allocates value (written from `init`, numel elements), gradient and moments (zero).
  Param& add(Backend& be, std::string name, std::vector<int64_t> shape, std::span<const float> init);
  std::vector<Param>& params() { return params_; }
  const std::vector<Param>& params() const { return params_; }
  const Param* find(const std::string& name) const;
  int64_t numel() const;
  // Reads a parameter's value or gradient back to the host.
  static std::vector<float> read(Backend& be, Buf b, int64_t n);

 private:
  std::vector<Param> params_;
};

}  // namespace hearth::train
