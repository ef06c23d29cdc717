// ChatSession: template render -> tokenize (dropping old turns if asked) -> generate with the
// engine's prefix reuse.
#include "engine/chat_session.h"

#include "engine/text_stream.h"

namespace hearth {

Result<ContextOverflow> parse_context_overflow(const std::string& s) {
  if (s == "error") return ContextOverflow::Error;
  if (s == "drop-oldest") return ContextOverflow::DropOldest;
  return err("context overflow: \"", s, "\" is not one of error, drop-oldest");
}

Result<std::vector<int32_t>> render_chat_to_fit(const ChatTemplate& tmpl, const Tokenizer& tok,
                                                const std::vector<ChatMessage>& messages, const ChatOptions& options,
                                                int64_t max_ctx, int64_t reserve, ContextOverflow overflow,
                                                size_t* dropped) {
  std::vector<ChatMessage> conv = messages;
  const size_t first = !conv.empty() && conv[0].role == "system" ? 1 : 0;
  size_t n_dropped = 0;
  while (true) {
    HEARTH_ASSIGN(std::string prompt, tmpl.render(conv, options));
    std::vector<int32_t> ids = tok.encode(prompt);
    if (ids.empty()) return err("the chat prompt encodes to no tokens");
    const int64_t need = int64_t(ids.size()) + std::max<int64_t>(0, reserve - 1);
    if (need <= max_ctx) {
      if (dropped) *dropped = n_dropped;
      return ids;
    }
    // The oldest turn: from the first message after the system message up to the next user
    // message; the last user message always stays.
    size_t end = first + 1;
    while (end < conv.size() && conv[end].role != "user") ++end;
    if (overflow == ContextOverflow::Error || end >= conv.size()) {
      return err("the conversation needs ", ids.size(), " prompt tokens + ", reserve, " new but max_ctx is ", max_ctx,
                 overflow == ContextOverflow::Error
                     ? ": start over, raise max_ctx, ask for fewer tokens, or let the oldest turns be dropped"
                     : " even with only the system message and the last user message: raise max_ctx or ask for "
                       "fewer tokens");
    }
    n_dropped += end - first;
    conv.erase(conv.begin() + long(first), conv.begin() + long(end));
  }
}

ChatSession::ChatSession(Engine& engine, const Tokenizer& tokenizer, ChatTemplate tmpl, ChatOptions options)
    : engine_(engine), tok_(tokenizer), tmpl_(std::move(tmpl)), options_(std::move(options)) {}

void ChatSession::reset() {
  messages_.clear();
  engine_.forget_cache();
}

Result<std::string> format_chat_prompt(const ChatTemplate& tmpl, const std::string& user, const std::string& system,
                                       const ChatOptions& options) {
  std::vector<ChatMessage> msgs;
  if (!system.empty()) msgs.push_back({"system", system});
  msgs.push_back({"user", user});
  return tmpl.render(msgs, options);
}

Result<std::string> ChatSession::send(const std::string& user, GenerateRequest params,
                                      const std::function<bool(const std::string&)>& on_text,
                                      std::vector<std::string> stop_strings) {
  std::vector<ChatMessage> conv;
  if (!system_.empty()) conv.push_back({"system", system_});
  conv.insert(conv.end(), messages_.begin(), messages_.end());
  conv.push_back({"user", user});
  size_t dropped = 0;
  HEARTH_ASSIGN(params.prompt, render_chat_to_fit(tmpl_, tok_, conv, options_, engine_.model().max_ctx(),
                                                  params.max_new_tokens, overflow_, &dropped));
  params.keep_cache = false;
  params.reuse_prefix = true;
  const std::vector<int32_t> stops = params.stop_ids.empty() ? engine_.default_stop_ids() : params.stop_ids;
  TextStream stream(tok_, stops, std::move(stop_strings));
  std::string reply;
  auto r = engine_.generate(params, [&](int32_t id) {
    std::string piece = stream.push(id);
    reply += piece;
    bool go = true;
    if (!piece.empty() && on_text) go = on_text(piece);
    return go && !stream.done();
  });
  if (!r.ok()) return r.error();
  std::string tail = stream.finish();
  reply += tail;
  if (!tail.empty() && on_text) on_text(tail);
  last_ = *r;
  messages_.erase(messages_.begin(), messages_.begin() + long(dropped));
  messages_.push_back({"user", user});
  messages_.push_back({"assistant", reply});
  return reply;
}

}  // namespace hearth
