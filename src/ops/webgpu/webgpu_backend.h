// The WebGPU backend: Backend ops as WGSL dispatches recorded into one command list per
// submit (recorder.h), run through the JS bridge (bridge.h). Activations and the KV cache are
// GPU buffers; weights are uploaded once in the shared QMatrix formats (ops/qmatrix.h), packed
// into vec4<u32> rows, suballocated in shared buffers or, when too big, split by rows into
// chunks within the device's binding limits (webgpu_weights.cpp). Ops that usually come in
// pairs are held back one op and fused when the next one fits (add + rmsnorm, rmsnorm + the
// products of its output, rope q + rope k + the copies of k and v into the KV cache [+ the
// decode attention over that cache], the q/k/v and gate/up products + swiglu, a product + the
// residual add of its output); only read() waits for the GPU.
#pragma once
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "ops/backend.h"
#include "ops/webgpu/bridge.h"
#include "ops/webgpu/recorder.h"

namespace hearth {

struct WebGpuOptions {
  bool allow_subgroups = true;  // false: the kernels that need no optional feature (tier "none")
  uint64_t max_chunk_bytes = 0;  // cap on one weight chunk (0: the device's binding limit)
  // A LoRA stage's A products computed by the first workgroups of its base products' dispatch
  // (matvec_common.wgsl, LA) instead of a dispatch of their own before it. Off by default: on
  // the H100 it measured slower than the separate dispatch (web/README).
  bool lora_in_dispatch = false;
  // With lora_in_dispatch, reads of a t value before the reader computes it itself (0: always;
  // the results are the same either way).
  uint32_t lora_wait = 4096;
};

class WebGpuBackend final : public Backend {
 public:
  // Fails with a message when no GPU bridge / device is installed.
  static Result<std::unique_ptr<WebGpuBackend>> create(const WebGpuOptions& opt = {});
  ~WebGpuBackend() override;

  std::string name() const override;
  // "subgroups" when the reductions use subgroup operations, else "none".
  std::string tier() const { return rec_.subgroups() ? "subgroups" : "none"; }
  const webgpu::DeviceInfo& device_info() const { return info_; }
  // The first error (a kernel that did not compile, a failed read-back, a device error).
  Status status() const override { return rec_.status().ok() ? Backend::status() : rec_.status(); }
  void flush() {
    settle();
    rec_.flush();
  }
  webgpu::Recorder& recorder() { return rec_; }

  Buf alloc(int64_t n) override;
  void write(Buf dst, std::span<const float> src) override;
  void read(Buf src, std::span<float> dst) override;
  WeightId upload(QMatrix w) override;
  std::vector<WeightId> upload_group(std::vector<QMatrix> ws) override;
  void release(WeightId w) override;
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

  // GPU-resident greedy decode (Model::start_device_batch): the pick stays on the GPU.
  bool supports_device_greedy() const override { return true; }
  // out[0] = float(argmax of x[0..n)), lowest index on ties.
  void argmax(Buf x, int64_t n, Buf out) override;
  // Embedding lookup with the ids on the GPU: ids[t] (as floats, t < T) -> out[t, :].
  void embed_from(WeightId E, Buf ids, int64_t T, Buf out) override;
  bool supports_device_sampling() const override { return true; }
  void sample(Buf x, int64_t n, const DeviceSampling& s, Buf u, Buf pen, Buf out) override;
  uint32_t read_start(Buf src, int64_t n) override;
  Status read_finish(uint32_t ticket, std::span<float> dst) override;

 private:
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
  // matrices uploaded one after another (q, k, v; gate, up) can be read by one dispatch.
  struct Arena {
    uint32_t buffer = 0;
    uint64_t size = 0;
    std::map<uint64_t, uint64_t> free;  // offset -> bytes
  };
  struct RopeFreq {
    std::vector<float> inv_freq;
    Buf buf;
  };
  // Work held back for one op, to be fused with the next one when that fits (add + rmsnorm,
  // rope q + rope k, copy k + copy v); settle() records it as it is otherwise. Every op that
  // cannot fuse, and every read / write / flush, settles first, so program order is kept.
  struct PendingAdd {
    Buf x, y;
    int64_t n;
  };
  // rope(q) [+ rope(k) at the same positions, H2 heads of x2 [+ copy of the roped k to kc
  // [+ copy of n_v floats v -> vc]]]: the attention block's rope and KV-cache stores in one.
  struct PendingRope {
    Buf x;
    int64_t T, H, D, pos0, half;
    float scaling;
    size_t freq;  // index into rope_freqs_
    Buf x2{};
    int64_t H2 = 0;
    bool store = false;
    Buf kc{}, v{}, vc{};
    int64_t n_v = 0;
  };
  struct PendingCopy {
    Buf src, dst;
    int64_t n;
  };
  // rmsnorm of a few rows (T <= 4), waiting to be folded into the products that read its output.
  struct PendingNorm {
    Buf x, w, out;
    int64_t rows, d;
    float eps;
  };
  // Matrix-vector products (T <= 4) that read the same x from one weight buffer (q, k, v; gate,
  // up): one dispatch, and with a following swiglu of the pair, that too.
  struct PendingMatvec {
    int64_t T = 0;
    struct Entry {
      const Weight* w;
      Buf out;
      bool has_bias;
      Buf bias;
      bool acc;  // out += the product (matmul_add)
      Buf x;     // this product's x (the LoRA B products of one stage read one each)
      // A LoRA B product folded into this one's store: out = [out +] W x + bias + lb lt, with
      // acc taken from the B product (which no longer writes out first).
      const Weight* lb = nullptr;
      Buf lt;
    };
    webgpu::FixedVec<Entry, 3> e;  // kMaxGroup
    // LoRA B products (rank-r x each, written before the base products that add to their
    // outputs) waiting for those base products to join this group; any left over when the
    // group is emitted go first, in a dispatch of their own.
    webgpu::FixedVec<Entry, 3> held;
    // The LoRA A products of the stage (their outputs are the B products' x), with the norm
    // they took: computed by the first workgroups of the base products' dispatch where it can
    // take them, else in a dispatch of their own before it.
    webgpu::FixedVec<Entry, 3> held_a;
    bool a_has_norm = false;
    PendingNorm a_norm{};
    // The products read rmsnorm(norm.x) (x is norm.out, written as well) and, with resid,
    // res += out follows.
    bool has_norm = false;
    PendingNorm norm{};
    bool resid = false;
    Buf res;
    const Buf& x() const { return e[0].x; }  // the first product's x (every product's without multi_x)
    bool multi_x() const;                     // the products do not all read one x
  };

