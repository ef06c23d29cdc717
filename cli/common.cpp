// Shared CLI pieces: session loading and sampling flags.
#include "cli/common.h"

#include <cstdio>

#include "engine/pack_cache.h"
#include "chat/named_templates.h"

namespace hearth::cli {

std::set<std::string> generate_value_options() {
  return {"--model", "--prompt", "--ids", "--max-tokens", "--temp", "--top-k", "--top-p", "--min-p",
          "--repeat-penalty", "--presence-penalty", "--frequency-penalty", "--seed", "--stop", "--dtype",
          "--max-ctx", "--threads", "--system", "--max-prefill", "--adapter", "--adapter-scale", "--json-schema",
          "--grammar", "--draft", "--draft-k", "--draft-dtype", "--kv-dtype", "--cache-dir", "--chat-template"};
}

Result<std::unique_ptr<Session>> open_session(const Args& args) {
  auto s = std::make_unique<Session>();
  HEARTH_ASSIGN(s->dir, args.required("--model"));
  LoadOptions opt;
  HEARTH_ASSIGN(opt.dtype, parse_model_dtype(args.str("--dtype").value_or("f32")));
  HEARTH_ASSIGN(opt.max_ctx, args.integer("--max-ctx", 0, 1, int64_t(1) << 24));
  HEARTH_ASSIGN(int64_t threads, args.integer("--threads", 0, 0, 1024));
  opt.threads = int(threads);
  opt.quant_search = !args.has("--no-quant-search");
  HEARTH_ASSIGN(opt.max_prefill_t, args.integer("--max-prefill", 512, 1, 1 << 16));
  auto kv = parse_kv_dtype(args.str("--kv-dtype").value_or("f32"));
  if (!kv.ok()) return err("--kv-dtype: ", kv.message());
  opt.kv_dtype = *kv;
  if (auto cache = args.str("--cache-dir")) {
    const int threads_n = opt.threads;
    HEARTH_ASSIGN(CachedLoad c, load_through_cache(s->dir, opt, [threads_n]() -> Result<std::unique_ptr<Backend>> {
      return make_cpu_backend(threads_n);
    }, *cache));
    if (!c.note.empty()) std::fprintf(stderr, "hearth: %s\n", c.note.c_str());
    s->engine = std::move(c.engine);
  } else {
    HEARTH_ASSIGN(s->engine, Engine::load(s->dir, opt));
  }
  HEARTH_ASSIGN(s->tokenizer, Tokenizer::load_for_model(s->dir));
  return s;
}

Result<SamplingParams> sampling_from_args(const Args& args, SamplingParams p) {
  HEARTH_ASSIGN(double temp, args.number("--temp", p.temperature, 0.0, 1e6));
  p.temperature = float(temp);
  HEARTH_ASSIGN(int64_t top_k, args.integer("--top-k", p.top_k, 0, int64_t(1) << 30));
  p.top_k = int(top_k);
  HEARTH_ASSIGN(double top_p, args.number("--top-p", p.top_p, 0.0, 1.0));
  p.top_p = float(top_p);
  HEARTH_ASSIGN(double min_p, args.number("--min-p", p.min_p, 0.0, 1.0));
  p.min_p = float(min_p);
  HEARTH_ASSIGN(double rep, args.number("--repeat-penalty", p.repetition_penalty, 1e-6, 1e6));
  p.repetition_penalty = float(rep);
  HEARTH_ASSIGN(double pres, args.number("--presence-penalty", p.presence_penalty, -1e6, 1e6));
  p.presence_penalty = float(pres);
  HEARTH_ASSIGN(double freq, args.number("--frequency-penalty", p.frequency_penalty, -1e6, 1e6));
  p.frequency_penalty = float(freq);
  HEARTH_ASSIGN(int64_t seed, args.integer("--seed", int64_t(p.seed), 0, INT64_MAX));
  p.seed = uint64_t(seed);
  return p;
}

}  // namespace hearth::cli

