// The op interface the model runs on. A backend owns its memory: activations, the KV cache and
// uploaded weights are referred to by handles, so the same forward pass drives the CPU (plain
// pointers) and the GPU (buffers and recorded dispatches). All activations are f32.
// Two levels: primitive ops (one operation each, with a scalar reference in ops/cpu/ref_ops.h),
// and plans of fused steps (ops/plan.h) that the model states explicitly; a backend compiles a
// plan once and may run a step as one kernel. Nothing is inferred from the order of calls.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "ops/backend_types.h"
#include "ops/plan.h"
#include "ops/qmatrix.h"

namespace hearth {

class ThreadPool;

// One AdamW update with PyTorch's semantics (torch.optim.AdamW), the scalars computed by the
// caller in double and rounded to f32 as PyTorch does. Per element, in f32:
//   g = grad * grad_scale                       (global-norm clipping; 1 when not clipped)
//   param = param * decay                       (decay = 1 - lr * weight_decay)
//   m = m * beta1 + one_minus_beta1 * g
//   v = v * beta2 + one_minus_beta2 * g * g
//   param = param + (-step_size * m) / (sqrt(v) / bias2_sqrt + eps)
// with step_size = lr / (1 - beta1^step) and bias2_sqrt = sqrt(1 - beta2^step), step from 1.
struct AdamWStep {
  float grad_scale = 1.0f, decay = 1.0f;
  float beta1 = 0.9f, one_minus_beta1 = 0.1f, beta2 = 0.999f, one_minus_beta2 = 0.001f;
  float step_size = 0.0f, bias2_sqrt = 1.0f, eps = 1e-8f;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  // The first error the backend met (a kernel that did not compile, a failed read-back, a lost
  // device, an op this backend does not have). Ops record work and do not return errors; callers
  // check status() after a step, a read or a load.
  virtual Status status() const { return status_; }
  // Which optional accelerations run ("subgroups", "none" on WebGPU; "cpu" on the CPU).
  virtual std::string tier() const = 0;
  // Work counters of a GPU backend (zero elsewhere).
  struct Counters {
    uint64_t dispatches = 0, submits = 0, pipelines = 0;
  };
  virtual Counters counters() const { return {}; }
  // Bytes the backend can still allocate, where it knows (std::nullopt: unknown): host memory
  // for the CPU backend (the wasm heap's room in wasm). Loading and training check what they
  // need against it before allocating.
  virtual std::optional<uint64_t> memory_limit() const { return std::nullopt; }

  // Memory.
  virtual Buf alloc(int64_t n) = 0;                                     // zero-filled
  // Gives back the memory of a buffer alloc() returned (training state a session no longer
  // needs); the Buf must not be used afterwards. Backends that cannot keep it.
  virtual void free_buffer(Buf b) {}
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
  // Matrices straight from checkpoint data, quantized to `format` as quantize_matrix does (int4:
  // `search` as there) and uploaded as a group. The default converts and quantizes on the host
  // (rows over `pool`, when given); a GPU backend may quantize on the device instead, with the
  // same bits.
  virtual std::vector<WeightId> upload_quantized(std::span<const RawMatrix> ms, WeightFormat format, bool search,
                                                 ThreadPool* pool);
  // Waits for the quantization upload_quantized started and reports the first problem: checkpoint
  // values that are NaN or Inf (naming the tensor and the row), or any earlier failure. A backend
  // that quantizes on the host has checked already.
  virtual Status check_uploads() { return status(); }
  // An uploaded weight read back in the shared format (e.g. to write a packed cache of weights
  // the device quantized).
  virtual Result<QMatrix> download(WeightId w) = 0;
  // Frees an uploaded weight (LoRA matrices are replaced when their scale changes).
  virtual void release(WeightId w) = 0;
  virtual size_t bytes_used() const = 0;

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
  // q: [T, n_heads, head_dim] at positions pos0..pos0+T-1; k_cache, v_cache: [ctx, n_kv_heads]
  // rows in the format s.kv (ops/kv_cache.h; f32: [ctx, n_kv_heads, head_dim]) holding positions
  // 0..pos0+T-1; out: [T, n_heads, head_dim]. Causal (and windowed).
  virtual void attention(Buf q, Buf k_cache, Buf v_cache, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) = 0;
  // Stores x: [T, n_kv_heads, head_dim] into cache rows pos0.. in the format s.kv.
  virtual void store_kv(Buf x, Buf cache, int64_t T, int64_t pos0, const AttentionShape& s);
  // Whether attention() and store_kv() take caches in format t (f32 everywhere).
  virtual bool supports_kv_dtype(KvDType t) const { return t == KvDType::F32; }
  // out[i] = silu(gate[i]) * up[i]; gate, up, out: [T, n] stored as [T, n]
  virtual void swiglu(Buf gate, Buf up, Buf out, int64_t n) = 0;
  // x[i] += y[i]
  virtual void add(Buf x, Buf y, int64_t n) = 0;

