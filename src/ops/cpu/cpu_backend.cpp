// The CPU backend: buffers are host vectors, weights are kept as QMatrix, ops run the SIMD
// kernels on a thread pool.
#include <cstring>
#include <memory>
#include <vector>

#include "ops/backend.h"
#include "ops/cpu/host_memory.h"
#include "ops/cpu/kernels.h"
#include "ops/cpu/ref_ops.h"

namespace hearth {

namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(int threads) : pool_(threads) {
    bufs_.emplace_back();  // id 0 is never handed out
    weights_.emplace_back();
  }
  std::string name() const override { return "cpu (" + std::to_string(pool_.size()) + " threads)"; }

  Buf alloc(int64_t n) override {
    bufs_.emplace_back(size_t(n), 0.0f);
    return Buf{uint32_t(bufs_.size() - 1), 0};
  }
  void write(Buf dst, std::span<const float> src) override { std::memcpy(p(dst), src.data(), src.size_bytes()); }
  void read(Buf src, std::span<float> dst) override { std::memcpy(dst.data(), p(src), dst.size_bytes()); }
  WeightId upload(QMatrix w) override {
    weights_.push_back(std::make_unique<QMatrix>(std::move(w)));
    return WeightId{uint32_t(weights_.size() - 1)};
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

 private:
  float* p(Buf b) { return bufs_[b.id].data() + b.offset; }
  ThreadPool pool_;
  std::vector<std::vector<float>> bufs_;
  std::vector<std::unique_ptr<QMatrix>> weights_;
  std::vector<float> scratch_;  // matmul_add's product
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend(int n_threads) { return std::make_unique<CpuBackend>(n_threads); }

}  // namespace hearth
