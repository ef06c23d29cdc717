// Shared by the WebGPU per-op parity tests (webgpu_ops_test.cpp, webgpu_ops_fusion_test.cpp):
// a backend with check counting, and the weight formats every product is tested in.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "ops/webgpu/webgpu_backend.h"
#include "random_data.h"

namespace hearth {

struct Ctx {
  WebGpuBackend* be;
  int failures = 0, checks = 0;
  void expect(bool ok, const std::string& what) {
    ++checks;
    if (!ok) {
      ++failures;
      std::printf("  FAIL %s\n", what.c_str());
    }
  }
  void expect_close(const std::vector<float>& got, const std::vector<float>& want, float tol, const std::string& what) {
    float e = test::rel_err(got, want);
    expect(e <= tol, what + ": rel err " + std::to_string(e) + " > " + std::to_string(tol));
  }
  Buf put(const std::vector<float>& v) {
    Buf b = be->alloc(int64_t(v.size()));
    be->write(b, v);
    return b;
  }
  std::vector<float> get(Buf b, size_t n) {
    std::vector<float> v(n);
    be->read(b, v);
    return v;
  }
};

inline constexpr WeightFormat kFormats[] = {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4};

}  // namespace hearth