namespace hearth::cli {

Result<std::shared_ptr<GrammarMatcher>> grammar_from_args(Session& s, const Args& args) {
  auto schema_file = args.str("--json-schema");
  auto grammar_file = args.str("--grammar");
  if (!schema_file && !grammar_file) return std::shared_ptr<GrammarMatcher>();
  if (schema_file && grammar_file) return err("give one of --json-schema FILE or --grammar FILE, not both");
  if (!s.tokenizer.loaded()) return err(s.dir, ": no tokenizer, so the output cannot be constrained to a grammar");
  ResponseFormat f;
  std::string what;
  if (schema_file) {
    what = "--json-schema " + *schema_file;
    auto j = read_json_file(*schema_file);
    if (!j.ok()) return err(what, ": ", j.message());
    f.kind = ResponseFormat::Kind::JsonSchema;
    f.schema = std::move(*j);
  } else {
    what = "--grammar " + *grammar_file;
    auto text = read_text_file(*grammar_file);
    if (!text.ok()) return err(what, ": ", text.message());
    f.kind = ResponseFormat::Kind::Grammar;
    f.grammar = std::move(*text);
  }
  HEARTH_ASSIGN(std::shared_ptr<const Grammar> g, compile_response_format(f, what));
  if (!s.vocab) s.vocab = make_token_trie(s.tokenizer, s.engine->model().config().vocab_size);
  return std::make_shared<GrammarMatcher>(std::move(g), s.vocab);
}

Result<SpeculativeOptions> speculative_from_args(const Args& args, std::unique_ptr<Engine>* draft) {
  SpeculativeOptions so;
  auto d = args.str("--draft");
  HEARTH_ASSIGN(so.k, args.integer("--draft-k", 4, 1, 32));
  if (!d) {
    if (args.has("--draft-k")) return err("--draft-k needs --draft prompt-lookup or --draft DIR");
    return so;
  }
  if (*d == "prompt-lookup") {
    so.draft = SpeculativeOptions::Draft::PromptLookup;
    return so;
  }
  LoadOptions opt;
  HEARTH_ASSIGN(opt.dtype, parse_model_dtype(args.str("--draft-dtype").value_or(args.str("--dtype").value_or("f32"))));
  HEARTH_ASSIGN(opt.max_ctx, args.integer("--max-ctx", 0, 1, int64_t(1) << 24));
  HEARTH_ASSIGN(int64_t threads, args.integer("--threads", 0, 0, 1024));
  opt.threads = int(threads);
  auto e = Engine::load(*d, opt);
  if (!e.ok()) return err("--draft ", *d, ": ", e.message());
  *draft = std::move(*e);
  so.draft = SpeculativeOptions::Draft::Model;
  so.draft_engine = draft->get();
  return so;
}

Result<ChatTemplate> load_chat_template(const Session& s, const Args& args, bool plain_fallback, bool* used_plain) {
  *used_plain = false;
  HEARTH_ASSIGN(ChatTemplate::ModelTokenizerConfig m, ChatTemplate::model_tokenizer_config(s.dir));
  const Json* cfg = m.config ? &*m.config : nullptr;
  if (auto choice = args.str("--chat-template")) {
    auto t = ChatTemplate::from_name_or_file(*choice, cfg);
    if (!t.ok()) return err("--chat-template: ", t.message());
    return t;
  }
  if (cfg && ChatTemplate::config_has_template(*cfg, m.dir)) return ChatTemplate::from_tokenizer_config(*cfg, m.dir, m.what);
  if (plain_fallback) {
    *used_plain = true;
    return ChatTemplate::named("plain", cfg);
  }
  return err(cfg ? m.what + " has no chat template" : s.dir + " has no tokenizer_config.json (so no chat template)",
             ": choose one with --chat-template NAME|FILE (", named_template_list(), ", or a Jinja file)");
}

Result<std::string> format_single_chat(const ChatTemplate& tmpl, const std::string& user,
                                       const std::optional<std::string>& system, bool enable_thinking) {
  ChatOptions opt;
  opt.enable_thinking = enable_thinking;
  return format_chat_prompt(tmpl, user, system.value_or(""), opt);
}

}  // namespace hearth::cli

namespace hearth::cli {

Result<std::string> apply_adapter_flags(Session& s, const Args& args, float* scale) {
  HEARTH_ASSIGN(double sc, args.number("--adapter-scale", 1.0, -1e6, 1e6));
  *scale = float(sc);
  auto dir = args.str("--adapter");
  if (!dir) {
    if (args.has("--adapter-scale")) return err("--adapter-scale needs --adapter DIR");
    return std::string();
  }
  HEARTH_CHECK(s.engine->load_adapter("cli", *dir));
  return std::string("cli");
}

}  // namespace hearth::cli
