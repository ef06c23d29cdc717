// The op interface the model runs on. A backend owns its memory: activations, the KV cache and
// uploaded weights are referred to by handles, so the same forward pass drives the CPU (plain
// pointers) and the GPU (buffers and recorded dispatches). All activations are f32.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/qmatrix.h"

namespace hearth {

// A range of f32 elements in backend memory: buffer id + element offset.
struct Buf {
  uint32_t id = 0;
  int64_t offset = 0;
  Buf at(int64_t elements) const { return Buf{id, offset + elements}; }
};

// An uploaded weight matrix.
struct WeightId {
  uint32_t id = 0;
};

// Rotary tables: the model computes inverse frequencies (HF semantics, all scaling types).
struct RopeTable {
  int64_t rot_dim = 0;                // rotated dims per head (even); the rest pass through
  std::vector<float> inv_freq;        // [rot_dim / 2]
  float attention_scaling = 1.0f;     // multiplies cos and sin (yarn)
};

struct AttentionShape {
  int64_t n_heads = 0, n_kv_heads = 0, head_dim = 0;
  int64_t window = 0;  // 0 = full causal; else keys with q_pos - k_pos < window
  float scale = 1.0f;  // usually 1/sqrt(head_dim)
};

// Token sampling on the device (Backend::sample; scalar semantics in ref::sample_device).
struct DeviceSampling {
  float temperature = 0.0f;  // <= 0: the argmax of the penalized logits (lowest id on ties)
  int32_t top_k = 0;         // 0 = off
  float top_p = 1.0f;        // 1 = off
  float min_p = 0.0f;        // 0 = off
  float repetition_penalty = 1.0f, presence_penalty = 0.0f, frequency_penalty = 0.0f;
  bool penalties() const {
    return repetition_penalty != 1.0f || presence_penalty != 0.0f || frequency_penalty != 0.0f;
  }
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // The first error the backend met (a kernel that did not compile, a failed read-back, a lost
  // device, an op this backend does not have). Ops record work and do not return errors; callers
  // check status() after a step, a read or a load.
  virtual Status status() const { return status_; }

  // Memory.
  virtual Buf alloc(int64_t n) = 0;                                     // zero-filled
  virtual void write(Buf dst, std::span<const float> src) = 0;          // host -> backend
  virtual void read(Buf src, std::span<float> dst) = 0;                 // backend -> host (waits)
  virtual WeightId upload(QMatrix w) = 0;  // takes ownership
  // Matrices that products read together (q, k and v; gate and up; the LoRA A or B matrices of a
  // layer): a backend whose dispatches bind weight buffers places them in one, where they fit.
  virtual std::vector<WeightId> upload_group(std::vector<QMatrix> ws) {
    std::vector<WeightId> ids;
    for (auto& w : ws) ids.push_back(upload(std::move(w)));
    return ids;
  }
  // Frees an uploaded weight (LoRA matrices are replaced when their scale changes).
  virtual void release(WeightId w) = 0;
  virtual size_t bytes_used() const = 0;
  // Bytes this backend can still allocate (host memory for the CPU backend, the wasm heap's
  // room in wasm, the device's for a GPU); nullopt when unknown. Loading checks what a model
  // needs against it before allocating anything.
  virtual std::optional<uint64_t> memory_limit() const { return std::nullopt; }

  // out[t, :] = dequant(E)[ids[t], :]; E: [vocab, d], out: [T, d]
  virtual void embed(WeightId E, std::span<const int32_t> ids, Buf out) = 0;
  // out[t, :] = x[t, :] * rsqrt(mean(x[t, :]^2) + eps) * w; x, out: [rows, d]; w: [d]
  virtual void rmsnorm(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps) = 0;
  // out[t, o] = sum_i x[t, i] * W[o, i] (+ bias[o]); x: [T, in], W: [out, in], out: [T, out]
  virtual void matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) = 0;
  // out[t, o] = out[t, o] + (sum_i x[t, i] * W[o, i] (+ bias[o])): the product added to what out
  // holds (a LoRA delta written first), the sum rounded as matmul's and then added.
  virtual void matmul_add(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) = 0;
  // In place on x: [T, n_heads, head_dim], token t at position pos0 + t (rotate-half RoPE).
  virtual void rope(Buf x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) = 0;
  // dst[i] = src[i], n elements.
  virtual void copy(Buf src, Buf dst, int64_t n) = 0;
  // q: [T, n_heads, head_dim] at positions pos0..pos0+T-1; k_cache, v_cache: [ctx, n_kv_heads,
  // head_dim] holding positions 0..pos0+T-1; out: [T, n_heads, head_dim]. Causal (and windowed).
  virtual void attention(Buf q, Buf k_cache, Buf v_cache, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) = 0;
  // out[i] = silu(gate[i]) * up[i]; gate, up, out: [T, n] stored as [T, n]
  virtual void swiglu(Buf gate, Buf up, Buf out, int64_t n) = 0;
  // x[i] += y[i]
  virtual void add(Buf x, Buf y, int64_t n) = 0;

  // Optional, for greedy decode without a logits read-back per token (GPU backends; see
  // Model::start_device_batch). supports_device_greedy() says whether both are there.
  virtual bool supports_device_greedy() const { return false; }
  // out[0] = float(index of the largest of x[0..n)), the lowest index on ties.
  virtual void argmax(Buf x, int64_t n, Buf out) { fail(err(name(), " cannot pick tokens itself (argmax)")); }
  // As embed(), with the ids in backend memory as floats: ids[0..T).
  virtual void embed_from(WeightId E, Buf ids, int64_t T, Buf out) { fail(err(name(), " cannot read token ids from its own memory")); }
  // Optional: sampling on the backend (supports_device_sampling()). out[0] = the picked id as
  // a float, from logits x[0..n), the uniform u[0] in [0, 1), and with penalties pen: [n] flags
  // of tokens seen in the prompt, then [n] counts of generated tokens (the pick is counted).
  virtual bool supports_device_sampling() const { return false; }
  virtual void sample(Buf x, int64_t n, const DeviceSampling& s, Buf u, Buf pen, Buf out) { fail(err(name(), " cannot sample on the device")); }
  // A read-back in two halves (device greedy backends), so that the next batch of work can be
  // recorded and submitted while this one runs: read_start submits what was recorded and
  // returns a ticket (0: failed or not supported); read_finish waits and copies n floats.
  virtual uint32_t read_start(Buf src, int64_t n) { return 0; }
  virtual Status read_finish(uint32_t ticket, std::span<float> dst) { return err(name(), ": no read_start"); }

 protected:
  // Keeps the first error (later ones are consequences of it).
  void fail(const Error& e) {
    if (status_.ok()) status_ = e;
  }

 private:
  Status status_;
};

std::unique_ptr<Backend> make_cpu_backend(int n_threads);

}  // namespace hearth
