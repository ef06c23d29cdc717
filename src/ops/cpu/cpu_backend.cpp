// The CPU backend: buffers are host vectors, weights are kept as QMatrix, ops run the SIMD
// kernels on a thread pool (training ops: ops/cpu/train_kernels.h).
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "ops/backend.h"
#include "ops/cpu/gemm.h"
#include "ops/cpu/host_memory.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/ref_ops.h"
#include "ops/cpu/ref_train.h"
#include "ops/cpu/train_kernels.h"

namespace hearth {

namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : pool_(threads) {
    bufs_.emplace_back();  // id 0 is never handed out
    weights_.emplace_back();
  }
  std::string name() const override { return "cpu (" + std::to_string(pool_.size()) + " threads)"; }
  std::string tier() const override { return "cpu"; }

  Buf alloc(int64_t n) override {
    bufs_.emplace_back(size_t(n), 0.0f);
    return Buf{uint32_t(bufs_.size() - 1), 0};
  }
  void free_buffer(Buf b) override {
    if (b.id > 0 && b.id < bufs_.size()) std::vector<float>().swap(bufs_[b.id]);
  }
  void write(Buf dst, std::span<const float> src) override { std::memcpy(p(dst), src.data(), src.size_bytes()); }
  void read(Buf src, std::span<float> dst) override { std::memcpy(dst.data(), p(src), dst.size_bytes()); }
  WeightId upload(QMatrix w) override {
    weights_.push_back(std::make_unique<QMatrix>(std::move(w)));
    return WeightId{uint32_t(weights_.size() - 1)};
  }
  Result<QMatrix> download(WeightId w) override {
    if (w.id == 0 || w.id >= weights_.size() || !weights_[w.id]) return err(name(), ": weight ", w.id, " is not uploaded");
    return *weights_[w.id];
  }
  void release(WeightId w) override {
    if (w.id > 0 && w.id < weights_.size()) weights_[w.id].reset();
  }
  size_t bytes_used() const override {
    size_t n = 0;
    for (const auto& b : bufs_) n += b.size() * 4;
    for (const auto& w : weights_) n += w ? w->bytes() : 0;
    return n;
  }
  std::optional<uint64_t> memory_limit() const override { return host_memory_available(); }

  void embed(WeightId E, std::span<const int32_t> ids, Buf out) override { ref::embed(*weights_[E.id], ids, p(out)); }
  void rmsnorm(Buf x, Buf w, Buf out, int64_t rows, int64_t d, float eps) override {
    cpu::rmsnorm(p(x), p(w), p(out), rows, d, eps, pool_);
  }
  void matmul(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) override {
    cpu::matmul(p(x), *weights_[W.id], bias ? p(*bias) : nullptr, p(out), T, pool_);
  }
  void matmul_add(Buf x, WeightId W, const Buf* bias, Buf out, int64_t T) override {
    const QMatrix& w = *weights_[W.id];
    scratch_.resize(size_t(T * w.rows));
    cpu::matmul(p(x), w, bias ? p(*bias) : nullptr, scratch_.data(), T, pool_);
    float* o = p(out);
    for (size_t i = 0; i < scratch_.size(); ++i) o[i] = o[i] + scratch_[i];
  }
  void rope(Buf x, int64_t T, int64_t n_heads, int64_t head_dim, int64_t pos0, const RopeTable& table) override {
    ref::rope(p(x), T, n_heads, head_dim, pos0, table);
  }
  void copy(Buf src, Buf dst, int64_t n) override { std::memmove(p(dst), p(src), size_t(n) * 4); }
  void attention(Buf q, Buf k, Buf v, Buf out, int64_t T, int64_t pos0, const AttentionShape& s) override {
    cpu::attention(p(q), p(k), p(v), p(out), T, pos0, s, pool_);
  }
  void swiglu(Buf gate, Buf up, Buf out, int64_t n) override { ref::swiglu(p(gate), p(up), p(out), n); }
  void add(Buf x, Buf y, int64_t n) override { ref::add(p(x), p(y), n); }
  void store_kv(Buf x, Buf cache, int64_t T, int64_t pos0, const AttentionShape& s) override {
    ref::store_kv(p(x), p(cache), T, pos0, s);
  }
  bool supports_kv_dtype(KvDType) const override { return true; }
  void mask_logits(Buf x, Buf mask, int64_t n) override { ref::mask_logits(p(x), p(mask), n); }

