// The one per-op parity harness: groups of op cases (primitive ops and fused plan steps, random
// shapes including odd ones, every weight format) run on any Backend against the scalar
// references of ops/cpu/ref_ops.h, each with its own tolerance. The same cases run on the CPU
// kernels (tests/ops_parity_test.cpp, natively and compiled to wasm) and on WebGPU in both
// feature tiers (web/test/webgpu_parity.cpp on Dawn), and a perf mode prints GB/s.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

#include "ops/backend.h"
#include "ops/qmatrix.h"

namespace hearth::parity {

struct Ctx {
  Backend* be = nullptr;
  // A second backend of the same kind whose weights are split into small chunks (GPU backends
  // with a tiny buffer limit), or nullptr.
  Backend* chunked = nullptr;
  std::string label;  // "cpu", "webgpu subgroups", ...
  int failures = 0, checks = 0;

  void expect(bool ok, const std::string& what);
  // max |got - want| / max |want| <= tol (a NaN fails).
  void expect_close(const std::vector<float>& got, const std::vector<float>& want, float tol, const std::string& what);
  // On backends that count dispatches (GPU): `n` dispatches since `d0`.
  void expect_dispatches(uint64_t d0, uint64_t n, const std::string& what);
  uint64_t dispatches() const { return be->counters().dispatches; }
  bool counts_dispatches() const { return be->tier() != "cpu"; }
  Buf put(const std::vector<float>& v);
  std::vector<float> get(Buf b, size_t n);
  // The same checks on another backend, counted here.
  Ctx on(Backend* other) const;
  void add(const Ctx& c) {
    failures += c.failures;
    checks += c.checks;
  }
};

inline constexpr WeightFormat kFormats[] = {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4};

// The groups, in order: "matmul", "embed", "rmsnorm", "rope", "attention", "elementwise",
// "argmax", "sample", "products" (product stages of plans), "attention_step" (attention steps
// of plans), "upload", "quantize" (quantization on upload, byte for byte).
const std::vector<std::string>& groups();
// Runs one group on c.be (and c.chunked where the group uses it); false for an unknown group.
bool run_group(const std::string& group, Ctx& c);

// Perf mode: times matrix-vector and matrix-matrix products at real model shapes on `be` and
// prints ms and GB/s of weights read (each timing over `reps` products in one submission).
void run_perf(Backend& be, int reps);

}  // namespace hearth::parity
