// The per-op parity harness (tests/parity/) on WebGPU, built as a wasm module (web/web.cmake,
// target hearth_webgpu_ops_test) whose exports web/test/ops.test.mjs calls on Dawn (SwiftShader
// in CI): hearth_ops_test(group, tier) runs one group of cases on tier "subgroups" or "none",
// with a second backend whose weights go into 4 KiB buffers (the chunked cases);
// hearth_ops_perf(tier, reps) is the harness's perf mode.
#include <emscripten.h>

#include <cstdio>
#include <cstring>

#include "ops/webgpu/webgpu_backend.h"
#include "parity/parity.h"

namespace {

using namespace hearth;

Result<std::unique_ptr<WebGpuBackend>> backend(const char* tier, uint64_t chunk_bytes) {
  WebGpuOptions opt;
  opt.allow_subgroups = std::strcmp(tier, "none") != 0;
  opt.max_chunk_bytes = chunk_bytes;
  HEARTH_ASSIGN(auto be, WebGpuBackend::create(opt));
  if (opt.allow_subgroups && be->tier() != "subgroups") return err("the device has no subgroups: tier ", be->tier());
  return be;
}

}  // namespace

// Returns the number of failures (-1: no device, bad arguments).
extern "C" EMSCRIPTEN_KEEPALIVE int hearth_ops_test(const char* group, const char* tier) {
  auto be = backend(tier, 0);
  auto small = backend(tier, 4096);  // a few rows per weight chunk
  if (!be.ok() || !small.ok()) {
    std::printf("no WebGPU backend: %s\n", (be.ok() ? small : be).message().c_str());
    return -1;
  }
  parity::Ctx c;
  c.be = be->get();
  c.chunked = small->get();
  c.label = std::string("webgpu ") + (*be)->tier();
  if (!parity::run_group(group, c)) {
    std::printf("unknown group %s\n", group);
    return -1;
  }
  const Backend::Counters k = (*be)->counters();
  std::printf("%s [%s]: %d checks, %d failures, %llu pipelines\n", group, (*be)->tier().c_str(), c.checks, c.failures,
              static_cast<unsigned long long>(k.pipelines));
  std::fflush(stdout);
  return c.failures;
}

extern "C" EMSCRIPTEN_KEEPALIVE int hearth_ops_perf(const char* tier, int reps) {
  auto be = backend(tier, 0);
  if (!be.ok()) {
    std::printf("no WebGPU backend: %s\n", be.message().c_str());
    return -1;
  }
  parity::run_perf(**be, reps);
  std::fflush(stdout);
  return (*be)->status().ok() ? 0 : 1;
}
