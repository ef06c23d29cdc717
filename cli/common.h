// Shared pieces of the generate and chat commands: loading a model folder with its tokenizer,
// sampling options from flags, chat formatting.
#pragma once
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cli/args.h"
#include "engine/chat_session.h"
#include "engine/engine.h"
#include "engine/structured_output.h"
#include "tokenizer/tokenizer.h"

// Unwraps a Result into lhs or prints its error and returns exit code 2.
#define HEARTH_ASSIGN_OR_FAIL(lhs, expr)                            \
  do {                                                              \
    auto hearth_r_ = (expr);                                        \
    if (!hearth_r_.ok()) return ::hearth::cli::fail(hearth_r_.message()); \
    lhs = std::move(hearth_r_).value();                             \
  } while (0)

namespace hearth::cli {

struct Session {
  std::string dir;
  std::unique_ptr<Engine> engine;
  Tokenizer tokenizer;  // empty when the folder has no tokenizer.json
  std::shared_ptr<const TokenTrie> vocab;  // the vocabulary's bytes, built when a grammar needs it
};

// Options that take a value, shared by generate and chat.
std::set<std::string> generate_value_options();
// Loads -m DIR with --dtype, --max-ctx, --threads, --max-prefill.
Result<std::unique_ptr<Session>> open_session(const Args& args);
// --temp, --top-k, --top-p, --min-p, --repeat-penalty, --presence-penalty,
// --frequency-penalty, --seed over the model's defaults.
Result<SamplingParams> sampling_from_args(const Args& args, SamplingParams defaults);
// --json-schema FILE (output valid under a JSON schema) or --grammar FILE (GBNF): a matcher for
// GenerateRequest::grammar; null without either.
Result<std::shared_ptr<GrammarMatcher>> grammar_from_args(Session& s, const Args& args);
// --draft prompt-lookup | --draft DIR (a draft model, loaded like -m with the same options,
// --draft-dtype D for its precision) [--draft-k K]: speculative decoding options; `draft` keeps the draft model alive.
Result<SpeculativeOptions> speculative_from_args(const Args& args, std::unique_ptr<Engine>* draft);
// The chat template of the session's tokenizer_config.json.
Result<ChatTemplate> load_chat_template(const Session& s);
// --adapter DIR [--adapter-scale S]: loads the adapter and returns its name ("" without one).
Result<std::string> apply_adapter_flags(Session& s, const Args& args, float* scale);
// One user message (and an optional system message) in the model's chat template, with the
// assistant's turn opened.
Result<std::string> format_single_chat(const Session& s, const std::string& user,
                                       const std::optional<std::string>& system, bool enable_thinking);

}  // namespace hearth::cli