  WebGpuBackend(const webgpu::DeviceInfo& info, const WebGpuOptions& opt);
  uint32_t gpu(Buf b) const { return b.id < bufs_.size() ? bufs_[b.id] : 0; }
  // Bytes of the buffer alloc(n) creates.
  static uint64_t buf_bytes(int64_t n) { return std::max<uint64_t>(16, uint64_t(n) * 4 + 15) / 16 * 16; }
  // The largest subgroup size (grids of subgroup kernels are sized for it), at most 64.
  int64_t sg_max() const { return std::clamp<int64_t>(info_.subgroup_max ? info_.subgroup_max : 32, 1, 64); }
  const Weight* weight(WeightId w);
  // A scratch buffer `b` of at least `need` floats: grown (doubling) once the work recorded so
  // far, which may use the old one, is submitted.
  void ensure_scratch(Buf& b, int64_t& cap, int64_t need);
  void elementwise(uint32_t op, Buf a, Buf b, Buf out, int64_t n);
  void embed_chunks(const Weight& w, Buf out, int64_t T, const std::vector<uint32_t>& ids, const Buf* ids_buf);
  // With `rope`: the pending rope q / rope k / cache stores are done by the attention kernel.
  void attention_decode(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s,
                        const PendingRope* rope);
  void attention_prefill(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s);
  void fail(const Error& e) { rec_.fail(e); }  // reported through status() like Backend::fail's
  void settle();
  void rmsnorm_impl(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps, const Buf* add);
  void rope_impl(const PendingRope& r);
  Buf freq_buf(const PendingRope& r) const { return rope_freqs_[r.freq].buf; }
  bool arena_alloc(uint64_t bytes, uint32_t* buffer, uint64_t* offset);
  // Uploads w whole at byte `offset` of arena `buffer` (allocated by the caller).
  WeightId upload_placed(const QMatrix& w, uint32_t buffer, uint64_t offset);
  void arena_free(uint32_t buffer, uint64_t offset, uint64_t bytes);
  uint64_t arena_limit() const;
  bool fits_group(const PendingMatvec& g, Buf x, const Weight& w, const Buf* bias, Buf out, int64_t T) const;
  // Whether the pending group is the B products of a LoRA stage that `out` (added to by a
  // product of x) can take into its store.
  bool lora_b_group(const PendingMatvec& g, Buf x, Buf out, int64_t T, bool acc) const;
  // Whether the pending group is the A products of a LoRA stage whose outputs x is one of.
  bool lora_a_group(const PendingMatvec& g, Buf x, int64_t T) const;
  // n floats of the LoRA t ring (armed with the unpublished mark), re-armed when it wraps.
  uint32_t lora_ring_take(int64_t n);
  void emit_matvec(const PendingMatvec& g, const Buf* swiglu_out);
  // The held A products of g in a dispatch of their own (with the norm they took).
  void emit_lora_a(const PendingMatvec& g);
  void emit_matvec_group(const PendingMatvec& g, const Buf* swiglu_out);
  // Folds the residual add x += y into the pending product that writes y, when it can.
  bool fold_resid(Buf x, Buf y, int64_t n);
  void emit_matmul_tiled(Buf x, const Weight& w, const Buf* bias, Buf out, int64_t T, bool acc);
  void matmul_impl(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T, bool acc);

  webgpu::DeviceInfo info_;
  WebGpuOptions opt_;
  webgpu::Recorder rec_;
  std::vector<uint32_t> bufs_;                   // Buf id -> bridge buffer (0 unused)
  std::vector<std::unique_ptr<Weight>> weights_; // WeightId -> chunks
  std::vector<RopeFreq> rope_freqs_;
  std::variant<std::monostate, PendingAdd, PendingRope, PendingCopy, PendingNorm, PendingMatvec> pending_;
  std::vector<Arena> arenas_;
  uint64_t next_arena_bytes_ = 16ull << 20;
  Buf part_;               // attention split-K partials
  int64_t part_cap_ = 0;   // floats
  // LoRA t values published by the A workgroups of a dispatch to its other workgroups.
  Buf lora_ring_{};
  int64_t lora_ring_pos_ = 0;
  Buf cand_;               // the sampler's top-k candidates (values, then ids)
  int64_t cand_cap_ = 0;   // floats
  size_t bytes_ = 0;
};

// make_webgpu_backend as a plain Backend, for Model::load.
Result<std::unique_ptr<Backend>> make_webgpu_backend(const WebGpuOptions& opt = {});

}  // namespace hearth
