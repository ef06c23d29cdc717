// Fused work, asked for by name. A model states each part of a decoder layer as one of these
// steps — "the products of one input, with the norm that makes that input, their biases,
// adapters and what follows them", "attention with its norms, RoPE and the KV-cache stores" —
// and hands a backend a Plan of them. A backend compiles a plan once (Backend::compile) and
// replays it at each position (Backend::run); how it runs a step (one kernel, or parts) is its
// own choice. The default, used by the CPU backend, runs the parts with the primitive ops of
// backend.h in the order their semantics below state, so it is also the reference for what a
// fused kernel must compute.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <variant>
#include <vector>

#include "ops/backend_types.h"

namespace hearth {

// A low-rank adapter on one product: out += B (A x). B is stored pre-multiplied by the adapter's
// scale. A: [rank, in], B: [out, rank]; t: [T, rank], where A x goes.
struct LoraTerm {
  WeightId A, B;
  int64_t rank = 0;
  Buf t;
};

// out[T, rows(w)] = w · x (+ bias) (+ B (A x)).
struct Product {
  WeightId w;
  int64_t rows = 0;  // output width (rows of w)
  Buf bias;  // id 0: none
  Buf out;
  std::optional<LoraTerm> lora;
};

// What follows the products of a stage.
enum class Epilogue {
  None,
  SwiGLU,    // epilogue_out[T, rows] = silu(out of product 0) * out of product 1
  Residual,  // epilogue_out[T, rows] += out of product 0 (the residual stream)
};

// The products of one input, x: [T, in], with up to three weights of the same input width.
// With a norm, the products read rmsnorm(x) * norm_w (each row over `in`), which is also
// written to norm_out ([T, in]).
// Semantics, per product p: t_p = A_p x'; out_p = B_p t_p; out_p = out_p + (W_p x' + bias_p)
// (the base product rounded, then added to the adapter's term; without an adapter out_p is the
// base product), where x' is x or its norm; then the epilogue.
struct ProductStage {
  static constexpr size_t kMaxProducts = 3;
  Buf x;
  int64_t T = 0, in = 0;  // x: [T, in]
  bool has_norm = false;
  Buf norm_w, norm_out;
  float eps = 0.0f;
  std::vector<Product> products;  // 1..kMaxProducts
  Epilogue epilogue = Epilogue::None;
  Buf epilogue_out;
};

// Causal (optionally windowed) GQA attention of T new tokens at positions pos0..pos0+T-1:
// q: [T, H, D] and k, v: [T, KV, D] fresh from the products. With q_norm / k_norm (id != 0) each
// head of q and k is rms-normed with those [D] weights first (in place); then RoPE rotates q and
// k (in place, positions pos0..), k and v are stored into the caches ([ctx, KV, D]) at rows
// pos0.., and out: [T, H, D] is the attention over cache rows 0..pos0+T-1.
struct AttentionStep {
  Buf q, k, v, out;
  Buf q_norm, k_norm;
  float eps = 0.0f;
  const RopeTable* rope = nullptr;  // owned by the model; outlives its plans
  Buf k_cache, v_cache;
  AttentionShape shape;
  int64_t T = 0;
};

using PlanStep = std::variant<ProductStage, AttentionStep>;

// Steps run in order; every one of them at the same positions pos0.. (Backend::run).
struct Plan {
  std::vector<PlanStep> steps;
};

// A plan as a backend prepared it.
class CompiledPlan {
 public:
  virtual ~CompiledPlan() = default;
};

}  // namespace hearth
