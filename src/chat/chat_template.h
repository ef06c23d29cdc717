// Chat templates: turns a conversation into the prompt text the model was trained on, exactly as
// Hugging Face's tokenizer.apply_chat_template(messages, tokenize=False,
// add_generation_prompt=True) would.
//
// Approach: a real Jinja2 subset (jinja*.cpp) renders the checkpoint's own template, with
// transformers' settings (trim_blocks, lstrip_blocks, loop controls, its tojson, the
// raise_exception and strftime_now globals, special tokens such as bos_token/eos_token as
// variables, tools=None and documents=None unless given). So Qwen2.5/Qwen3 (incl.
// enable_thinking), Llama 3/3.1/3.2 (date and tool blocks) and other templates render from
// their source. A template using a construct outside the subset fails to load with an error
// naming it (e.g. "unsupported Jinja construct '{% include %}'").
// Checkpoints without any template: Llama 2 (LlamaTokenizer with <s>/</s>) is recognized by
// family and rendered in its [INST] format (see below); anything else is an error that says so.
// A built-in format can be chosen by name instead (named_templates.h: chatml, llama2, llama3,
// qwen3, plain).
//
// Where the template comes from (HF's rules): tokenizer_config.json "chat_template" as a string,
// or a list of {name, template} (the one named "default", or "tool_use" when tools are given,
// or ChatOptions::template_name); else a chat_template.jinja file next to tokenizer_config.json.
//
// Tokenizing the result: the text already holds BOS and the other special tokens where the
// template puts them; encode it with add_special_tokens=false (special tokens parsed as such).
//
// Multi-turn with a KV cache (the engine keeps the cache between turns):
//   std::string cached = prompt_text + generated_text;   // what the KV cache holds, as text
//   conversation.push_back({"assistant", reply});          // reply = generated text, no EOS
//   conversation.push_back({"user", next_question});
//   auto d = tmpl.next_turn(conversation, cached, options);
//   if (d->keep_chars == cached.size()) prefill(tokenize(d->append));  // the usual case
//   else { roll the cache back to the last token boundary b <= d->keep_chars;
//          prefill(tokenize(d->prompt.substr(b))); }   // the template re-rendered history
// The second case happens when a template renders past turns differently from how they were
// generated: Qwen3 drops the <think>...</think> block of earlier assistant turns, so the cache
// is rolled back to the start of that reply. After the turn, cached = d->prompt + new reply.
//
// Llama 2 (built in, no template in the files): an optional first system message is folded into
// the first user turn; roles must then alternate user/assistant:
//   <s>[INST] <<SYS>>\n{system}\n<</SYS>>\n\n{user} [/INST] {assistant} </s><s>[INST] {user} [/INST]
// (each content stripped of surrounding whitespace; no generation prompt is added, the prompt
// already ends with [/INST], as in Meta's reference chat format.)
#pragma once
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth {

namespace jinja {
struct Program;
}

struct ChatMessage {
  std::string role, content;
};

struct ChatOptions {
  bool add_generation_prompt = true;
  // Passed to the template as `enable_thinking` (Qwen3: false adds an empty think block to the
  // generation prompt). true renders exactly like not passing it at all for Qwen3.
  bool enable_thinking = true;
  // For list-form templates: which one to use ("" = HF's choice: "default", or "tool_use"
  // when a non-null `tools` variable is given and such a template exists).
  std::string template_name;
  // More template variables as JSON: tools (a list of function schemas), documents,
  // date_string, custom flags... They override the defaults (tools=None, documents=None).
  std::vector<std::pair<std::string, Json>> variables;
};

// The text to prefill for the next turn (see the header comment).
struct PromptDelta {
  std::string prompt;     // the full prompt for the conversation so far
  size_t keep_chars = 0;  // length of the prefix of the cached text that prompt starts with
  std::string append;     // prompt.substr(keep_chars)
};

// keep_chars = longest common prefix of cached_text and prompt (cut back to a UTF-8 character
// boundary); append = the rest of prompt.
PromptDelta prompt_delta(std::string_view cached_text, std::string prompt);

class ChatTemplate {
 public:
  enum class Kind { Jinja, Llama2 };

  // Reads tokenizer_config.json (and chat_template.jinja next to it, if the config has none).
  static Result<ChatTemplate> from_tokenizer_config_file(const std::string& path);
  // The template of a model path: a .gguf file's tokenizer.chat_template (with its special
  // tokens), a pack's stored tokenizer_config.json, or the folder's tokenizer_config.json.
  static Result<ChatTemplate> for_model(const std::string& path);
  // The tokenizer configuration of a model path, to choose and build its template from: a .gguf
  // file's tokenizer metadata as a tokenizer_config.json object, a pack's stored copy, or the
  // folder's tokenizer_config.json (nullopt when the folder or pack has none). `dir` is where chat_template.jinja
  // is looked for ("" for a GGUF file); `what` names the source in errors.
  struct ModelTokenizerConfig {
    std::optional<Json> config;
    std::string dir, what;
  };
  static Result<ModelTokenizerConfig> model_tokenizer_config(const std::string& path);
  // Same from a parsed config; `dir` is where to look for chat_template.jinja ("" = nowhere),
  // `what` names the source in errors.
  static Result<ChatTemplate> from_tokenizer_config(const Json& config, const std::string& dir,
                                                    const std::string& what = "tokenizer_config.json");
  // A template given directly (e.g. a --chat-template file). Special tokens (bos_token, ...)
  // come from `config` when given (a tokenizer_config.json object).
  static Result<ChatTemplate> from_jinja(const std::string& source, const Json* config = nullptr);
  // A built-in format by name (chatml, llama2, llama3, qwen3, plain); special tokens from
  // `config` when given, else the format's own.
  static Result<ChatTemplate> named(const std::string& name, const Json* config = nullptr);
  // --chat-template NAME|FILE: a built-in name, else a file holding a Jinja template.
  static Result<ChatTemplate> from_name_or_file(const std::string& name_or_path, const Json* config = nullptr);
  // Whether a tokenizer_config.json (with chat_template.jinja looked for in `dir`) gives a
  // template: its own, or a family recognized without one (Llama 2).
  static bool config_has_template(const Json& config, const std::string& dir);

  Result<std::string> render(const std::vector<ChatMessage>& messages, const ChatOptions& options = {}) const;
  // Messages as a JSON array of objects (extra keys such as tool_calls or reasoning_content
  // reach the template).
  Result<std::string> render_json(const Json& messages, const ChatOptions& options = {}) const;
  // Multi-turn: render(conversation) and its delta against what the cache holds.
  Result<PromptDelta> next_turn(const std::vector<ChatMessage>& conversation, std::string_view cached_text,
                                const ChatOptions& options = {}) const;

  Kind kind() const { return kind_; }
  // The Jinja source of the default template ("" for the built-in Llama 2 format).
  const std::string& source() const;
  const std::string& bos_token() const { return bos_; }
  const std::string& eos_token() const { return eos_; }
  // Where the template came from: "tokenizer_config.json", a built-in name, or a file path.
  const std::string& origin() const { return origin_; }
  // Text that ends a reply in this format besides the model's stop tokens (plain: "\nUser:").
  const std::vector<std::string>& stop_strings() const { return stop_strings_; }

 private:
  struct Named {
    std::string source;
    std::shared_ptr<const jinja::Program> program;
  };
  static Result<ChatTemplate> build(const Json* config, std::vector<std::pair<std::string, std::string>> sources,
                                    const std::string& what);
  Result<std::string> render_llama2(const Json& messages) const;

  Kind kind_ = Kind::Jinja;
  std::map<std::string, Named> templates_;  // by name; a single template is "default"
  std::vector<std::pair<std::string, Json>> special_tokens_;
  std::string bos_, eos_;
  std::string origin_ = "tokenizer_config.json";
  std::vector<std::string> stop_strings_;
};

}  // namespace hearth
