// Random inputs and the error measure shared by the op parity tests (tests/ops_test.cpp on the
// CPU kernels, web/test/webgpu_ops_test.cpp on the WGSL ones). No test framework needed.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

namespace hearth::test {

// n normal samples (mean 0, standard deviation `scale`), reproducible from `seed`.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

// max |a - b| / max |b|; a NaN in `a` counts as an infinite error.
inline float rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double d = std::fabs(double(a[i]) - double(b[i]));
    if (std::isnan(a[i])) d = INFINITY;
    num = std::max(num, d);
    den = std::max(den, double(std::fabs(b[i])));
  }
  return float(num / std::max(den, 1e-30));
}

}  // namespace hearth::test
