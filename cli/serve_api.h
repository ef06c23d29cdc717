// The OpenAI-compatible API of `hearth serve` as data: a request body read into what the engine
// needs (with errors that name the field), and the response bodies and stream chunks written
// back. No HTTP here (cmd_serve.cpp has that).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "chat/chat_template.h"
#include "engine/sampler.h"
#include "engine/structured_output.h"
#include "formats/json.h"

namespace hearth::cli {

// A /v1/chat/completions or /v1/completions request.
struct ApiRequest {
  bool chat = false;
  bool stream = false;
  std::string model;                  // as the client named it ("" = the base model)
  std::vector<ChatMessage> messages;  // chat
  std::string prompt;                 // completions (text)
  std::vector<int32_t> prompt_ids;    // completions given as token ids
  std::optional<int64_t> max_tokens;  // unset: as many as the context holds
  SamplingParams sampling;
  std::vector<std::string> stop;
  bool ignore_eos = false;            // (extension) generate past the model's end-of-text ids
  std::optional<ResponseFormat> format;
};

// Reads a request body. `defaults` are the model's sampling defaults. An error's message names
// the field (`messages[1].role: ...`); `param` (may be null) receives the field's name.
Result<ApiRequest> parse_api_request(const std::string& body, bool chat, const SamplingParams& defaults,
                                     std::string* param);

// {"error": {"message", "type", "param", "code"}}
std::string api_error_body(const std::string& message, const std::string& type, const std::string& param = "");

struct ApiResult {
  std::string id, model, text, finish_reason;  // finish_reason: "stop" | "length"
  int64_t created = 0, prompt_tokens = 0, completion_tokens = 0;
};
// The whole response of a request that did not stream.
std::string api_response_body(const ApiResult& r, bool chat);
// One server-sent event of a stream ("data: {...}\n\n"): a piece of text, or with
// `finish_reason` set the last chunk (chat: an empty delta), or with `first` the chat role chunk.
std::string api_stream_event(const ApiResult& r, bool chat, const std::string& piece, bool first,
                             const std::string& finish_reason);
// GET /v1/models for the base model and the adapters.
std::string api_models_body(const std::string& base, const std::vector<std::string>& adapters, int64_t created);

}  // namespace hearth::cli
