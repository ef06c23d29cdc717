// Built-in chat formats, chosen by name where a checkpoint has no template of its own (or the
// user wants another): chatml, llama2, llama3, qwen3, and plain (a completion-style
// "User: ... / Assistant: ..." transcript for models without any chat format).
#pragma once
#include <string>
#include <vector>

namespace hearth {

struct NamedTemplate {
  std::string name;
  std::string description;
  std::string jinja;                      // "" for llama2 (the built-in Llama 2 renderer)
  std::string bos_token, eos_token;       // used when no tokenizer_config.json gives them
  std::vector<std::string> stop_strings;  // where a reply ends in this format (plain: "\nUser:")
};

// All of them, in a fixed order.
const std::vector<NamedTemplate>& named_templates();
// One by name; nullptr if there is none.
const NamedTemplate* find_named_template(const std::string& name);
// "chatml, llama2, llama3, qwen3, plain"
std::string named_template_list();

}  // namespace hearth
