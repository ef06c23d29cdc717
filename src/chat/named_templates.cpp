// The built-in chat formats (see named_templates.h). Each is a Jinja template over the same
// variables as a checkpoint's own (messages, add_generation_prompt, enable_thinking, bos_token),
// written from the formats' published descriptions; llama2 uses the built-in Llama 2 renderer.
#include "chat/named_templates.h"

namespace hearth {

namespace {

// <|im_start|>role\ncontent<|im_end|>\n per message, then <|im_start|>assistant\n.
const char* const kChatml = R"({%- for message in messages -%}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%})";

// Llama 3: BOS, then a header and the trimmed content per message, each closed by <|eot_id|>.
const char* const kLlama3 = R"({{- bos_token -}}
{%- for message in messages -%}
{{- '<|start_header_id|>' + message.role + '<|end_header_id|>\n\n' + message.content | trim + '<|eot_id|>' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|start_header_id|>assistant<|end_header_id|>\n\n' -}}{%- endif -%})";

// Qwen3: ChatML; an assistant turn's <think> block is kept only after the last user message,
// and enable_thinking=false opens the reply with an empty think block.
const char* const kQwen3 = R"({%- set ns = namespace(last_user=-1) -%}
{%- for message in messages -%}
{%- if message.role == 'user' -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}
{%- endfor -%}
{%- for message in messages -%}
{%- set content = message.content -%}
{%- if message.role == 'assistant' -%}
{%- set reasoning = '' -%}
{%- if '</think>' in content -%}
{%- set reasoning = content.split('</think>')[0].split('<think>')[-1].strip('\n') -%}
{%- set content = content.split('</think>')[-1].lstrip('\n') -%}
{%- endif -%}
{%- if loop.index0 > ns.last_user and reasoning -%}
{{- '<|im_start|>assistant\n<think>\n' + reasoning + '\n</think>\n\n' + content + '<|im_end|>\n' -}}
{%- else -%}
{{- '<|im_start|>assistant\n' + content + '<|im_end|>\n' -}}
{%- endif -%}
{%- else -%}
{{- '<|im_start|>' + message.role + '\n' + content + '<|im_end|>\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}
{{- '<|im_start|>assistant\n' -}}
{%- if enable_thinking is defined and enable_thinking is false -%}{{- '<think>\n\n</think>\n\n' -}}{%- endif -%}
{%- endif -%})";

// A transcript any text model can continue: the system text, then "User: ..." and
// "Assistant: ..." lines; the reply ends where the model starts the next "User:" line.
const char* const kPlain = R"({%- for message in messages -%}
{%- if message.role == 'system' -%}{{- message.content + '\n\n' -}}
{%- elif message.role == 'user' -%}{{- 'User: ' + message.content + '\n' -}}
{%- else -%}{{- 'Assistant:' + (message.content if message.content.startswith(' ') else ' ' + message.content) + '\n\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- 'Assistant:' -}}{%- endif -%})";

}  // namespace

const std::vector<NamedTemplate>& named_templates() {
  static const std::vector<NamedTemplate> t = {
      {"chatml", "<|im_start|>role ... <|im_end|> (Qwen2/2.5 and many others)", kChatml, "", "<|im_end|>", {}},
      {"llama2", "[INST] ... [/INST] (Llama 2 chat)", "", "<s>", "</s>", {}},
      {"llama3", "<|start_header_id|>role<|end_header_id|> ... <|eot_id|> (Llama 3.x)", kLlama3,
       "<|begin_of_text|>", "<|eot_id|>", {}},
      {"qwen3", "ChatML with <think> blocks and enable_thinking (Qwen3)", kQwen3, "", "<|im_end|>", {}},
      {"plain", "a \"User: ... / Assistant: ...\" transcript, for models without a chat format", kPlain, "", "",
       {"\nUser:"}},
  };
  return t;
}

const NamedTemplate* find_named_template(const std::string& name) {
  for (const auto& t : named_templates())
    if (t.name == name) return &t;
  return nullptr;
}

std::string named_template_list() {
  std::string s;
  for (const auto& t : named_templates()) s += (s.empty() ? "" : ", ") + t.name;
  return s;
}

}  // namespace hearth
