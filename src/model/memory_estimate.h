// What loading a model will allocate, computed from its config before anything is allocated,
// and the check of that against the memory the backend can still allocate: a config or an
// option that asks for more (a 4M-token KV cache, a billion layers) fails with a message
// saying how much it would need and how much there is, instead of dying in the allocator.
#pragma once
#include <cstdint>
#include <string>

#include "core/error.h"
#include "formats/config.h"
#include "model/model.h"
#include "model/tensor_source.h"
#include "ops/backend.h"

namespace hearth {

struct MemoryEstimate {
  double weights = 0;    // matrices in the chosen format, norms and biases
  double kv_cache = 0;   // keys and values: 2 x layers x max_ctx x kv_dim x 4 bytes
  double scratch = 0;    // activations for max_prefill_t tokens and the logit rows
  double load_peak = 0;  // host memory of the largest tensor group while it is converted
  double total() const { return weights + kv_cache + scratch + load_peak; }
  // "96.6 GB (weights 27.0 MB, KV cache 96.6 GB, scratch 2.1 MB, while loading 12.6 MB)"
  std::string describe() const;
};

// Bytes a model of config `c` takes in `dtype` with a KV cache of max_ctx positions and
// prefill passes of max_prefill_t tokens; with `source`, each matrix in the format the source
// loads it in (a GGUF file keeps Q8_0 / Q4_0 blocks whatever `dtype` says).
MemoryEstimate estimate_memory(const ModelConfig& c, ModelDType dtype, int64_t max_ctx, int64_t max_prefill_t,
                               const TensorSource* source = nullptr);

// Fails when `need` exceeds what `backend` can still allocate (a backend that cannot tell
// passes). `what` names the model folder in the message.
Status check_memory(const MemoryEstimate& need, const Backend& backend, const std::string& what);

// "1.5 GB", "12.3 MB", "512 B"
std::string format_bytes(double bytes);

}  // namespace hearth
