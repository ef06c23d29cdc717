// Chat templates: loading from tokenizer_config.json / chat_template.jinja, rendering through
// the Jinja subset with transformers' variables, the built-in Llama 2 format, and the
// multi-turn prompt delta. See chat_template.h.
#include "chat/chat_template.h"

#include <cstdio>

#include "chat/jinja.h"
#include "chat/named_templates.h"
#include "formats/gguf.h"
#include "formats/packed.h"
#include "tokenizer/gguf_vocab.h"

namespace hearth {

namespace {

// A special token in tokenizer_config.json: a string, or an AddedToken object with "content".
const std::string* token_text(const Json* j) {
  if (!j) return nullptr;
  if (j->is_string()) return &j->as_string();
  if (j->is_object()) {
    const Json* c = j->find("content");
    if (c && c->is_string()) return &c->as_string();
  }
  return nullptr;
}

std::string dir_of(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? std::string(".") : path.substr(0, slash);
}

std::string py_strip(const std::string& s) { return jinja::py_strip(s, jinja::Value::none(), true, true); }

// Llama 2 checkpoints carry no template: LlamaTokenizer with <s> and </s>.
bool is_llama2_family(const Json& config) {
  const Json* cls = config.find_non_null("tokenizer_class");
  const std::string* bos = token_text(config.find_non_null("bos_token"));
  const std::string* eos = token_text(config.find_non_null("eos_token"));
  const bool llama_tok = cls && cls->is_string() &&
                         (cls->as_string() == "LlamaTokenizer" || cls->as_string() == "LlamaTokenizerFast");
  return llama_tok && bos && *bos == "<s>" && eos && *eos == "</s>";
}

bool file_exists(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (f) std::fclose(f);
  return f != nullptr;
}

}  // namespace

bool ChatTemplate::config_has_template(const Json& config, const std::string& dir) {
  if (config.find_non_null("chat_template")) return true;
  if (!dir.empty() && file_exists(dir + "/chat_template.jinja")) return true;
  return is_llama2_family(config);
}

Result<ChatTemplate> ChatTemplate::named(const std::string& name, const Json* config) {
  const NamedTemplate* nt = find_named_template(name);
  if (!nt) return err("chat template \"", name, "\" is not a built-in format (", named_template_list(), ")");
  ChatTemplate t;
  if (nt->jinja.empty()) {
    HEARTH_ASSIGN(t, build(config, {}, "chat template " + name));
    t.kind_ = Kind::Llama2;
  } else {
    HEARTH_ASSIGN(t, build(config, {{"default", nt->jinja}}, "chat template " + name));
  }
  // The format's own special tokens where the tokenizer config gives none.
  auto add_token = [&](const char* key, const std::string& value, std::string* field) {
    if (!field->empty() || value.empty()) return;
    *field = value;
    t.special_tokens_.emplace_back(key, Json::string(value));
  };
  add_token("bos_token", nt->bos_token, &t.bos_);
  add_token("eos_token", nt->eos_token, &t.eos_);
  t.origin_ = name;
  t.stop_strings_ = nt->stop_strings;
  return t;
}

Result<ChatTemplate> ChatTemplate::from_name_or_file(const std::string& name_or_path, const Json* config) {
  if (find_named_template(name_or_path)) return named(name_or_path, config);
  if (!file_exists(name_or_path))
    return err("chat template \"", name_or_path, "\": no such file, and not a built-in format (",
               named_template_list(), ")");
  HEARTH_ASSIGN(std::string source, read_text_file(name_or_path));
  HEARTH_ASSIGN(ChatTemplate t, build(config, {{"default", std::move(source)}}, name_or_path));
  t.origin_ = name_or_path;
  return t;
}

PromptDelta prompt_delta(std::string_view cached_text, std::string prompt) {
  size_t k = 0;
  const size_t n = std::min(cached_text.size(), prompt.size());
  while (k < n && cached_text[k] == prompt[k]) ++k;
  // Never split a UTF-8 character: back off to the start of a partially shared one.
  if (k < cached_text.size() || k < prompt.size())
    while (k > 0 && k < prompt.size() && (static_cast<unsigned char>(prompt[k]) & 0xc0) == 0x80) --k;
  PromptDelta d;
  d.keep_chars = k;
  d.append = prompt.substr(k);
  d.prompt = std::move(prompt);
  return d;
}

Result<ChatTemplate> ChatTemplate::from_tokenizer_config_file(const std::string& path) {
  HEARTH_ASSIGN(Json config, read_json_file(path));
  return from_tokenizer_config(config, dir_of(path), path);
}

Result<ChatTemplate> ChatTemplate::for_model(const std::string& path) {
  if (!is_gguf_file(path) && !is_packed_file(path)) return from_tokenizer_config_file(path + "/tokenizer_config.json");
  HEARTH_ASSIGN(ModelTokenizerConfig m, model_tokenizer_config(path));
  if (!m.config) return err(m.what, ": the pack holds no tokenizer_config.json");
  return from_tokenizer_config(*m.config, m.dir, m.what);
}

Result<ChatTemplate::ModelTokenizerConfig> ChatTemplate::model_tokenizer_config(const std::string& path) {
  ModelTokenizerConfig m;
  if (is_gguf_file(path)) {
    HEARTH_ASSIGN(auto file, MappedFile::open(path, /*force_ranges=*/true));  // the metadata only
    HEARTH_ASSIGN(GgufFile g, GgufFile::parse(std::move(file)));
    HEARTH_ASSIGN(m.config, tokenizer_config_from_gguf(g));
    m.what = path + " (tokenizer metadata)";
    return m;
  }
  if (is_packed_file(path)) {  // a pack carries its source folder's tokenizer_config.json
    HEARTH_ASSIGN(PackedFile pack, PackedFile::open(path));
    HEARTH_ASSIGN(std::optional<std::string> text, pack.file_text("tokenizer_config.json"));
    m.what = path + " (tokenizer_config.json)";
    if (text) {
      HEARTH_ASSIGN(m.config, parse_json(*text, m.what));
    }
    return m;
  }
  m.dir = path;
  m.what = path + "/tokenizer_config.json";
  if (file_exists(m.what)) {
    HEARTH_ASSIGN(m.config, read_json_file(m.what));
  }
  return m;
}

Result<ChatTemplate> ChatTemplate::from_tokenizer_config(const Json& config, const std::string& dir,
                                                          const std::string& what) {
  if (!config.is_object()) return err(what, ": expected a JSON object");
  std::vector<std::pair<std::string, std::string>> sources;
  const Json* ct = config.find_non_null("chat_template");
  if (ct && ct->is_string()) {
    sources.emplace_back("default", ct->as_string());
  } else if (ct && ct->is_array()) {
    for (size_t i = 0; i < ct->size(); ++i) {
      const Json& item = (*ct)[i];
      const Json* name = item.find("name");
      const Json* tmpl = item.find("template");
      if (!name || !name->is_string() || !tmpl || !tmpl->is_string())
        return err(what, ": chat_template[", i, "] must be an object with string \"name\" and \"template\"");
      sources.emplace_back(name->as_string(), tmpl->as_string());
    }
    if (sources.empty()) return err(what, ": chat_template is an empty list");
  } else if (ct) {
    return err(what, ": chat_template must be a string or a list of {name, template}, found ",
               Json::kind_name(ct->kind()));
  } else if (!dir.empty()) {
    auto text = read_text_file(dir + "/chat_template.jinja");
    if (text.ok()) sources.emplace_back("default", std::move(*text));
  }
  if (sources.empty()) {
    // No template anywhere: recognize the family, as hearth does for Llama 2.
    if (is_llama2_family(config)) {
      HEARTH_ASSIGN(ChatTemplate t, build(&config, {}, what));
      t.kind_ = Kind::Llama2;
      return t;
    }
    return err(what, ": no chat_template (and no chat_template.jinja next to it), and the tokenizer is not a "
               "family hearth recognizes without one (Llama 2: LlamaTokenizer with <s> and </s>); choose one "
               "(a Jinja file, or a built-in format: ", named_template_list(), ")");
  }
  return build(&config, std::move(sources), what);
}

Result<ChatTemplate> ChatTemplate::from_jinja(const std::string& source, const Json* config) {
  return build(config, {{"default", source}}, "chat template");
}

Result<ChatTemplate> ChatTemplate::build(const Json* config, std::vector<std::pair<std::string, std::string>> sources,
                                         const std::string& what) {
  ChatTemplate t;
  for (auto& [name, src] : sources) {
    auto prog = jinja::parse_template(src);
    if (!prog.ok()) {
      const std::string label = sources.size() > 1 ? " '" + name + "'" : "";
      return err(what, ": chat template", label, ": ", prog.message());
    }
    t.templates_[name] = Named{std::move(src), std::move(*prog)};
  }
  if (config && config->is_object()) {
    static const char* const kTokens[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                          "pad_token", "cls_token", "mask_token"};
    for (const char* key : kTokens) {
      if (const std::string* s = token_text(config->find_non_null(key)))
        t.special_tokens_.emplace_back(key, Json::string(*s));
    }
    if (const Json* extra = config->find_non_null("additional_special_tokens"); extra && extra->is_array()) {
      Json::Array list;
      for (const auto& x : extra->as_array())
        if (const std::string* s = token_text(&x)) list.push_back(Json::string(*s));
      t.special_tokens_.emplace_back("additional_special_tokens", Json::array(std::move(list)));
    }
    if (const std::string* s = token_text(config->find_non_null("bos_token"))) t.bos_ = *s;
    if (const std::string* s = token_text(config->find_non_null("eos_token"))) t.eos_ = *s;
  }
  return t;
}

const std::string& ChatTemplate::source() const {
  static const std::string empty;
  auto it = templates_.find("default");
  if (it != templates_.end()) return it->second.source;
  return templates_.empty() ? empty : templates_.begin()->second.source;
}

Result<std::string> ChatTemplate::render(const std::vector<ChatMessage>& messages, const ChatOptions& options) const {
  Json::Array arr;
  for (const auto& m : messages) {
    Json::Object o;
    o.emplace_back("role", Json::string(m.role));
    o.emplace_back("content", Json::string(m.content));
    arr.push_back(Json::object(std::move(o)));
  }
  return render_json(Json::array(std::move(arr)), options);
}

Result<std::string> ChatTemplate::render_json(const Json& messages, const ChatOptions& options) const {
  if (!messages.is_array()) return err("chat messages must be a JSON array of {role, content} objects");
  if (kind_ == Kind::Llama2) return render_llama2(messages);

  bool has_tools = false;
  for (const auto& kv : options.variables)
    if (kv.first == "tools") has_tools = !kv.second.is_null();
  std::string name = options.template_name;
  if (name.empty()) name = (has_tools && templates_.count("tool_use")) ? "tool_use" : "default";
  auto it = templates_.find(name);
  if (it == templates_.end()) {
    std::string names;
    for (const auto& kv : templates_) names += (names.empty() ? "" : ", ") + kv.first;
    return err("chat template '", name, "' not found (this model has: ", names, ")");
  }

  jinja::Globals g;
  jinja::add_builtin_globals(g);
  for (const auto& kv : special_tokens_) g.emplace_back(kv.first, jinja::from_json(kv.second));
  g.emplace_back("messages", jinja::from_json(messages));
  g.emplace_back("tools", jinja::Value::none());
  g.emplace_back("documents", jinja::Value::none());
  g.emplace_back("add_generation_prompt", jinja::Value::boolean(options.add_generation_prompt));
  g.emplace_back("enable_thinking", jinja::Value::boolean(options.enable_thinking));
  for (const auto& kv : options.variables) g.emplace_back(kv.first, jinja::from_json(kv.second));
  return jinja::render(*it->second.program, g);
}

Result<PromptDelta> ChatTemplate::next_turn(const std::vector<ChatMessage>& conversation, std::string_view cached_text,
                                            const ChatOptions& options) const {
  HEARTH_ASSIGN(std::string prompt, render(conversation, options));
  return prompt_delta(cached_text, std::move(prompt));
}

Result<std::string> ChatTemplate::render_llama2(const Json& messages) const {
  std::vector<std::pair<std::string, std::string>> msgs;
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json* role = messages[i].find("role");
    const Json* content = messages[i].find("content");
    if (!role || !role->is_string() || !content || !content->is_string())
      return err("chat message ", i, ": expected string \"role\" and \"content\"");
    msgs.emplace_back(role->as_string(), content->as_string());
  }
  size_t first = 0;
  std::string system;
  bool has_system = false;
  if (!msgs.empty() && msgs[0].first == "system") {
    has_system = true;
    system = msgs[0].second;
    first = 1;
  }
  std::string out;
  for (size_t k = first; k < msgs.size(); ++k) {
    const size_t idx = k - first;
    const auto& [role, content] = msgs[k];
    if ((role == "user") != (idx % 2 == 0))
      return err("Llama 2 chat format: conversation roles must alternate user/assistant/user/assistant/... "
                 "(after an optional first system message); message ", k, " has role '", role, "'");
    std::string text = content;
    if (idx == 0 && has_system) text = "<<SYS>>\n" + system + "\n<</SYS>>\n\n" + content;
    if (role == "user") {
      out += bos_ + "[INST] " + py_strip(text) + " [/INST]";
    } else if (role == "assistant") {
      out += " " + py_strip(text) + " " + eos_;
    } else {
      return err("Llama 2 chat format: unsupported role '", role, "' (only system, user, assistant)");
    }
  }
  return out;
}

}  // namespace hearth
