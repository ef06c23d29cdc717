// ChatSession: a multi-turn conversation over one Engine. Each turn renders the whole
// conversation with the model's chat template, tokenizes it and asks the engine for a reply;
// the engine reuses the KV cache of the longest prefix it already holds (engine.h), so a turn
// prefills only what is new (a template that re-renders history differently, such as Qwen3
// dropping old reasoning, costs a partial re-prefill, never a wrong cache).
// A conversation longer than the context fails with an error that says so, or, with
// ContextOverflow::DropOldest, keeps the system message and drops the oldest turns until the
// prompt and the requested new tokens fit.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "chat/chat_template.h"
#include "engine/engine.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

enum class ContextOverflow { Error, DropOldest };
Result<ContextOverflow> parse_context_overflow(const std::string& s);  // "error" | "drop-oldest"

// The conversation `messages` rendered and tokenized so that its tokens plus `reserve` (new
// tokens to come) fit in `max_ctx`: as it is, or with `overflow` DropOldest, without its oldest
// messages after any leading system message (whole turns: a user message and what follows it up
// to the next user message), never the last user message. `dropped` (may be null) receives how
// many messages were left out.
Result<std::vector<int32_t>> render_chat_to_fit(const ChatTemplate& tmpl, const Tokenizer& tok,
                                                const std::vector<ChatMessage>& messages, const ChatOptions& options,
                                                int64_t max_ctx, int64_t reserve, ContextOverflow overflow,
                                                size_t* dropped = nullptr);

class ChatSession {
 public:
  ChatSession(Engine& engine, const Tokenizer& tokenizer, ChatTemplate tmpl, ChatOptions options = {});

  void set_system(std::string system) { system_ = std::move(system); }
  void set_overflow(ContextOverflow o) { overflow_ = o; }
  // Adds a user message and generates the assistant's reply. `params` supplies sampling, max
  // tokens, stop ids and the adapter (its prompt is ignored). on_text receives the reply's
  // text as it streams; returning false stops (the reply so far is kept). With DropOldest, turns
  // that no longer fit are forgotten for good. A turn under another adapter (or scale) than the
  // last one re-prefills (the engine's prefix reuse keys its cache by adapter).
  Result<std::string> send(const std::string& user, GenerateRequest params,
                           const std::function<bool(const std::string&)>& on_text = nullptr,
                           std::vector<std::string> stop_strings = {});
  // Forgets the conversation (keeps the system message).
  void reset();
  const std::vector<ChatMessage>& messages() const { return messages_; }
  // Tokens prefilled in the last turn (the rest of its prompt came from the cache).
  int64_t last_new_tokens() const { return last_.n_prompt - last_.n_reused; }
  const GenerateResult& last_result() const { return last_; }

 private:
  Engine& engine_;
  const Tokenizer& tok_;
  ChatTemplate tmpl_;
  ChatOptions options_;
  ContextOverflow overflow_ = ContextOverflow::Error;
  std::string system_;
  std::vector<ChatMessage> messages_;
  GenerateResult last_;
};

// Renders one user message (after an optional system message) with the generation prompt.
Result<std::string> format_chat_prompt(const ChatTemplate& tmpl, const std::string& user, const std::string& system,
                                       const ChatOptions& options);

}  // namespace hearth
