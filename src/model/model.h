// The Llama-family decoder (Qwen2/2.5, Qwen3, Llama 2/3) over a Backend: weights loaded and
// quantized from a checkpoint folder, a KV cache of max_ctx positions, batched prefill and
// incremental decode.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "formats/config.h"
#include "formats/safetensors.h"
#include "model/lora.h"
#include "model/tensor_source.h"
#include "ops/backend.h"

namespace hearth {

// How the checkpoint's matrices are stored for compute.
enum class ModelDType { F32, F16, Int8, Int4 };
const char* model_dtype_name(ModelDType d);
Result<ModelDType> parse_model_dtype(const std::string& s);

// Where a load stands: `phase` is "read" (tensors parsed and converted), "quantize", "upload" or
// "ready"; `done` of `total` units (tensors) of that phase.
struct LoadProgress {
  const char* phase = "";
  int64_t done = 0, total = 0;
};

struct LoadOptions {
  ModelDType dtype = ModelDType::F32;  // GGUF: for its F32 / F16 / BF16 tensors (gguf_checkpoint.h)
  int64_t max_ctx = 0;        // 0 = min(max_position_embeddings, 4096)
  int64_t max_prefill_t = 512;  // largest batch of prompt tokens in one pass
  int threads = 0;            // CPU threads; 0 = all cores
  bool quant_search = true;   // int4: search clipped ranges per group (slower load, better quality)
  std::function<void(const LoadProgress&)> progress;  // called as tensors load (may be empty)
};

class Model {
 public:
  // Loads config.json + safetensors from the folder `dir`, or a .gguf file, onto `backend`.
  static Result<std::unique_ptr<Model>> load(const std::string& dir, const LoadOptions& opt,
                                             std::unique_ptr<Backend> backend);
  static Result<std::unique_ptr<Model>> load(const std::string& dir, const LoadOptions& opt);

  const ModelConfig& config() const { return cfg_; }
  const LoadOptions& options() const { return opt_; }
  Backend& backend() { return *be_; }
  int64_t max_ctx() const { return max_ctx_; }
  int64_t n_past() const { return n_past_; }
  double load_seconds() const { return load_seconds_; }

  // Runs tokens at positions n_past()..n_past()+T-1, appending them to the KV cache (split into
  // passes of at most max_prefill_t). Writes the logits of the last token to `last_logits`
  // ([vocab]) and, when `all_logits` is given, the logits of every token ([T, vocab]).
  Status forward(std::span<const int32_t> tokens, std::vector<float>* last_logits,
                 std::vector<float>* all_logits = nullptr);
  // LoRA: adapters stay resident under a name; at most one is active. Adding never touches
  // the base weights; a failed add leaves the model as it was.
  Status add_adapter(const std::string& name, LoraAdapter adapter);
  Status remove_adapter(const std::string& name);
  // Activates `name` ("" = none) with its scale multiplied by `scale`.
  Status set_adapter(const std::string& name, float scale = 1.0f);
  const std::string& active_adapter() const;
  std::vector<std::string> adapter_names() const;

  // The loaded weights as backend handles, for training an adapter on the frozen base
  // (src/train reads them and never writes). Defined in model_weights.cpp.
  struct FrozenLayer {
    Buf attn_norm, mlp_norm, q_norm, k_norm;  // q_norm, k_norm: id 0 without qk_norm
    WeightId weight[kNumProj];
    Buf bias[kNumProj];  // id 0 when absent
  };
  struct FrozenWeights {
    WeightId embed, lm_head;  // one id with tied embeddings
    Buf final_norm;
    std::vector<FrozenLayer> layers;
  };
  FrozenWeights frozen_weights() const;

