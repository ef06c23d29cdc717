// The training fixtures (tests/train_fixture.h: the PyTorch runs of fixtures/train) on WebGPU,
// built as a wasm module (web/web.cmake, target hearth_webgpu_train_test) whose export
// web/test/train_webgpu.test.mjs calls on Dawn (SwiftShader in CI): hearth_train_test(filter,
// tier) runs the GoogleTest cases that match `filter` with their backends on tier "subgroups"
// or "none", and returns the number of failed cases (-1: bad arguments).
#include <emscripten.h>
#include <gtest/gtest.h>

#include <cstring>

#include "ops/webgpu/webgpu_backend.h"
#include "train_fixture.h"

namespace hearth {

bool g_webgpu_test_subgroups = true;  // the tier under test (also webgpu_gguf.cpp's)

namespace {

using namespace train_fixture;

bool& g_subgroups = g_webgpu_test_subgroups;

// A WebGPU backend of the tier under test (an error fails the case).
MakeBackend webgpu() {
  return []() -> std::unique_ptr<Backend> {
    WebGpuOptions opt;
    opt.allow_subgroups = g_subgroups;
    auto be = WebGpuBackend::create(opt);
    if (!be.ok()) {
      ADD_FAILURE() << "no WebGPU backend: " << be.message();
      return make_cpu_backend(1);
    }
    return std::move(*be);
  };
}

TEST(WebGpuTrainFixture, PretrainGptQwen2MatchesPyTorch) { check_pretrain(webgpu()); }

// Decoding on SwiftShader is slow (around a second a token on 2 cores): the greedy ids with the
// trained adapter and without it, not the base's before training or the saved adapter's (the
// CPU's test has those).
TEST(WebGpuTrainFixture, LoraQwen2TinyMatchesPyTorchAndHotSwaps) { check_lora(webgpu(), false); }

TEST(WebGpuTrainFixture, QLoraOnAnInt4BaseTrains) { check_qlora_int4(webgpu()); }

}  // namespace
}  // namespace hearth

extern "C" EMSCRIPTEN_KEEPALIVE int hearth_train_test(const char* filter, const char* tier) {
  if (!filter || !tier) return -1;
  static bool initialized = false;
  if (!initialized) {
    int argc = 1;
    char name[] = "hearth_webgpu_train_test";
    char* argv[] = {name, nullptr};
    testing::InitGoogleTest(&argc, argv);
    initialized = true;
  }
  hearth::g_subgroups = std::strcmp(tier, "none") != 0;
  GTEST_FLAG_SET(filter, filter);
  const int rc = RUN_ALL_TESTS();
  std::fflush(stdout);
  return rc == 0 ? 0 : testing::UnitTest::GetInstance()->failed_test_count();
}
