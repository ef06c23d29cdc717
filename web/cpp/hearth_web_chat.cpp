// The chat part of the wasm engine's C API (conventions as in hearth_web.cpp): renders a
// conversation with the model's chat template, or a built-in format for models without one
// (web/src/chat.mjs encodes and generates it).
#include <emscripten.h>

#include <cstdio>
#include <map>
#include <optional>
#include <string>

#include "chat/chat_template.h"
#include "engine/model_folder.h"
#include "formats/gguf.h"
#include "formats/json.h"
#include "formats/packed.h"
#include "tokenizer/gguf_vocab.h"
#include "web_module.h"


namespace {

using namespace hearth;

// Built-in formats, for checkpoints whose tokenizer_config.json has no chat template.
struct BuiltinFormat {
  const char* name;
  const char* jinja;
  const char* stop;  // text that ends a reply besides the stop tokens ("" = none)
};

// plain: a "User: ... / Assistant: ..." transcript any text model can continue; the reply ends
// where the model starts the next "User:" line. chatml: <|im_start|>role\n...<|im_end|>\n.
const BuiltinFormat kBuiltins[] = {
    {"plain", R"({%- for message in messages -%}
{%- if message.role == 'system' -%}{{- message.content + '\n\n' -}}
{%- elif message.role == 'user' -%}{{- 'User: ' + message.content + '\n' -}}
{%- else -%}{{- 'Assistant:' + (message.content if message.content.startswith(' ') else ' ' + message.content) + '\n\n' -}}
{%- endif -%}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- 'Assistant:' -}}{%- endif -%})",
     "\nUser:"},
    {"chatml", R"({%- for message in messages -%}
{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- '<|im_start|>assistant\n' -}}{%- endif -%})",
     ""},
};

struct LoadedTemplate {
  ChatTemplate tmpl;
  std::string origin;  // "tokenizer_config.json" or a built-in name
  std::string stop;
};

// Per handle: the model's tokenizer_config.json, read once (a pack's file may be gone later),
// and the templates by the name asked for ("" = the model's own, or plain without one).
struct HandleChat {
  bool config_read = false;
  std::optional<Json> config;
  std::map<std::string, LoadedTemplate> templates;
};
std::map<int, HandleChat> g_chat;
std::string g_result;