  // Decode on the backend, for backends with supports_device_greedy(): start_device_batch
  // records k steps — feed a token at position n_past(), pick the next one on the backend (the
  // argmax, or with `sampling` on backends with supports_device_sampling() the device sampler,
  // step i with uniforms[i] and penalties from set_device_history, which the backend extends
  // with each pick) and feed it back — submits them and starts reading the k ids back; it
  // advances n_past() by k (the last id is not fed). token >= 0 is fed first, -1 continues from
  // the last id of the previous batch, still on the device. finish_device_batch waits for that
  // batch's ids and appends them to `out`. Batches finish in start order; at most two are under
  // way, so the next one can be recorded while the GPU runs the current one.
  Result<uint32_t> start_device_batch(int32_t token, int64_t k, const SamplingParams* sampling = nullptr,
                                      std::span<const float> uniforms = {});
  Status finish_device_batch(uint32_t ticket, int64_t k, std::vector<int32_t>* out);
  // The token history the device sampler's penalties see: prompt tokens and generated ones.
  void set_device_history(std::span<const int32_t> prompt, std::span<const int32_t> generated);
  static constexpr int64_t kMaxDeviceSteps = 64;
  // Device batches that may be under way at once (started, not yet finished): each takes the
  // next of this many slots for its ids and uniforms. Three rather than two keep the GPU fed
  // through the host's slower batches (36-layer 3B int4 on an H200: 0-9 % more tokens/s).
  static constexpr int64_t kDeviceSlots = 3;

  // Forgets positions >= n (n <= n_past()): the next forward continues from position n.
  Status truncate(int64_t n);
  void reset() { n_past_ = 0; }

 private:
  Model() = default;
  Status load_weights(const TensorSource& store);
  void upload_lora_b(size_t adapter, float mult);
  // The decoder layers for T new tokens (x_ holds their embeddings) as a plan of fused steps
  // (ops/plan.h), and with `logits` the final norm and LM head of the last of them (into
  // logits_); compiled by the backend once per (T, logits, active adapter) and kept.
  Plan build_plan(int64_t T, bool logits) const;
  CompiledPlan& plan(int64_t T, bool logits);
  // A product of layer `layer`'s projection p reading [T, in], with the active adapter's term.
  Product product(size_t layer, Proj p, WeightId w, const Buf& bias, Buf out, int slot) const;
  WeightFormat lora_format() const;
  Status forward_chunk(std::span<const int32_t> tokens, int64_t pos0, std::vector<float>* last,
                       std::vector<float>* all);

  struct Layer {
    Buf ln1, ln2, q_norm, k_norm;
    WeightId q, k, v, o, gate, up, down;
    Buf bq, bk, bv, bo, bgate, bup, bdown;  // id 0 when absent
    Buf k_cache, v_cache;                   // [max_ctx, kv_dim]
  };
  ModelConfig cfg_;
  LoadOptions opt_;
  std::unique_ptr<Backend> be_;
  std::vector<Layer> layers_;
  WeightId embed_, lm_head_;
  Buf final_norm_;
  RopeTable rope_;
  int64_t max_ctx_ = 0, n_past_ = 0;
  double load_seconds_ = 0;
  struct LoraSlot {
    WeightId A, B;  // B is stored pre-multiplied by the pair's scale x the request's multiplier
    int64_t rank = 0, out = 0;
  };
  struct Resident {
    std::string name;
    LoraAdapter host;  // kept to rebuild B when the multiplier changes
    std::vector<std::array<std::optional<LoraSlot>, kNumProj>> slots;
    float mult = 1.0f;
  };
  std::vector<Resident> adapters_;
  int active_ = -1;
  struct CachedPlan {
    int64_t T;
    bool logits;
    int adapter;
    std::unique_ptr<CompiledPlan> plan;
  };
  std::vector<CachedPlan> plans_;  // most recently used last; cleared when adapters change
  Buf lora_t_[3];  // [P, max rank] per projection of one x (q, k, v): where A x goes
  int64_t lora_t_cap_ = 0;
  // Scratch activations for up to max_prefill_t tokens.
  Buf x_, h_, q_, k_, v_, attn_, gate_, up_, logits_;
  // kDeviceSlots slots of [kMaxDeviceSteps + 1] token ids as floats (device batches take them in
  // turn, so as many can be under way at once).
  Buf device_ids_;
  int64_t device_slot_ = 0;
  Buf last_device_id_;  // where the last id of the latest batch is
  Buf device_u_;        // kDeviceSlots slots of [kMaxDeviceSteps] uniforms for device sampling
  Buf device_pen_;      // [vocab] prompt flags, [vocab] generated counts (device sampling)
  static constexpr int64_t kLogitRows = 32;
};

}  // namespace hearth
