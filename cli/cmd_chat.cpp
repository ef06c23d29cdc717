// hearth chat -m DIR [generate's model and sampling options] [--system TEXT] [--no-think]
//   [--adapter DIR [--adapter-scale S]] [--context-overflow error|drop-oldest]
// Interactive multi-turn chat on stdin/stdout; each turn prefills only what the KV cache does
// not already hold. A conversation that outgrows --max-ctx is refused, or with
// --context-overflow drop-oldest loses its oldest turns (the system message stays). Commands:
//   /adapter DIR [SCALE]   load (once) and use a LoRA adapter from the next turn on
//   /adapter none          back to the base model
//   /reset                 forget the conversation
//   /quit                  leave (end of input does too)
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace hearth::cli {

int cmd_chat(int argc, char** argv) {
  auto opts = generate_value_options();
  opts.insert("--context-overflow");
  auto args = Args::parse(argc, argv, opts, {"--no-think", "--no-quant-search"}, {{"-m", "--model"}, {"-n", "--max-tokens"}});
  if (!args.ok()) return fail(args.message());
  auto setup = open_session(*args);
  if (!setup.ok()) return fail(setup.message());
  Session& s = **setup;
  if (!s.tokenizer.loaded()) return fail(s.dir + ": no tokenizer.json, chat needs one");
  auto tmpl = load_chat_template(s);
  if (!tmpl.ok()) return fail(tmpl.message());
  GenerateRequest params;
  HEARTH_ASSIGN_OR_FAIL(params.max_new_tokens, args->integer("--max-tokens", 512, 1, 1 << 24));
  HEARTH_ASSIGN_OR_FAIL(params.sampling, sampling_from_args(*args, s.engine->default_sampling()));
  HEARTH_ASSIGN_OR_FAIL(params.adapter, apply_adapter_flags(s, *args, &params.adapter_scale));
  HEARTH_ASSIGN_OR_FAIL(params.grammar, grammar_from_args(s, *args));
  ChatOptions copt;
  copt.enable_thinking = !args->has("--no-think");
  ChatSession chat(*s.engine, s.tokenizer, *tmpl, copt);
  if (auto sys = args->str("--system")) chat.set_system(*sys);
  ContextOverflow overflow;
  HEARTH_ASSIGN_OR_FAIL(overflow, parse_context_overflow(args->str("--context-overflow").value_or("error")));
  chat.set_overflow(overflow);
  std::vector<std::string> stops;
  if (auto st = args->str("--stop")) stops.push_back(*st);
  std::map<std::string, std::string> loaded;  // adapter dir -> name

  std::string line;
  std::fprintf(stderr, "hearth chat: %s (%s). /adapter DIR, /adapter none, /reset, /quit\n", s.dir.c_str(),
               s.engine->model().backend().name().c_str());
  while (true) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    if (line == "/quit" || line == "/exit") break;
    if (line == "/reset") {
      chat.reset();
      continue;
    }
    if (line.rfind("/adapter", 0) == 0) {
      std::istringstream in(line.substr(8));
      std::string dir, scale;
      in >> dir >> scale;
      if (dir.empty()) { std::fprintf(stderr, "hearth: usage: /adapter DIR [SCALE] | /adapter none\n"); continue; }
      if (dir == "none") { params.adapter.clear(); std::fprintf(stderr, "adapter: none\n"); continue; }
      float sc = 1.0f;
      if (!scale.empty()) {
        char* end = nullptr;
        sc = std::strtof(scale.c_str(), &end);
        if (*end) { std::fprintf(stderr, "hearth: /adapter: scale \"%s\" is not a number\n", scale.c_str()); continue; }
      }
      if (!loaded.count(dir)) {
        std::string name = "adapter" + std::to_string(loaded.size() + 1);
        Status st = s.engine->load_adapter(name, dir);
        if (!st.ok()) { std::fprintf(stderr, "hearth: %s\n", st.message().c_str()); continue; }
        loaded[dir] = name;
      }
      params.adapter = loaded[dir];
      params.adapter_scale = sc;
      std::fprintf(stderr, "adapter: %s (scale %g)\n", dir.c_str(), sc);
      continue;
    }
    auto reply = chat.send(line, params, [](const std::string& piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return true;
    }, stops);
    std::printf("\n");
    if (!reply.ok()) {
      std::fprintf(stderr, "hearth: %s\n", reply.message().c_str());
      continue;
    }
    const auto& r = chat.last_result();
    std::fprintf(stderr, "[%lld prompt tokens prefilled, %lld reused, %zu generated, %.1f tok/s]\n",
                 (long long)chat.last_new_tokens(), (long long)r.n_reused,
                 r.ids.size(), r.decode_seconds > 0 ? double(r.ids.size()) / r.decode_seconds : 0.0);
  }
  return 0;
}

}  // namespace hearth::cli
