// hearth generate -m DIR (--prompt TEXT | --ids 1,2,3) [-n N] [--temp T] [--top-k K] [--top-p P]
//   [--min-p P] [--repeat-penalty R] [--presence-penalty P] [--frequency-penalty F] [--seed S]
//   [--stop STR] [--dtype D] [--max-ctx N] [--threads T] [--chat] [--system TEXT] [--no-think]
//   [--adapter DIR [--adapter-scale S]] [--json-schema FILE | --grammar FILE]
//   [--draft prompt-lookup|DIR [--draft-k K]] [--print-ids]
// Streams the generated text to stdout; with --print-ids the last line is "ids: <ids>".
#include <cstdio>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/engine.h"
#include "engine/text_stream.h"

namespace hearth::cli {

int cmd_generate(int argc, char** argv) {
  auto args = Args::parse(argc, argv, generate_value_options(), {"--print-ids", "--chat", "--no-think", "--no-quant-search"},
                          {{"-m", "--model"}, {"-n", "--max-tokens"}, {"-p", "--prompt"}});
  if (!args.ok()) return fail(args.message());
  auto setup = open_session(*args);
  if (!setup.ok()) return fail(setup.message());
  Session& s = **setup;
  if (args->has("--prompt") == args->has("--ids")) return fail("give exactly one of --prompt TEXT or --ids 1,2,3");

  GenerateRequest req;
  HEARTH_ASSIGN_OR_FAIL(req.max_new_tokens, args->integer("--max-tokens", 128, 0, 1 << 24));
  HEARTH_ASSIGN_OR_FAIL(req.sampling, sampling_from_args(*args, s.engine->default_sampling()));
  HEARTH_ASSIGN_OR_FAIL(req.adapter, apply_adapter_flags(s, *args, &req.adapter_scale));
  HEARTH_ASSIGN_OR_FAIL(req.grammar, grammar_from_args(s, *args));
  std::unique_ptr<Engine> draft;
  HEARTH_ASSIGN_OR_FAIL(req.speculative, speculative_from_args(*args, &draft));
  if (args->has("--ids")) {
    HEARTH_ASSIGN_OR_FAIL(req.prompt, parse_id_list(*args->str("--ids"), "--ids"));
  } else {
    if (!s.tokenizer.loaded()) return fail(s.dir + ": no tokenizer.json, so --prompt cannot be used (give --ids)");
    std::string text = *args->str("--prompt");
    if (args->has("--chat")) {
      HEARTH_ASSIGN_OR_FAIL(text, format_single_chat(s, text, args->str("--system"), !args->has("--no-think")));
    }
    req.prompt = s.tokenizer.encode(text);
    if (req.prompt.empty()) return fail("--prompt: the text encodes to no tokens");
  }
  std::vector<std::string> stops;
  if (auto st = args->str("--stop")) stops.push_back(*st);
  const std::vector<int32_t>& stop_ids = s.engine->default_stop_ids();
  std::unique_ptr<TextStream> text;
  if (s.tokenizer.loaded()) text = std::make_unique<TextStream>(s.tokenizer, stop_ids, stops);
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
  return 0;
}

}  // namespace hearth::cli
