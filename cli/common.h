// Shared pieces of the generate and chat commands: loading a model folder with its tokenizer,
// sampling options from flags, the chat template (--chat-template), chat formatting.
#pragma once
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "cli/args.h"
#include "chat/chat_template.h"
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

// The options of generate and chat, described in both usage texts (string literals, so that
// the usage texts are built from them at compile time).
#define HEARTH_MODEL_OPTIONS_USAGE                                                                        \
  "model:\n"                                                                                             \
  "  -m, --model DIR          a Hugging Face model folder (config.json, *.safetensors, tokenizer.json)\n" \
  "                           or a .gguf file\n"                                                          \
  "  --dtype f32|f16|int8|int4  weights in memory (default f32; with int4 the embeddings are int8)\n"     \
  "  --no-quant-search        int4: skip the per-group range search (faster load, a little less exact)\n" \
  "  --max-ctx N              KV cache length (default min(max_position_embeddings, 4096))\n"             \
  "  --max-prefill N          largest batch of prompt tokens in one pass (default 512)\n"                \
  "  --threads N              CPU threads (default: all cores)\n"                                         \
  "  --kv-dtype f32|f16|int8  KV cache precision (default f32)\n"                                         \
  "  --cache-dir DIR          keep a pack of the loaded weights in DIR and load from it next time\n"     \
  "  --adapter DIR            a LoRA adapter folder (PEFT or MLX-LM) or a llama.cpp .gguf adapter\n"     \
  "  --adapter-scale S        multiplies the adapter's own scale (default 1)\n"                           \
  "  --chat-template NAME|FILE  chat format: chatml, llama2, llama3, qwen3, plain, or a Jinja file\n"     \
  "                           (default: the one in the model's tokenizer_config.json)\n"                 \
  "  --system TEXT            a system message (chat formats)\n"                                          \
  "  --no-think               Qwen3: enable_thinking=false (an empty think block opens the reply)\n"
#define HEARTH_SAMPLING_OPTIONS_USAGE                                                                     \
  "sampling (defaults from generation_config.json; greedy without it):\n"                                \
  "  -n, --max-tokens N       tokens to generate\n"                                                       \
  "  --temp T                 temperature (0 = greedy)\n"                                                 \
  "  --top-k K                keep the K most likely tokens (0 = off)\n"                                  \
  "  --top-p P                keep the most likely tokens up to probability mass P (1 = off)\n"          \
  "  --min-p P                drop tokens below P x the top probability (0 = off)\n"                     \
  "  --repeat-penalty R       divide the logits of tokens seen before by R (1 = off)\n"                  \
  "  --presence-penalty P     subtract P from the logits of tokens generated before\n"                   \
  "  --frequency-penalty F    subtract F x count from the logits of tokens generated before\n"           \
  "  --seed S                 sampling seed (same seed, same sample)\n"                                   \
  "  --stop STR               stop at this text (repeat for several)\n"                                 \
  "  --json-schema FILE       constrain the output to JSON valid under this JSON schema\n"              \
  "  --grammar FILE           constrain the output to this GBNF grammar\n"

#define HEARTH_DRAFT_OPTIONS_USAGE                                                                        \
  "speculative decoding (same output as without; faster where drafts are accepted):\n"                 \
  "  --draft prompt-lookup|DIR  drafts from the prompt's own n-grams, or from a small model\n"          \
  "  --draft-k K              tokens drafted per step (default 4, at most 32)\n"                        \
  "  --draft-dtype D          the draft model's weights in memory (default: --dtype)\n"

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
// The chat template: --chat-template NAME|FILE, else the one of the folder's
// tokenizer_config.json; without either, the plain transcript format when `plain_fallback`
// (*used_plain is then set), else an error pointing at --chat-template.
Result<ChatTemplate> load_chat_template(const Session& s, const Args& args, bool plain_fallback, bool* used_plain);
// --adapter DIR [--adapter-scale S]: loads the adapter and returns its name ("" without one).
Result<std::string> apply_adapter_flags(Session& s, const Args& args, float* scale);
// One user message (and an optional system message) in `tmpl`, with the assistant's turn opened.
Result<std::string> format_single_chat(const ChatTemplate& tmpl, const std::string& user,
                                       const std::optional<std::string>& system, bool enable_thinking);


}  // namespace hearth::cli