  // Plans (ops/plan.h). compile() checks and prepares a plan once; run() replays it for new
  // tokens at positions pos0.. (the T of its steps). The defaults run each step's parts with the
  // primitive ops above (run_products, run_attention), as the CPU backend does.
  virtual std::unique_ptr<CompiledPlan> compile(const Plan& plan);
  virtual void run(CompiledPlan& plan, int64_t pos0);

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
  virtual void sample(Buf x, int64_t n, const SamplingParams& s, Buf u, Buf pen, Buf out) { fail(err(name(), " cannot sample on the device")); }
  // Structured output: x[i] = -inf where bit i % 16 of the whole number mask[i / 16] is clear
  // (16 bits per element, so every value is an exact float); x: [n], mask: [ceil(n / 16)].
  // (WebGPU writes -1e30: WGSL has no infinite constants; the picks are the same.)
  virtual void mask_logits(Buf x, Buf mask, int64_t n) { fail(err(name(), " cannot mask logits")); }
  // A read-back in two halves (device greedy backends), so that the next batch of work can be
  // recorded and submitted while this one runs: read_start submits what was recorded and
  // returns a ticket (0: failed or not supported); read_finish waits and copies n floats.
  virtual uint32_t read_start(Buf src, int64_t n) { return 0; }
  virtual Status read_finish(uint32_t ticket, std::span<float> dst) { return err(name(), ": no read_start"); }

  // ---- Training: the forward ops the training step adds, every backward op, the loss and the
  // optimizer (src/train runs them). All f32. Trainable matrices live in Bufs, row-major
  // [n_out, in] like PyTorch's Linear; frozen ones are uploaded weights (any WeightFormat).
  // "(+)=" means: added to what the output holds when `accumulate`, else written. A backend
  // without an op records an error in status(). Scalar semantics: ops/cpu/ref_train.h.

