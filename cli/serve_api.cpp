// OpenAI-style request parsing and response bodies for `hearth serve`.
#include "cli/serve_api.h"

#include <cmath>

namespace hearth::cli {

namespace {

Json num(double v) { return Json::number(v, v == std::floor(v) && std::fabs(v) < 9e15); }
Json str(const std::string& s) { return Json::string(s); }

// Typed readers over the body; errors name the field.
struct Body {
  const Json& j;
  std::string* param;
  Error bad(const std::string& key, const std::string& what) const {
    if (param) *param = key;
    return err(key, ": ", what);
  }
  Result<std::optional<double>> number(const std::string& key, double lo, double hi) const {
    const Json* v = j.find_non_null(key);
    if (!v) return std::optional<double>();
    if (!v->is_number()) return bad(key, "expected a number");
    if (!(v->as_double() >= lo && v->as_double() <= hi)) return bad(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return std::optional<double>(v->as_double());
  }
  Result<std::optional<int64_t>> integer(const std::string& key, int64_t lo, int64_t hi) const {
    const Json* v = j.find_non_null(key);
    if (!v) return std::optional<int64_t>();
    if (!v->is_number() || v->as_double() != std::floor(v->as_double())) return bad(key, "expected a whole number");
    if (v->as_double() < double(lo) || v->as_double() > double(hi))
      return bad(key, "must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    return std::optional<int64_t>(int64_t(v->as_double()));
  }
};

// Message content: a string, or a list of {type: "text", text} parts.
Result<std::string> content_text(const Json& c, const std::string& where, std::string* param) {
  if (c.is_string()) return c.as_string();
  if (c.is_null()) return std::string();
  if (!c.is_array()) {
    if (param) *param = where;
    return err(where, ": expected a string or a list of text parts");
  }
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    const Json* t = c[i].find_non_null("text");
    const Json* type = c[i].find_non_null("type");
    if (!t || !t->is_string() || (type && (!type->is_string() || type->as_string() != "text"))) {
      if (param) *param = where;
      return err(where, "[", i, "]: only text parts ({\"type\": \"text\", \"text\": ...}) are supported");
    }
    out += t->as_string();
  }
  return out;
}

}  // namespace

Result<ApiRequest> parse_api_request(const std::string& body, bool chat, const SamplingParams& defaults,
                                     std::string* param) {
  HEARTH_ASSIGN(Json j, parse_json(body, "request body"));
  if (!j.is_object()) return err("request body: expected a JSON object");
  Body b{j, param};
  ApiRequest r;
  r.chat = chat;
  r.sampling = defaults;
  if (const Json* m = j.find_non_null("model")) {
    if (!m->is_string()) return b.bad("model", "expected a string");
    r.model = m->as_string();
  }
  if (const Json* s = j.find_non_null("stream")) {
    if (!s->is_bool()) return b.bad("stream", "expected true or false");
    r.stream = s->as_bool();
  }
  if (chat) {
    const Json* msgs = j.find_non_null("messages");
    if (!msgs || !msgs->is_array() || msgs->size() == 0) return b.bad("messages", "expected a non-empty list of messages");
    for (size_t i = 0; i < msgs->size(); ++i) {
      const std::string where = "messages[" + std::to_string(i) + "]";
      const Json& m = (*msgs)[i];
      const Json* role = m.find_non_null("role");
      if (!m.is_object() || !role || !role->is_string()) return b.bad(where + ".role", "expected a role string");
      const std::string& ro = role->as_string();
      if (ro != "system" && ro != "user" && ro != "assistant" && ro != "developer" && ro != "tool")
        return b.bad(where + ".role", "\"" + ro + "\" is not one of system, developer, user, assistant, tool");
      const Json* c = m.find("content");
      HEARTH_ASSIGN(std::string text, content_text(c ? *c : Json(), where + ".content", param));
      r.messages.push_back({ro == "developer" ? "system" : ro, std::move(text)});
    }
  } else {
    const Json* p = j.find_non_null("prompt");
    if (!p) return b.bad("prompt", "missing");
    if (p->is_string()) {
      r.prompt = p->as_string();
    } else if (p->is_array() && p->size() == 1 && (*p)[0].is_string()) {
      r.prompt = (*p)[0].as_string();
    } else if (p->is_array() && p->size() > 0 && (*p)[0].is_number()) {
      for (const Json& x : p->as_array()) {
        if (!x.is_number() || x.as_double() < 0 || x.as_double() != std::floor(x.as_double()) || x.as_double() > 2147483647.0)
          return b.bad("prompt", "token ids must be whole numbers >= 0");
        r.prompt_ids.push_back(int32_t(x.as_double()));
      }
    } else {
      return b.bad("prompt", "expected a string, a list of one string, or a list of token ids");
    }
  }
  for (const char* key : {"max_completion_tokens", "max_tokens"}) {
    HEARTH_ASSIGN(auto mt, b.integer(key, 0, int64_t(1) << 24));
    if (mt) r.max_tokens = *mt;
  }
  HEARTH_ASSIGN(auto n, b.integer("n", 1, 1));
  (void)n;
  HEARTH_ASSIGN(auto temp, b.number("temperature", 0, 2));
  HEARTH_ASSIGN(auto top_p, b.number("top_p", 1e-9, 1));
  HEARTH_ASSIGN(auto top_k, b.integer("top_k", 0, int64_t(1) << 30));
  HEARTH_ASSIGN(auto min_p, b.number("min_p", 0, 1));
  HEARTH_ASSIGN(auto pres, b.number("presence_penalty", -2, 2));
  HEARTH_ASSIGN(auto freq, b.number("frequency_penalty", -2, 2));
  HEARTH_ASSIGN(auto rep, b.number("repetition_penalty", 1e-6, 1e6));
  HEARTH_ASSIGN(auto seed, b.integer("seed", 0, (int64_t(1) << 53)));
  if (temp) r.sampling.temperature = float(*temp);
  if (top_p) r.sampling.top_p = float(*top_p);
  if (top_k) r.sampling.top_k = int(*top_k);
  if (min_p) r.sampling.min_p = float(*min_p);
  if (pres) r.sampling.presence_penalty = float(*pres);
  if (freq) r.sampling.frequency_penalty = float(*freq);
  if (rep) r.sampling.repetition_penalty = float(*rep);
  if (seed) r.sampling.seed = uint64_t(*seed);
  if (const Json* s = j.find_non_null("stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->as_string());
    } else if (s->is_array() && s->size() <= 16) {
      for (const Json& x : s->as_array()) {
        if (!x.is_string()) return b.bad("stop", "expected a string or a list of up to 16 strings");
        r.stop.push_back(x.as_string());
      }
    } else {
      return b.bad("stop", "expected a string or a list of up to 16 strings");
    }
  }
  if (const Json* ie = j.find_non_null("ignore_eos")) {
    if (!ie->is_bool()) return b.bad("ignore_eos", "expected true or false");
    r.ignore_eos = ie->as_bool();
  }
  if (const Json* f = j.find_non_null("response_format")) {
    auto rf = parse_response_format(*f, "response_format");
    if (!rf.ok()) {
      if (param) *param = "response_format";
      return rf.error();
    }
    if (rf->kind != ResponseFormat::Kind::Text) r.format = *rf;
  }
  for (const char* unsupported : {"logprobs", "tools", "functions", "logit_bias"}) {
    const Json* v = j.find_non_null(unsupported);
    if (v && !(v->is_bool() && !v->as_bool()) && !(v->is_array() && v->size() == 0) && !(v->is_object() && v->size() == 0))
      return b.bad(unsupported, "is not supported by this server");
  }
  return r;
}

std::string api_error_body(const std::string& message, const std::string& type, const std::string& param) {
  return Json::object({{"error", Json::object({{"message", str(message)},
                                               {"type", str(type)},
                                               {"param", param.empty() ? Json() : str(param)},
                                               {"code", Json()}})}})
      .dump();
}

namespace {
Json usage(const ApiResult& r) {
  return Json::object({{"prompt_tokens", num(double(r.prompt_tokens))},
                       {"completion_tokens", num(double(r.completion_tokens))},
                       {"total_tokens", num(double(r.prompt_tokens + r.completion_tokens))}});
}
}  // namespace

std::string api_response_body(const ApiResult& r, bool chat) {
  Json choice = chat ? Json::object({{"index", num(0)},
                                     {"message", Json::object({{"role", str("assistant")}, {"content", str(r.text)}})},
                                     {"finish_reason", str(r.finish_reason)}})
                     : Json::object({{"index", num(0)},
                                     {"text", str(r.text)},
                                     {"logprobs", Json()},
                                     {"finish_reason", str(r.finish_reason)}});
  return Json::object({{"id", str(r.id)},
                       {"object", str(chat ? "chat.completion" : "text_completion")},
                       {"created", num(double(r.created))},
                       {"model", str(r.model)},
                       {"choices", Json::array({choice})},
                       {"usage", usage(r)}})
      .dump();
}

std::string api_stream_event(const ApiResult& r, bool chat, const std::string& piece, bool first,
                             const std::string& finish_reason) {
  const Json fr = finish_reason.empty() ? Json() : str(finish_reason);
  Json choice;
  if (chat) {
    Json delta = first ? Json::object({{"role", str("assistant")}, {"content", str("")}})
                 : finish_reason.empty() ? Json::object({{"content", str(piece)}})
                                         : Json::object({});
    choice = Json::object({{"index", num(0)}, {"delta", delta}, {"finish_reason", fr}});
  } else {
    choice = Json::object({{"index", num(0)}, {"text", str(piece)}, {"logprobs", Json()}, {"finish_reason", fr}});
  }
  Json::Object o = {{"id", str(r.id)},
                    {"object", str(chat ? "chat.completion.chunk" : "text_completion")},
                    {"created", num(double(r.created))},
                    {"model", str(r.model)},
                    {"choices", Json::array({choice})}};
  if (!finish_reason.empty()) o.push_back({"usage", usage(r)});
  return "data: " + Json::object(std::move(o)).dump() + "\n\n";
}

std::string api_models_body(const std::string& base, const std::vector<std::string>& adapters, int64_t created) {
  Json::Array data;
  auto entry = [&](const std::string& id) {
    return Json::object({{"id", str(id)}, {"object", str("model")}, {"created", num(double(created))}, {"owned_by", str("hearth")}});
  };
  data.push_back(entry(base));
  for (const auto& a : adapters) data.push_back(entry(a));
  return Json::object({{"object", str("list")}, {"data", Json::array(std::move(data))}}).dump();
}

}  // namespace hearth::cli