  // Training.
  void linear(Buf x, Buf W, const Buf* bias, Buf out, int64_t T, int64_t in, int64_t n_out, float scale,
              bool accumulate) override {
    cpu::linear(p(x), p(W), bias ? p(*bias) : nullptr, p(out), T, in, n_out, scale, accumulate, pool_);
  }
  void linear_dx(Buf dy, Buf W, Buf dx, int64_t T, int64_t in, int64_t n_out, float scale, bool accumulate) override {
    cpu::linear_dx(p(dy), p(W), p(dx), T, in, n_out, scale, accumulate, pool_);
  }
  void matmul_dx(Buf dy, WeightId W, Buf dx, int64_t T, bool accumulate) override {
    const QMatrix& w = *weights_[W.id];
    if (w.format == WeightFormat::F32) {
      cpu::linear_dx(p(dy), w.f32.data(), p(dx), T, w.cols, w.rows, 1.0f, accumulate, pool_);
      return;
    }
    // Rows of W dequantized a block at a time (the base stays as loaded; a large vocabulary's
    // head never needs a whole f32 copy): dx (+)= dy[:, block] W[block, :], block after block.
    const int64_t block = std::max<int64_t>(1, (int64_t(1) << 20) / std::max<int64_t>(1, w.cols));
    for (int64_t r0 = 0; r0 < w.rows; r0 += block) {
      const int64_t n = std::min(block, w.rows - r0);
      scratch_.resize(size_t(n * w.cols));
      pool_.parallel_for(n, 16, [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) w.dequant_row(r0 + r, scratch_.data() + r * w.cols);
      });
      cpu::gemm(T, w.cols, n, cpu::MatView{p(dy) + r0, w.rows, 1}, cpu::MatView{scratch_.data(), w.cols, 1}, p(dx), w.cols,
                1.0f, accumulate || r0 > 0, pool_);
    }
  }
  void linear_dw(Buf dy, Buf x, Buf dW, int64_t T, int64_t in, int64_t n_out, float scale) override {
    cpu::linear_dw(p(dy), p(x), p(dW), T, in, n_out, scale, pool_);
  }
  void bias_grad(Buf dy, Buf db, int64_t T, int64_t n) override { cpu::bias_grad(p(dy), p(db), T, n, pool_); }
  void rmsnorm_backward(Buf x, Buf w, Buf dy, Buf dx, Buf dw, int64_t rows, int64_t d, float eps,
                        bool accumulate) override {
    cpu::rmsnorm_backward(p(x), p(w), p(dy), p(dx), dw.id ? p(dw) : nullptr, rows, d, eps, accumulate, pool_);
  }
  void rope_seqs(Buf x, int64_t n_seq, int64_t T, int64_t n_heads, int64_t head_dim, const RopeTable& table,
                 bool inverse) override {
    cpu::rope_seqs(p(x), n_seq, T, n_heads, head_dim, table, inverse, pool_);
  }
  void attention_train(Buf q, Buf k, Buf v, Buf out, Buf lse, int64_t n_seq, int64_t T, const AttentionShape& s) override {
    cpu::attention_train(p(q), p(k), p(v), p(out), p(lse), n_seq, T, s, pool_);
  }
  void attention_backward(Buf q, Buf k, Buf v, Buf out, Buf lse, Buf dout, Buf dq, Buf dk, Buf dv, int64_t n_seq,
                          int64_t T, const AttentionShape& s) override {
    cpu::attention_backward(p(q), p(k), p(v), p(out), p(lse), p(dout), p(dq), p(dk), p(dv), n_seq, T, s, pool_);
  }
  void swiglu_backward(Buf gate, Buf up, Buf dout, Buf dgate, Buf dup, int64_t n) override {
    cpu::swiglu_backward(p(gate), p(up), p(dout), p(dgate), p(dup), n, pool_);
  }
  void embed_rows(Buf E, std::span<const int32_t> ids, Buf out, int64_t d) override { ref::embed_rows(p(E), ids, p(out), d); }
  void embed_backward(std::span<const int32_t> ids, Buf dy, Buf dE, int64_t d) override {
    cpu::embed_backward(ids, p(dy), p(dE), d, pool_);
  }
  void cross_entropy(Buf logits, std::span<const int32_t> targets, Buf loss, Buf dlogits, int64_t rows, int64_t V,
                     float grad_scale) override {
    cpu::cross_entropy(p(logits), targets, p(loss), p(dlogits), rows, V, grad_scale, pool_);
  }
  void adamw(Buf param, Buf grad, Buf m, Buf v, int64_t n, const AdamWStep& s) override {
    cpu::adamw(p(param), p(grad), p(m), p(v), n, s, pool_);
  }
  void sum_squares(Buf x, int64_t n, Buf out) override { *p(out) = float(cpu::sum_squares(p(x), n, pool_)); }
  void fill(Buf x, int64_t n, float value) override { std::fill(p(x), p(x) + n, value); }

 private:
  float* p(Buf b) { return bufs_[b.id].data() + b.offset; }
  ThreadPool pool_;
  std::vector<std::vector<float>> bufs_;
  std::vector<std::unique_ptr<QMatrix>> weights_;
  std::vector<float> scratch_;  // matmul_add's product; matmul_dx's dequantized matrix
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace hearth
