// ChatSession: template render -> tokenize -> reuse the cached prefix -> generate.
#include "engine/chat_session.h"

#include "engine/text_stream.h"

namespace hearth {

ChatSession::ChatSession(Engine& engine, const Tokenizer& tokenizer, ChatTemplate tmpl, ChatOptions options)
    : engine_(engine), tok_(tokenizer), tmpl_(std::move(tmpl)), options_(std::move(options)) {}

void ChatSession::reset() {
  messages_.clear();
  fed_.clear();
  engine_.model().reset();
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
  HEARTH_ASSIGN(std::string prompt, tmpl_.render(conv, options_));
  std::vector<int32_t> ids = tok_.encode(prompt);
  if (ids.empty()) return err("the chat prompt encodes to no tokens");
  // The cache is valid up to the longest common prefix; keep at least one token to feed.
  Model& m = engine_.model();
  if (m.n_past() != int64_t(fed_.size())) fed_.clear();  // someone else used the model
  if (params.adapter != fed_adapter_ || params.adapter_scale != fed_scale_) fed_.clear();
  size_t keep = 0;
  while (keep < fed_.size() && keep < ids.size() && fed_[keep] == ids[keep]) ++keep;
  if (keep == ids.size()) --keep;
  HEARTH_CHECK(m.truncate(int64_t(keep)));
  fed_.resize(keep);
  params.prompt.assign(ids.begin() + long(keep), ids.end());
  params.keep_cache = true;
  last_new_ = int64_t(params.prompt.size());
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
  if (!r.ok()) {
    fed_.clear();
    m.reset();
    return r.error();
  }
  std::string tail = stream.finish();
  reply += tail;
  if (!tail.empty() && on_text) on_text(tail);
  last_ = *r;
  fed_adapter_ = params.adapter;
  fed_scale_ = params.adapter_scale;
  fed_.insert(fed_.end(), params.prompt.begin(), params.prompt.end());
  if (!r->ids.empty()) fed_.insert(fed_.end(), r->ids.begin(), r->ids.end() - 1);
  messages_.push_back({"user", user});
  messages_.push_back({"assistant", reply});
  return reply;
}

}  // namespace hearth
