// The WebGPU backend: Backend ops as WGSL dispatches recorded into one command list per submit
// (recorder.h), run through the JS bridge (bridge.h). Activations and the KV cache are GPU
// buffers; weights are uploaded once in the shared QMatrix formats (ops/qmatrix.h), packed into
// vec4<u32> rows, suballocated in shared buffers or, when too big, split by rows into chunks
// within the device's binding limits (webgpu_weights.cpp).
// Primitive ops record their dispatch at once. Plans (ops/plan.h) are compiled: a product stage
// becomes its dispatches once (webgpu_products.cpp: the norm, biases, adapters, SwiGLU or
// residual folded into one matrix-vector dispatch for decode sizes), an attention step is
// emitted at each run, where the positions are known (webgpu_attention.cpp). Only read() waits
// for the GPU.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ops/backend.h"
#include "ops/webgpu/bridge.h"
#include "ops/webgpu/kernel_params.h"
#include "ops/webgpu/recorder.h"

namespace hearth {

struct WebGpuOptions {
  bool allow_subgroups = true;  // false: the kernels that need no optional feature (tier "none")
  uint64_t max_chunk_bytes = 0;  // cap on one weight chunk (0: the device's binding limit)
  bool prefill_dequant = true;   // prefill products read quantized weights dequantized into f32 scratch
};

class WebGpuBackend final : public Backend {
 public:
  // Fails with a message when no GPU bridge / device is installed.
  static Result<std::unique_ptr<WebGpuBackend>> create(const WebGpuOptions& opt = {});
  ~WebGpuBackend() override;

  std::string name() const override;
  // "subgroups" when the reductions use subgroup operations, else "none".
  std::string tier() const override { return rec_.subgroups() ? "subgroups" : "none"; }
  Status status() const override { return rec_.status().ok() ? Backend::status() : rec_.status(); }
  Counters counters() const override;
  std::optional<uint64_t> memory_limit() const override;
  const webgpu::DeviceInfo& device_info() const { return info_; }

  Buf alloc(int64_t n) override;
  void free_buffer(Buf b) override;
  void write(Buf dst, std::span<const float> src) override;
  void read(Buf src, std::span<float> dst) override;
  WeightId upload(QMatrix w) override;
  std::vector<WeightId> upload_group(std::vector<QMatrix> ws) override;
  // Int4 and int8 from BF16 or F16 data are quantized on the device (quantize_int4.wgsl,
  // quantize_int8.wgsl: the host's bits); other formats and sources as Backend's.
  std::vector<WeightId> upload_quantized(std::span<const RawMatrix> ms, WeightFormat format, bool search,
                                         ThreadPool* pool) override;
  Result<QMatrix> download(WeightId w) override;
  Status check_uploads() override;
  void release(WeightId w) override;
  // vec4<u32> units per row of a matrix of `cols` columns in format f, as the kernels read it.
  static uint32_t units_per_row(WeightFormat f, int64_t cols);
  size_t bytes_used() const override { return bytes_; }

  void embed(WeightId E, std::span<const int32_t> ids, Buf out) override;
  void rmsnorm(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps) override;
  void matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) override;
  void matmul_add(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) override;
  void rope(Buf x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) override;
  void copy(Buf src, Buf dst, int64_t n) override;
  void attention(Buf q, Buf k_cache, Buf v_cache, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) override;
  void swiglu(Buf gate, Buf up, Buf out, int64_t n) override;
  void add(Buf x, Buf y, int64_t n) override;

  std::unique_ptr<CompiledPlan> compile(const Plan& plan) override;
  void run(CompiledPlan& plan, int64_t pos0) override;

  // GPU-resident decode (Model::start_device_batch): the pick stays on the GPU.
  bool supports_device_greedy() const override { return true; }
  void argmax(Buf x, int64_t n, Buf out) override;
  void mask_logits(Buf x, Buf mask, int64_t n) override;
  void embed_from(WeightId E, Buf ids, int64_t T, Buf out) override;
  bool supports_device_sampling() const override { return true; }
  void sample(Buf x, int64_t n, const SamplingParams& s, Buf u, Buf pen, Buf out) override;
  uint32_t read_start(Buf src, int64_t n) override;
  Status read_finish(uint32_t ticket, std::span<float> dst) override;

