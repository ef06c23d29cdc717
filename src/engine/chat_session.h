// ChatSession: a multi-turn conversation over one Engine that keeps the KV cache between turns.
// Each turn renders the whole conversation with the model's chat template, tokenizes it, and
// feeds only the tokens after the longest prefix the cache already holds (a template that
// re-renders history differently, such as Qwen3 dropping old reasoning, costs a partial
// re-prefill, never a wrong cache).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

class ChatSession {
 public:
  ChatSession(Engine& engine, const Tokenizer& tokenizer, ChatTemplate tmpl, ChatOptions options = {});

  void set_system(std::string system) { system_ = std::move(system); }
  // Adds a user message and generates the assistant's reply. `params` supplies sampling, max
  // tokens, stop ids and the adapter (its prompt is ignored). on_text receives the reply's
  // text as it streams; returning false stops (the reply so far is kept). A turn under another
  // adapter (or scale) than the last one re-prefills: the cached keys and values were computed
  // under the old one.
  Result<std::string> send(const std::string& user, GenerateRequest params,
                           const std::function<bool(const std::string&)>& on_text = nullptr,
                           std::vector<std::string> stop_strings = {});
  // Forgets the conversation (keeps the system message).
  void reset();
  const std::vector<ChatMessage>& messages() const { return messages_; }
  // Tokens fed in the last turn (the rest came from the cache).
  int64_t last_new_tokens() const { return last_new_; }
  const GenerateResult& last_result() const { return last_; }

 private:
  Engine& engine_;
  const Tokenizer& tok_;
  ChatTemplate tmpl_;
  ChatOptions options_;
  std::string system_;
  std::vector<ChatMessage> messages_;
  std::vector<int32_t> fed_;  // exactly what the KV cache holds
  std::string fed_adapter_;   // the adapter (and scale) the cache was computed under
  float fed_scale_ = 1.0f;
  int64_t last_new_ = 0;
  GenerateResult last_;
};

// Renders one user message (after an optional system message) with the generation prompt.
Result<std::string> format_chat_prompt(const ChatTemplate& tmpl, const std::string& user, const std::string& system,
                                       const ChatOptions& options);

}  // namespace hearth
