// hearth generate: streams the generated text to stdout (see kGenerateUsage); with --print-ids
// the last line is "ids: <ids>", with --stats the timing goes to stderr.
#include <algorithm>
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/engine.h"
#include "engine/text_stream.h"

namespace hearth::cli {

const char kGenerateUsage[] =
    "usage: hearth generate -m DIR (--prompt TEXT | --ids 1,2,3) [options]\n"
    "Generates a continuation and streams it to stdout.\n"
    "  -p, --prompt TEXT        the prompt text (needs tokenizer.json)\n"
    "  --ids 1,2,3              the prompt as token ids\n"
    "  --chat                   wrap the prompt in the chat template (a user turn, the reply opened)\n"
    "  --print-ids              end with a line \"ids: <generated ids>\"\n"
    "  --stats                  print prefill and decode timing to stderr\n"
    HEARTH_MODEL_OPTIONS_USAGE HEARTH_SAMPLING_OPTIONS_USAGE HEARTH_DRAFT_OPTIONS_USAGE;

namespace {

// The prompt ids: --ids, or --prompt (in the chat template with --chat).
Result<std::vector<int32_t>> prompt_ids(const Args& args, const Session& s, std::vector<std::string>* stops) {
  if (args.has("--prompt") == args.has("--ids")) return err("give exactly one of --prompt TEXT or --ids 1,2,3");
  if (args.has("--ids")) return parse_id_list(*args.str("--ids"), "--ids");
  if (!s.tokenizer.loaded()) return err(s.dir, ": no tokenizer.json, so --prompt cannot be used (give --ids)");
  std::string text = *args.str("--prompt");
  if (args.has("--chat")) {
    bool plain = false;
    HEARTH_ASSIGN(ChatTemplate tmpl, load_chat_template(s, args, /*plain_fallback=*/false, &plain));
    HEARTH_ASSIGN(text, format_single_chat(tmpl, text, args.str("--system"), !args.has("--no-think")));
    stops->insert(stops->end(), tmpl.stop_strings().begin(), tmpl.stop_strings().end());
  } else if (args.has("--chat-template") || args.has("--system")) {
    return err(args.has("--system") ? "--system" : "--chat-template", " applies with --chat");
  }
  std::vector<int32_t> ids = s.tokenizer.encode(text);
  if (ids.empty()) return err("--prompt: the text encodes to no tokens");
  return ids;
}

}  // namespace

int cmd_generate(int argc, char** argv) {
  auto args = Args::parse(argc, argv, generate_value_options(),
                          {"--print-ids", "--chat", "--no-think", "--no-quant-search", "--stats"},
                          {{"-m", "--model"}, {"-n", "--max-tokens"}, {"-p", "--prompt"}});
  if (!args.ok()) return fail(args.message());
  auto setup = open_session(*args);
  if (!setup.ok()) return fail(setup.message());
  Session& s = **setup;

  GenerateRequest req;
  std::vector<std::string> stops = args->all("--stop");
  HEARTH_ASSIGN_OR_FAIL(req.max_new_tokens, args->integer("--max-tokens", 128, 0, 1 << 24));
  HEARTH_ASSIGN_OR_FAIL(req.sampling, sampling_from_args(*args, s.engine->default_sampling()));
  HEARTH_ASSIGN_OR_FAIL(req.adapter, apply_adapter_flags(s, *args, &req.adapter_scale));
  HEARTH_ASSIGN_OR_FAIL(req.grammar, grammar_from_args(s, *args));
  std::unique_ptr<Engine> draft;
  HEARTH_ASSIGN_OR_FAIL(req.speculative, speculative_from_args(*args, &draft));
  HEARTH_ASSIGN_OR_FAIL(req.prompt, prompt_ids(*args, s, &stops));
  std::unique_ptr<TextStream> text;
  if (s.tokenizer.loaded()) text = std::make_unique<TextStream>(s.tokenizer, s.engine->default_stop_ids(), stops);
  auto r = s.engine->generate(req, [&](int32_t id) {
    if (!text) return true;
    std::string piece = text->push(id);
    if (!piece.empty()) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return !text->done();
  });
  if (!r.ok()) return fail(r.message());
  if (text) {
    std::string tail = text->finish();
    std::fwrite(tail.data(), 1, tail.size(), stdout);
    std::printf("\n");
  }
  if (req.speculative.draft != SpeculativeOptions::Draft::None) {
    std::fprintf(stderr, "speculative: %lld drafted, %lld accepted (%.0f %%), %.1f tok/s\n", (long long)r->drafted,
                 (long long)r->accepted, r->drafted ? 100.0 * double(r->accepted) / double(r->drafted) : 0.0,
                 r->decode_seconds > 0 ? double(r->ids.size()) / r->decode_seconds : 0.0);
  }
  if (args->has("--print-ids")) {
    std::printf("ids:");
    for (int32_t id : r->ids) std::printf(" %d", id);
    std::printf("\n");
  }
  std::fflush(stdout);
  if (args->has("--stats")) {
    const size_t n = r->ids.size();
    std::fprintf(stderr, "prefill: %lld tokens in %.1f ms, decode: %zu tokens in %.1f ms (%.1f tok/s)\n",
                 (long long)r->n_prompt, r->prefill_seconds * 1e3, n, r->decode_seconds * 1e3,
                 double(n > 1 ? n - 1 : 1) / std::max(r->decode_seconds, 1e-9));
  }
  return 0;
}

}  // namespace hearth::cli
