// The per-op parity harness (tests/parity/) on the CPU backend: its SIMD, threaded kernels
// against the scalar references, every group of cases. Natively and compiled to wasm (simd128).
#include <gtest/gtest.h>

#include "ops/backend.h"
#include "parity/parity.h"

namespace hearth {
namespace {

class Parity : public ::testing::TestWithParam<std::string> {};

TEST_P(Parity, CpuKernelsMatchTheScalarReference) {
  auto be = make_cpu_backend(3);
  parity::Ctx c;
  c.be = be.get();
  c.label = "cpu";
  ASSERT_TRUE(parity::run_group(GetParam(), c));
  if (c.checks == 0) GTEST_SKIP() << "no " << GetParam() << " cases apply to the CPU backend (a GPU backend's own op)";
  EXPECT_EQ(c.failures, 0) << c.failures << " of " << c.checks << " checks failed (see the log above)";
}

INSTANTIATE_TEST_SUITE_P(Groups, Parity, ::testing::ValuesIn(parity::groups()),
                         [](const ::testing::TestParamInfo<std::string>& i) { return i.param; });

}  // namespace
}  // namespace hearth
