// WGSL composition (see shaders.h).
#include "ops/webgpu/shaders.h"

#include <cstring>

namespace hearth::webgpu {

struct EmbeddedWgsl {
  const char* name;
  const char* text;
};
// Generated at build time from wgsl/*.wgsl (part.cmake, embed_wgsl.cmake).
extern const EmbeddedWgsl kEmbeddedWgsl[];
extern const size_t kEmbeddedWgslCount;

const char* wgsl_source(const std::string& name) {
  for (size_t i = 0; i < kEmbeddedWgslCount; ++i) {
    if (name == kEmbeddedWgsl[i].name) return kEmbeddedWgsl[i].text;
  }
  return nullptr;
}

namespace {
bool ident_char(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; }
}  // namespace

std::string rename_identifiers(const std::string& text, const std::vector<std::pair<std::string, std::string>>& map) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (!ident_char(text[i])) {
      out += text[i++];
      continue;
    }
    size_t j = i;
    while (j < text.size() && ident_char(text[j])) ++j;
    std::string id = text.substr(i, j - i);
    const std::string* to = nullptr;
    for (const auto& [from, repl] : map) {
      if (from == id) to = &repl;
    }
    out += to ? *to : id;
    i = j;
  }
  return out;
}

Result<std::string> compose_wgsl(const ShaderSpec& spec, const std::vector<Binding>& bindings) {
  std::vector<std::string> pieces = {"common"};
  if (spec.reduce) pieces.push_back(spec.subgroups ? "reduce_subgroup" : "reduce_workgroup");
  if (*spec.weights) {
    pieces.push_back("weights_common");
    pieces.push_back(std::string("weights_") + spec.weights);
  }
  if (*spec.prelude) pieces.push_back(spec.prelude);
  pieces.push_back(spec.kernel);
  std::string s;
  if ((spec.reduce && spec.subgroups) || spec.needs_subgroups) s += "enable subgroups;\n";
  s += spec.consts.view();
  // The dispatch's parameters: the kernel's `struct Params` (kernel_params.h mirrors it).
  s += "@group(0) @binding(0) var<storage, read> P: Params;\n";
  std::vector<std::pair<std::string, std::string>> names;
  int slot = 0;
  for (size_t i = 0; i < bindings.size(); ++i) {
    const Binding& b = bindings[i];
    const std::string type =
        b.words ? "array<u32>" : b.weights ? "array<vec4<u32>>" : b.vec4 ? "array<vec4<f32>>" : "array<f32>";
    const std::string var = "B" + std::to_string(i + 1);
    if (b.buffer == 0) {
      // Named by the kernel but unused by this specialization: a private stand-in, no binding.
      s += "var<private> " + var + ": " + (b.words ? "array<u32, 1>" : b.weights ? "array<vec4<u32>, 1>" : b.vec4 ? "array<vec4<f32>, 1>" : "array<f32, 1>") + ";\n";
    } else {
      s += "@group(0) @binding(" + std::to_string(++slot) + ") var<storage, " + (b.write ? "read_write" : "read") + "> " +
           var + ": " + type + ";\n";
    }
    for (const auto& n : b.names) names.emplace_back("buf_" + n, var);
  }
  std::string body;
  for (const auto& p : pieces) {
    const char* text = wgsl_source(p);
    if (!text) return err("WebGPU backend: no embedded shader wgsl/", p, ".wgsl");
    body += "\n// ---- ";
    body += p;
    body += ".wgsl\n";
    body += text;
  }
  return s + rename_identifiers(body, names);
}

}  // namespace hearth::webgpu