bool file_exists(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

Result<LoadedTemplate> builtin(const std::string& name, const Json* config) {
  for (const BuiltinFormat& b : kBuiltins) {
    if (name != b.name) continue;
    HEARTH_ASSIGN(ChatTemplate t, ChatTemplate::from_jinja(b.jinja, config));
    return LoadedTemplate{std::move(t), b.name, b.stop};
  }
  return err("chat template '", name, "': not a built-in format (plain, chatml); leave it unset for the model's own");
}

// The tokenizer_config.json a model carries: a folder's file, the one packed with a pack, or
// the one a GGUF file's metadata gives; nullopt when there is none.
Result<std::optional<Json>> tokenizer_config(const std::string& path) {
  if (is_packed_file(path)) {
    HEARTH_ASSIGN(PackedFile pack, PackedFile::open(path));
    HEARTH_ASSIGN(std::optional<std::string> text, pack.file_text("tokenizer_config.json"));
    if (!text) return std::optional<Json>();
    HEARTH_ASSIGN(Json j, parse_json(*text, path + " (tokenizer_config.json)"));
    return std::optional<Json>(std::move(j));
  }
  if (is_gguf_file(path)) {
    HEARTH_ASSIGN(GgufFile g, GgufFile::open(path));
    HEARTH_ASSIGN(Json j, tokenizer_config_from_gguf(g));
    return std::optional<Json>(std::move(j));
  }
  const std::string file = path + "/tokenizer_config.json";
  if (!file_exists(file)) return std::optional<Json>();
  HEARTH_ASSIGN(Json j, read_json_file(file));
  return std::optional<Json>(std::move(j));
}

// The model's own template (ChatTemplate::for_model: tokenizer_config.json, chat_template.jinja,
// a pack's or GGUF file's, or a family recognized without one), else "plain" when the model
// declares none at all.
Result<LoadedTemplate> model_template(const std::string& path, const Json* cfg) {
  if (!cfg) return builtin("plain", nullptr);
  auto own = ChatTemplate::for_model(path);
  if (own.ok()) return LoadedTemplate{std::move(*own), "tokenizer_config.json", ""};
  const bool declared = cfg->find_non_null("chat_template") || file_exists(path + "/chat_template.jinja");
  if (declared) return own.error();  // a template that does not load is an error, not a fallback
  return builtin("plain", cfg);
}

Result<const LoadedTemplate*> template_for(int handle, const ModelFolder& f, const std::string& name) {
  HandleChat& h = g_chat[handle];
  auto it = h.templates.find(name);
  if (it != h.templates.end()) return &it->second;
  if (!h.config_read) {
    HEARTH_ASSIGN(h.config, tokenizer_config(f.dir));
    h.config_read = true;
  }
  const Json* cfg = h.config && h.config->is_object() ? &*h.config : nullptr;
  LoadedTemplate t;
  if (name.empty()) {
    HEARTH_ASSIGN(t, model_template(f.dir, cfg));
  } else {
    HEARTH_ASSIGN(t, builtin(name, cfg));
  }
  return &h.templates.emplace(name, std::move(t)).first->second;
}

// request: { messages: [{role, content, ...}], template: "" | built-in name,
//            addGenerationPrompt (true), enableThinking (true) }
Result<std::string> render(int handle, const char* request_json) {
  ModelFolder* f = web::folder(handle);
  if (!f) return err("invalid engine handle ", handle);
  HEARTH_ASSIGN(Json req, parse_json(request_json ? request_json : "{}", "chat request"));
  if (!req.is_object()) return err("chat request: expected an object");
  const Json* messages = req.find_non_null("messages");
  if (!messages || !messages->is_array()) return err("chat request: messages must be an array of {role, content}");
  std::string name;
  if (const Json* t = req.find_non_null("template")) {
    if (!t->is_string()) return err("chat request: template must be a string");
    name = t->as_string();
  }
  ChatOptions opts;
  if (const Json* g = req.find_non_null("addGenerationPrompt")) {
    if (!g->is_bool()) return err("chat request: addGenerationPrompt must be true or false");
    opts.add_generation_prompt = g->as_bool();
  }
  if (const Json* th = req.find_non_null("enableThinking")) {
    if (!th->is_bool()) return err("chat request: enableThinking must be true or false");
    opts.enable_thinking = th->as_bool();
  }
  HEARTH_ASSIGN(const LoadedTemplate* t, template_for(handle, *f, name));
  HEARTH_ASSIGN(std::string prompt, t->tmpl.render_json(*messages, opts));
  Json::Array stop;
  if (!t->stop.empty()) stop.push_back(Json::string(t->stop));
  return Json::object({{"prompt", Json::string(prompt)},
                       {"template", Json::string(t->origin)},
                       {"stop", Json::array(std::move(stop))}})
      .dump();
}

}  // namespace

extern "C" {

// Renders a chat request (JSON, see render() above) to {prompt, template, stop}: the prompt
// text (to encode with special tokens parsed), where the template came from, and the stop
// strings of a built-in format. Returns "" with hearth_last_error() on error.
EMSCRIPTEN_KEEPALIVE const char* hearth_chat_render(int handle, const char* request_json) {
  auto r = render(handle, request_json);
  if (!r.ok()) {
    web::set_error(r.message());
    return "";
  }
  g_result = std::move(*r);
  return g_result.c_str();
}

// Drops the templates kept for a handle (call before hearth_free).
EMSCRIPTEN_KEEPALIVE void hearth_chat_release(int handle) { g_chat.erase(handle); }

}  // extern "C"