  // Training (webgpu_train.cpp; attention in webgpu_train_attention.cpp).
  void linear(Buf x, Buf W, const Buf* bias, Buf out, int64_t T, int64_t in, int64_t n_out, float scale,
              bool accumulate) override;
  void linear_dx(Buf dy, Buf W, Buf dx, int64_t T, int64_t in, int64_t n_out, float scale, bool accumulate) override;
  void matmul_dx(Buf dy, WeightId W, Buf dx, int64_t T, bool accumulate) override;
  void linear_dw(Buf dy, Buf x, Buf dW, int64_t T, int64_t in, int64_t n_out, float scale) override;
  void bias_grad(Buf dy, Buf db, int64_t T, int64_t n) override;
  void rmsnorm_backward(Buf x, Buf w, Buf dy, Buf dx, Buf dw, int64_t rows, int64_t d, float eps,
                        bool accumulate) override;
  void rope_seqs(Buf x, int64_t n_seq, int64_t T, int64_t n_heads, int64_t head_dim, const RopeTable& table,
                 bool inverse) override;
  void attention_train(Buf q, Buf k, Buf v, Buf out, Buf lse, int64_t n_seq, int64_t T, const AttentionShape& s) override;
  void attention_backward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dout, Buf dq, Buf dk, Buf dv, int64_t n_seq,
                          int64_t T, const AttentionShape& s) override;
  void swiglu_backward(Buf gate, Buf up, Buf dout, Buf dgate, Buf dup, int64_t n) override;
  void embed_rows(Buf E, std::span<const int32_t> ids, Buf out, int64_t d) override;
  void embed_backward(std::span<const int32_t> ids, Buf dy, Buf dE, int64_t d) override;
  void cross_entropy(Buf logits, std::span<const int32_t> targets, Buf loss, Buf dlogits, int64_t rows, int64_t V,
                     float grad_scale) override;
  void adamw(Buf param, Buf grad, Buf m, Buf v, int64_t n, const AdamWStep& s) override;
  void sum_squares(Buf x, int64_t n, Buf out) override;
  void fill(Buf x, int64_t n, float value) override;

 private:
  using Dispatches = std::vector<webgpu::DispatchDesc>;
  // Rows row0..row0+rows-1 of a weight in `buffer`: packed rows from vec4 unit `base`, then the
  // scales / minimums at u32 word offsets scale_off / min_off (from the buffer's start).
  struct Chunk {
    uint32_t buffer = 0;
    int64_t row0 = 0, rows = 0;
    uint32_t base = 0;
    uint32_t scale_off = 0, min_off = 0;
  };
  struct Weight {
    WeightFormat format = WeightFormat::F32;
    int64_t rows = 0, cols = 0;
    uint32_t stride = 0;  // vec4<u32> units per row
    std::vector<Chunk> chunks;
    size_t bytes = 0;
    bool in_arena = false;  // one chunk, suballocated in a shared weight buffer
    uint64_t arena_offset = 0;
  };
  // Weights that fit share big buffers (first-fit suballocation, freed ranges coalesced), so
  // matrices uploaded together (q, k, v; gate, up) can be read by one dispatch.
  struct Arena {
    uint32_t buffer = 0;
    uint64_t size = 0;
    std::map<uint64_t, uint64_t> free;  // offset -> bytes
  };
  struct Shape {
    WeightFormat format;
    int64_t rows, cols;
  };
  struct RopeFreq {
    std::vector<float> inv_freq;
    Buf buf;
  };
  // Matrix-vector products of up to three weights for T <= 4 tokens in one dispatch
  // (matvec_common.wgsl), with what it folds in.
  struct MatvecGroup {
    struct Entry {
      const Weight* w = nullptr;
      Buf out;
      Buf bias;              // id 0: none
      bool acc = false;      // out += the product (matmul_add)
      Buf x;                 // this product's x (products of one x: all the same)
      const Weight* lb = nullptr;  // an adapter's B, folded into the store: out = W x + b + B t
      Buf lt;                      // its t: [T, rank]
    };
    int64_t T = 0;
    webgpu::FixedVec<Entry, 3> e;
    bool norm = false;  // the products read rmsnorm(x) * norm_w, also written to norm_out
    Buf norm_w, norm_out;
    float eps = 0.0f;
    bool pair = false;  // sw = silu(out 0) * out 1 (gate and up)
    Buf sw;
    bool resid = false;  // res += out 0
    Buf res;
    bool multi_x() const;
  };
  struct CompiledStep;
  struct WebGpuPlan;

  WebGpuBackend(const webgpu::DeviceInfo& info, const WebGpuOptions& opt);
  uint32_t gpu(Buf b) const { return b.id < bufs_.size() ? bufs_[b.id] : 0; }
  // Bytes of the buffer alloc(n) creates.
  static uint64_t buf_bytes(int64_t n) { return std::max<uint64_t>(16, uint64_t(n) * 4 + 15) / 16 * 16; }
  // The largest subgroup size (grids of subgroup kernels are sized for it), at most 64.
  int64_t sg_max() const { return std::clamp<int64_t>(info_.subgroup_max ? info_.subgroup_max : 32, 1, 64); }
  const Weight* weight(WeightId w);
  void fail(const Error& e) { rec_.fail(e); }  // reported through status()
  void record(const Dispatches& ds);
  // A scratch buffer `b` of at least `need` floats: grown (doubling) once the work recorded so
  // far, which may use the old one, is submitted.
  void ensure_scratch(Buf& b, int64_t& cap, int64_t need);

  // Dispatch builders (they append to `out`; webgpu_kernels.cpp unless noted).
  void elementwise(webgpu::ElementwiseOp op, Buf a, Buf b, Buf out, int64_t n, Dispatches& ds) const;
  void rmsnorm_dispatch(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps, Dispatches& ds) const;
  void embed_chunks(const Weight& w, Buf out, int64_t T, std::span<const int32_t> ids, const Buf* ids_buf);
  // rope of q (H heads) [and of k (H2 heads), with STORE k into kc and n_v floats of v into vc].
  struct RopeArgs {
    Buf x;
    int64_t T = 0, H = 0, D = 0, pos0 = 0;
    Buf x2;
    int64_t H2 = 0;
    bool store = false;
    Buf kc, v, vc;
    int64_t n_v = 0;
  };
  void rope_dispatch(const RopeArgs& r, const RopeTable& table, Dispatches& ds);
  Buf freq_buf(const RopeTable& table);
  // webgpu_products.cpp
  void matvec_dispatches(const MatvecGroup& g, Dispatches& ds) const;
  void tiled_dispatches(Buf x, const Weight& w, Buf bias, Buf out, int64_t T, bool acc, const Buf* res,
                        Dispatches& ds);
  Buf kept_scratch(Buf& b, int64_t& cap, int64_t n);
  Buf q8_0_activations(Buf x, int64_t T, int64_t cols, Dispatches& ds);
  void product_stage(const ProductStage& s, Dispatches& ds);
  void matmul_impl(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T, bool acc);
  // webgpu_attention.cpp
  void attention_step(const AttentionStep& s, int64_t pos0);
  void attention_decode(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s,
                        const RopeArgs* rope, const RopeTable* table);
  // With lse (training): each row's log-sum-exp too, over n_seq sequences of T tokens at pos0 0.
  void attention_prefill(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s,
                         const Buf* lse = nullptr, int64_t n_seq = 1);
  // webgpu_train.cpp: C (+)= alpha (A B (+ bias)) through matmul_train.wgsl (see there).
  struct TrainGemm {
    Buf a, b, c, bias;  // bias.id 0: none
    int64_t a_sm = 0, a_sk = 0, b_sk = 0, b_sn = 0, ldc = 0;
    int64_t M = 0, N = 0, K = 0;
    float alpha = 1.0f;
    bool acc = false;
  };
  void train_gemm(const TrainGemm& g, const Weight* w = nullptr, const Chunk* chunk = nullptr);
  // out[c] += column sums of x: [rows, d] (with y and s: of x * y * s[row]); colsum.wgsl, its
  // blocks' sums in `part` (colsum_floats(rows, d) floats).
  void colsum(Buf x, const Buf* y, const Buf* s, Buf out, int64_t rows, int64_t d, Buf part);
  static int64_t colsum_floats(int64_t rows, int64_t d);
  // One invocation per element: the grid of n elements in workgroups of 256.
  void elementwise_grid(int64_t n, webgpu::DispatchDesc& d) const;
  // webgpu_weights.cpp: placement (weights made, no data yet), then filling from the host.
  bool arena_alloc(uint64_t bytes, uint32_t* buffer, uint64_t* offset);
  void arena_free(uint32_t buffer, uint64_t offset, uint64_t bytes);
  uint64_t arena_limit() const;
  static Chunk chunk_at(WeightFormat f, int64_t rows, int64_t cols, uint32_t buffer, uint64_t offset);
  std::vector<WeightId> place_group(const std::vector<Shape>& shapes);  // one buffer where they fit
  WeightId place_alone(const Shape& s);
  void fill_weight(const Weight& W, const QMatrix& w);
  // webgpu_quantize.cpp: fills W from checkpoint data with the quantize kernels.
  // A row holding NaN or Inf writes its index + 1 into flags_[flag_slot] (check_uploads reads them).
  void fill_quantized(const Weight& W, const RawMatrix& m, bool search, uint32_t flag_slot);

  webgpu::DeviceInfo info_;
  WebGpuOptions opt_;
  webgpu::Recorder rec_;
  std::vector<uint32_t> bufs_;                   // Buf id -> bridge buffer (0 unused)
  std::vector<uint64_t> buf_sizes_;              // Buf id -> its bytes
  std::vector<std::unique_ptr<Weight>> weights_; // WeightId -> chunks
  std::vector<RopeFreq> rope_freqs_;
  std::vector<Arena> arenas_;
  uint64_t next_arena_bytes_ = 16ull << 20;
  Buf part_;               // attention split-K partials
  int64_t part_cap_ = 0;   // floats
  Buf cand_;               // the sampler's top-k candidates (values, then ids)
  int64_t cand_cap_ = 0;   // floats
  Buf staging_;            // checkpoint data on its way to the quantize kernels
  int64_t staging_cap_ = 0;  // floats (words)
  static constexpr int64_t kFlagSlots = 1024;
  Buf flags_;                // a word per matrix quantized since the last check_uploads
  std::vector<std::string> flag_names_;  // their tensors
  Buf dequant_;            // a quantized weight chunk as f32 rows, for the prefill products
  int64_t dequant_cap_ = 0;  // floats
  Buf xq_;                 // activations through Q8_0, for products with Q8_0 / Q4_0 weights
  int64_t xq_cap_ = 0;     // floats
  std::vector<Buf> retired_;  // scratch buffers outgrown while compiled plans may still use them
  Buf train_scratch_;      // training ops' partial sums, attention's log-sum-exps and deltas
  int64_t train_scratch_cap_ = 0;  // floats
  size_t bytes_ = 0;
};

}  // namespace hearth
