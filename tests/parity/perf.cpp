// The harness's perf mode: matrix products at real model shapes, timed over many products per
// submission, as ms per product and GB/s of weights read.
#include <chrono>

#include "parity/parity.h"
#include "random_data.h"

namespace hearth::parity {

void run_perf(Backend& be, int reps) {
  using clock = std::chrono::steady_clock;
  struct Shape {
    int64_t rows, cols, T;
  };
  // Qwen2.5-3B's q/k/v, gate/up and down widths, and a prefill block.
  const Shape shapes[] = {{2048, 2048, 1}, {11008, 2048, 1}, {2048, 11008, 1}, {11008, 2048, 64}};
  Buf sink = be.alloc(4);
  std::vector<float> one(1);
  for (auto f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4}) {
    for (const Shape& s : shapes) {
      QMatrix m = quantize_matrix(test::randn(size_t(s.rows * s.cols), 1, 0.02f), s.rows, s.cols, f, nullptr, false);
      const double bytes = double(m.bytes());
      WeightId W = be.upload(std::move(m));
      Buf x = be.alloc(s.T * s.cols), out = be.alloc(s.T * s.rows);
      be.matmul(x, W, nullptr, out, s.T);  // compiles what it needs
      be.read(sink, one);
      const auto t0 = clock::now();
      for (int i = 0; i < reps; ++i) be.matmul(x, W, nullptr, out, s.T);
      be.read(out, one);
      const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count() / reps;
      std::printf("  perf matmul %-5s %5lldx%-5lld T=%-3lld %9.3f ms  %8.1f GB/s of weights\n", weight_format_name(f),
                  static_cast<long long>(s.rows), static_cast<long long>(s.cols), static_cast<long long>(s.T), ms,
                  bytes / (ms * 1e6));
      be.release(W);
    }
  }
}

}  // namespace hearth::parity
