// Every kernel parameter struct of kernel_params.h against the WGSL struct that mirrors it: the
// same members, names and types in the same order (the WGSL storage layout of 4-byte members is
// then the C++ one), and the elementwise op constants against ElementwiseOp.
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <sstream>
#include <string>

#include "ops/webgpu/kernel_params.h"

namespace hearth::webgpu {
namespace {

std::string read_wgsl(const std::string& stem) {
  std::ifstream f(std::string(HEARTH_SOURCE_DIR) + "/src/ops/webgpu/wgsl/" + stem + ".wgsl");
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

// The members of `struct name { ... }` in WGSL text as "name:type," (comments and spaces
// dropped), "" when there is no such struct.
std::string wgsl_layout(const std::string& text, const std::string& name) {
  const size_t at = text.find("struct " + name + " {");
  if (at == std::string::npos) return "";
  const size_t end = text.find('}', at);
  std::string body = text.substr(at, end - at);
  body = body.substr(body.find('{') + 1);
  std::string out, line;
  std::istringstream lines(body);
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find("//"));
    std::string compact;
    for (char ch : line) {
      if (!std::isspace(static_cast<unsigned char>(ch))) compact += ch;
    }
    if (compact.empty()) continue;
    if (compact.back() != ',') compact += ',';
    out += compact;
  }
  return out;
}

TEST(KernelParams, EveryWgslStructMirrorsItsCppStruct) {
  for (const ParamsMirror& m : kParamsMirrors) {
    const std::string text = read_wgsl(m.file);
    ASSERT_FALSE(text.empty()) << m.file << ".wgsl not found";
    std::string want(m.layout);
    // embed's parameters end with the runtime-sized array of token ids, which has no C++ member.
    if (std::string(m.file) == "embed") want += "ids:array<u32>,";
    EXPECT_EQ(wgsl_layout(text, m.wgsl_struct), want) << m.file << ".wgsl struct " << m.wgsl_struct;
  }
}

TEST(KernelParams, ElementwiseOpsAreNamedAlike) {
  const std::string text = read_wgsl("elementwise");
  EXPECT_NE(text.find("const OP_ADD = " + std::to_string(u32(ElementwiseOp::Add)) + "u;"), std::string::npos);
  EXPECT_NE(text.find("const OP_SWIGLU = " + std::to_string(u32(ElementwiseOp::SwiGLU)) + "u;"), std::string::npos);
  EXPECT_NE(text.find("const OP_COPY = " + std::to_string(u32(ElementwiseOp::Copy)) + "u;"), std::string::npos);
}

TEST(KernelParams, TheLayoutTestSeesAMismatch) {
  // The comparison itself: a member out of order is a different layout.
  EXPECT_NE(wgsl_layout("struct P {\n  b: u32,\n  a: f32,\n}", "P"), "a:f32,b:u32,");
  EXPECT_EQ(wgsl_layout("struct P {\n  a: f32,  // the first\n  b: array<Q, 3>,\n}", "P"), "a:f32,b:array<Q,3>,");
}

}  // namespace
}  // namespace hearth::webgpu