  // out[t, o] (+)= scale * (sum_i x[t, i] W[o, i] + bias[o]); x: [T, in], W: [n_out, in],
  // bias: [n_out] or null, out: [T, n_out]
  virtual void linear(Buf x, Buf W, const Buf* bias, Buf out, int64_t T, int64_t in, int64_t n_out, float scale,
                      bool accumulate) { no_training_op("linear"); }
  // dx[t, i] (+)= scale * sum_o dy[t, o] W[o, i]; dy: [T, n_out], W: [n_out, in], dx: [T, in]
  virtual void linear_dx(Buf dy, Buf W, Buf dx, int64_t T, int64_t in, int64_t n_out, float scale,
                         bool accumulate) { no_training_op("linear_dx"); }
  // The same through a frozen uploaded matrix: dx[t, i] (+)= sum_o dy[t, o] dequant(W)[o, i]
  virtual void matmul_dx(Buf dy, WeightId W, Buf dx, int64_t T, bool accumulate) { no_training_op("matmul_dx"); }
  // dW[o, i] += scale * sum_t dy[t, o] x[t, i]; dy: [T, n_out], x: [T, in], dW: [n_out, in]
  virtual void linear_dw(Buf dy, Buf x, Buf dW, int64_t T, int64_t in, int64_t n_out, float scale) {
    no_training_op("linear_dw");
  }
  // db[o] += sum_t dy[t, o]; dy: [T, n], db: [n]
  virtual void bias_grad(Buf dy, Buf db, int64_t T, int64_t n) { no_training_op("bias_grad"); }
  // The backward of rmsnorm(x, w): dx (+)= d out / d x applied to dy, and dw += its gradient
  // summed over rows (skipped when dw.id == 0: a frozen norm). x, dy, dx: [rows, d]; w, dw: [d]
  virtual void rmsnorm_backward(Buf x, Buf w, Buf dy, Buf dx, Buf dw, int64_t rows, int64_t d, float eps,
                                bool accumulate) { no_training_op("rmsnorm_backward"); }
  // In place on x: [n_seq * T, n_heads, head_dim]: rope() of each sequence at positions
  // 0..T-1, or with `inverse` its transpose (the inverse rotation, times attention_scaling), for
  // the backward.
  virtual void rope_seqs(Buf x, int64_t n_seq, int64_t T, int64_t n_heads, int64_t head_dim, const RopeTable& table,
                         bool inverse) { no_training_op("rope_seqs"); }
  // Causal (and windowed) attention over n_seq independent sequences of T tokens each, at
  // positions 0..T-1. q, out: [n_seq * T, n_heads, head_dim]; k, v: [n_seq * T, n_kv_heads,
  // head_dim]; lse: [n_seq * T, n_heads] the log-sum-exp of each row's scaled scores, kept for
  // the backward (no [T, T] matrix is kept).
  virtual void attention_train(Buf q, Buf k, Buf v, Buf out, Buf lse, int64_t n_seq, int64_t T,
                               const AttentionShape& s) { no_training_op("attention_train"); }
  // Its backward: the probabilities recomputed from q, k and lse. Writes dq: [n_seq * T,
  // n_heads, head_dim], dk, dv: [n_seq * T, n_kv_heads, head_dim] from dout (shaped as out).
  virtual void attention_backward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dout, Buf dq, Buf dk, Buf dv,
                                  int64_t n_seq, int64_t T, const AttentionShape& s) {
    no_training_op("attention_backward");
  }
  // out = silu(gate) * up backward: dgate = dout * up * silu'(gate), dup = dout * silu(gate);
  // all [n]. dgate and dup may be gate and up (in place).
  virtual void swiglu_backward(Buf gate, Buf up, Buf dout, Buf dgate, Buf dup, int64_t n) {
    no_training_op("swiglu_backward");
  }
  // out[t, :] = E[ids[t], :]; E: [vocab, d] in a Buf, out: [T, d]
  virtual void embed_rows(Buf E, std::span<const int32_t> ids, Buf out, int64_t d) { no_training_op("embed_rows"); }
  // dE[ids[t], :] += dy[t, :]; dy: [T, d], dE: [vocab, d]
  virtual void embed_backward(std::span<const int32_t> ids, Buf dy, Buf dE, int64_t d) {
    no_training_op("embed_backward");
  }
  // Cross-entropy of each row of logits: [rows, V] against targets[rows] (a negative target is
  // ignored: loss 0, gradient 0). loss: [rows] = logsumexp(row) - row[target]; dlogits: [rows, V]
  // = (softmax(row) - onehot(target)) * grad_scale, and may be logits itself.
  virtual void cross_entropy(Buf logits, std::span<const int32_t> targets, Buf loss, Buf dlogits, int64_t rows,
                             int64_t V, float grad_scale) { no_training_op("cross_entropy"); }
  // One AdamW step on n elements (see AdamWStep); param, grad, m, v: [n].
  virtual void adamw(Buf param, Buf grad, Buf m, Buf v, int64_t n, const AdamWStep& s) { no_training_op("adamw"); }
  // out[0] = sum_i x[i]^2 over n elements (accumulated in f64, then rounded to f32).
  virtual void sum_squares(Buf x, int64_t n, Buf out) { no_training_op("sum_squares"); }
  // x[0..n) = value
  virtual void fill(Buf x, int64_t n, float value) { no_training_op("fill"); }

 protected:
  // The parts of one step, by the semantics plan.h states.
  void run_products(const ProductStage& s);
  void run_attention(const AttentionStep& s, int64_t pos0);
  // Keeps the first error (later ones are consequences of it).
  void fail(const Error& e) {
    if (status_.ok()) status_ = e;
  }
  void no_training_op(const char* op) { fail(err(name(), " has no training kernel for ", op)); }

 private:
  Status status_;
};

std::unique_ptr<Backend> make_cpu_backend(int n_threads);

// A backend by name: "cpu" or "webgpu" (the wasm build, with a GPU device handed to the engine).
struct BackendOptions {
  std::string kind = "cpu";
  int threads = 0;                // cpu: 0 = all cores
  bool allow_subgroups = true;    // webgpu: false = the tier that needs no optional feature
  uint64_t max_chunk_bytes = 0;   // webgpu: cap on the buffers weights are placed in (0: device limit)
  bool prefill_dequant = true;    // webgpu: prefill products read quantized weights as f32 scratch
};
Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& opt);

}  // namespace hearth
