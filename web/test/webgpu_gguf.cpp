// GGUF's Q8_0 / Q4_0 files on WebGPU (linked into the hearth_webgpu_train_test module, run by
// web/test/train_webgpu.test.mjs): perplexity over pycoder-6m's 32 eval windows against
// llama.cpp's figures for the same files (KV f32, flash attention off), within 0.05 %, as the
// native gguf_model_test checks on the CPU (minutes on SwiftShader: HEARTH_TRAIN_FULL=1 runs
// it); and on two windows, the WebGPU figure against the CPU backend's.
#include <gtest/gtest.h>

#include "engine/engine.h"
#include "formats/safetensors.h"
#include "ops/webgpu/webgpu_backend.h"
#include "test_util.h"

namespace hearth {

extern bool g_webgpu_test_subgroups;  // webgpu_train.cpp: the tier under test

namespace {

double ppl_on(const std::string& path, int64_t max_windows, std::unique_ptr<Backend> be) {
  auto f = SafetensorsFile::open(test::fixture("pycoder-6m/eval_windows.safetensors"));
  EXPECT_TRUE(f.ok()) << f.message();
  if (!f.ok()) return 0;
  const TensorInfo& t = f->tensors().at(0);
  const int64_t n = std::min(t.shape[0], max_windows), len = t.shape[1];
  std::vector<int32_t> ids(size_t(n * len));
  EXPECT_TRUE(t.read_bytes(0, ids.size() * 4, ids.data()).ok());
  LoadOptions opt;
  opt.max_ctx = len;
  opt.max_prefill_t = len;
  auto m = Model::load(path, opt, std::move(be));
  EXPECT_TRUE(m.ok()) << m.message();
  if (!m.ok()) return 0;
  auto r = evaluate_perplexity(**m, ids, n, len);
  EXPECT_TRUE(r.ok()) << r.message();
  if (!r.ok()) return 0;
  std::printf("%s: %s, %lld windows: perplexity %.4f\n", (*m)->backend().name().c_str(), path.c_str(), (long long)n,
              r->ppl);
  return r->ppl;
}

std::unique_ptr<Backend> webgpu() {
  WebGpuOptions wo;
  wo.allow_subgroups = g_webgpu_test_subgroups;
  auto be = WebGpuBackend::create(wo);
  EXPECT_TRUE(be.ok()) << be.message();
  if (!be.ok()) return make_cpu_backend(1);
  return std::move(*be);
}

TEST(WebGpuGguf, PerplexityEqualsLlamaCpp) {
  EXPECT_NEAR(ppl_on(test::fixture("gguf/pycoder-6m-q8_0.gguf"), 32, webgpu()), 8.6233, 8.6233 * 5e-4);
  EXPECT_NEAR(ppl_on(test::fixture("gguf/pycoder-6m-q4_0.gguf"), 32, webgpu()), 8.8541, 8.8541 * 5e-4);
}

// Two windows: within 0.4 % of the CPU backend (whose 32-window figures gguf_model_test checks
// against llama.cpp). The activations' Q8_0 rounding flips here and there with the float order,
// which moves a figure over so few windows: measured 0.19 % (Q8_0: 6.0676 against 6.0561) and
// 0.08 % (Q4_0) on SwiftShader, where the 32 windows agree within 0.01 % (8.6227, CPU 8.6234).
TEST(WebGpuGguf, TwoWindowsMatchTheCpu) {
  for (const char* f : {"gguf/pycoder-6m-q8_0.gguf", "gguf/pycoder-6m-q4_0.gguf"}) {
    const double cpu = ppl_on(test::fixture(f), 2, make_cpu_backend(1));
    EXPECT_NEAR(ppl_on(test::fixture(f), 2, webgpu()), cpu, cpu * 4e-3) << f;
  }
}

}  // namespace
}  // namespace hearth
