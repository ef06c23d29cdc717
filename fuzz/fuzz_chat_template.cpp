// Fuzz target: the chat-template engine. The input is a template; it is parsed and rendered
// over a fixed conversation (with tools and a reasoning turn), within small limits so that
// each run is quick. Also the ChatTemplate front door with the same source.
#include <cstddef>
#include <cstdint>
#include <string>

#include "chat/chat_template.h"
#include "chat/jinja.h"
#include "core/warning.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string src(reinterpret_cast<const char*>(data), size);
  auto prog = hearth::jinja::parse_template(src);
  if (!prog.ok()) return 0;
  static const hearth::Json messages = *hearth::parse_json(
      R"([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi <b>&</b>"},
          {"role": "assistant", "content": "<think>\nr\n</think>\n\nA1", "tool_calls":
           [{"function": {"name": "f", "arguments": {"x": [1, 2.5, null, true]}}}]},
          {"role": "tool", "content": "42"}, {"role": "user", "content": "Q2 \u00e9\u4e2d"}])",
      "messages");
  static const hearth::Json tools = *hearth::parse_json(
      R"([{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])", "tools");
  hearth::jinja::Globals g;
  hearth::jinja::add_builtin_globals(g);
  g.emplace_back("messages", hearth::jinja::from_json(messages));
  g.emplace_back("tools", hearth::jinja::from_json(tools));
  g.emplace_back("bos_token", hearth::jinja::Value::string("<s>"));
  g.emplace_back("eos_token", hearth::jinja::Value::string("</s>"));
  g.emplace_back("add_generation_prompt", hearth::jinja::Value::boolean(true));
  hearth::jinja::RenderLimits limits;
  limits.max_steps = 200'000;
  limits.max_work_bytes = int64_t(32) << 20;
  limits.max_string_bytes = int64_t(1) << 20;
  limits.max_items = int64_t(1) << 16;
  limits.max_output_bytes = int64_t(1) << 20;
  (void)hearth::jinja::render(**prog, g, limits);
  return 0;
}
