// hearth chat: interactive multi-turn chat on stdin/stdout (see kChatUsage); the KV cache is
// kept between turns. Ctrl-C stops the reply being written, not the session; an error in a turn
// is reported and the session goes on, but the exit status is then 2. A conversation that
// outgrows --max-ctx is refused, or with --context-overflow drop-oldest loses its oldest turns.
#include <cmath>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <map>
#include <sstream>
#include <string>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"

namespace hearth::cli {

const char kChatUsage[] =
    "usage: hearth chat -m DIR [options]\n"
    "Chats on stdin/stdout; the KV cache is kept between turns. Ctrl-C stops a reply; Ctrl-D (end of\n"
    "input) or /quit leaves. Lines starting with / are commands (/help lists them); // sends a line\n"
    "that starts with /.\n"
    "Without --chat-template and without a template in tokenizer_config.json, a plain\n"
    "\"User: ... / Assistant: ...\" transcript is used (and said so at the start). --prompt and --ids\n"
    "belong to generate: chat reads its messages from stdin.\n"
    "  --context-overflow error|drop-oldest  a conversation longer than --max-ctx: refuse the turn\n"
    "                           (default), or drop the oldest turns (the system message stays)\n"
    HEARTH_MODEL_OPTIONS_USAGE HEARTH_SAMPLING_OPTIONS_USAGE HEARTH_DRAFT_OPTIONS_USAGE;

namespace {

volatile std::sig_atomic_t g_interrupted = 0;
void on_interrupt(int) { g_interrupted = 1; }

// Ctrl-C sets a flag instead of ending the process (and interrupts a blocking read).
struct InterruptGuard {
  struct sigaction old {};
  InterruptGuard() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a read waiting for input returns
    sigaction(SIGINT, &sa, &old);
  }
  ~InterruptGuard() { sigaction(SIGINT, &old, nullptr); }
};

const char kCommandHelp[] =
    "commands:\n"
    "  /help                 this list\n"
    "  /reset                forget the conversation (the system message stays)\n"
    "  /adapter DIR [SCALE]  load (once) and use a LoRA adapter from the next turn on\n"
    "  /adapter none         back to the base model\n"
    "  /quit, /exit          leave (so does end of input)\n"
    "  //text                send \"/text\" as a message\n"
    "Ctrl-C stops the reply being written.\n";

struct ChatState {
  Session& s;
  ChatSession& chat;
  GenerateRequest& params;
  std::map<std::string, std::string> loaded;  // adapter dir -> name
};

// /adapter DIR [SCALE] | /adapter none. The next turn re-prefills (ChatSession drops a cache
// computed under another adapter).
void adapter_command(ChatState& st, const std::string& rest) {
  std::istringstream in(rest);
  std::string dir, scale;
  in >> dir >> scale;
  if (dir.empty()) {
    std::fprintf(stderr, "hearth: usage: /adapter DIR [SCALE] | /adapter none\n");
    return;
  }
  if (dir == "none") {
    st.params.adapter.clear();
    std::fprintf(stderr, "adapter: none\n");
    return;
  }
  float sc = 1.0f;
  if (!scale.empty()) {
    char* end = nullptr;
    sc = std::strtof(scale.c_str(), &end);
    if (*end || !std::isfinite(sc)) {
      std::fprintf(stderr, "hearth: /adapter: scale \"%s\" is not a number\n", scale.c_str());
      return;
    }
  }
  if (!st.loaded.count(dir)) {
    const std::string name = "adapter" + std::to_string(st.loaded.size() + 1);
    Status status = st.s.engine->load_adapter(name, dir);
    if (!status.ok()) {
      std::fprintf(stderr, "hearth: %s\n", status.message().c_str());
      return;
    }
    st.loaded[dir] = name;
  }
  st.params.adapter = st.loaded[dir];
  st.params.adapter_scale = sc;
  std::fprintf(stderr, "adapter: %s (scale %g)\n", dir.c_str(), sc);
}

// Runs a /command; false when it asks to leave.
bool run_command(ChatState& st, const std::string& line) {
  const std::string name = line.substr(0, line.find(' '));
  if (name == "/quit" || name == "/exit") return false;
  if (name == "/help") {
    std::fputs(kCommandHelp, stderr);
  } else if (name == "/reset") {
    st.chat.reset();
    std::fprintf(stderr, "conversation cleared\n");
  } else if (name == "/adapter") {
    adapter_command(st, line.substr(name.size()));
  } else {
    std::fprintf(stderr, "hearth: unknown command %s (/help lists them; //text sends a line starting with /)\n",
                 name.c_str());
  }
  return true;
}

// One turn: streams the reply; Ctrl-C stops it. Returns false when the turn failed.
bool reply(ChatState& st, const std::string& text, const std::vector<std::string>& stops) {
  g_interrupted = 0;
  auto r = st.chat.send(text, st.params, [](const std::string& piece) {
    std::fwrite(piece.data(), 1, piece.size(), stdout);
    std::fflush(stdout);
    return !g_interrupted;
  }, stops);
  std::printf("\n");
  std::fflush(stdout);
  if (!r.ok()) {
    std::fprintf(stderr, "hearth: %s\n", r.message().c_str());
    return false;
  }
  const auto& res = st.chat.last_result();
  if (g_interrupted) std::fprintf(stderr, "[interrupted]\n");
  std::fprintf(stderr, "[%lld prompt tokens prefilled, %lld reused, %zu generated, %.1f tok/s]\n",
               (long long)st.chat.last_new_tokens(), (long long)res.n_reused, res.ids.size(), res.decode_seconds > 0 ? double(res.ids.size()) / res.decode_seconds : 0.0);
  g_interrupted = 0;
  return true;
}

}  // namespace

int cmd_chat(int argc, char** argv) {
  auto opts = generate_value_options();
  opts.insert("--context-overflow");
  auto args = Args::parse(argc, argv, opts, {"--no-think", "--no-quant-search"}, {{"-m", "--model"}, {"-n", "--max-tokens"}});
  if (!args.ok()) return fail(args.message());
  if (args->has("--prompt") || args->has("--ids")) return fail("chat reads its messages from stdin (--prompt and --ids are for generate)");
  auto setup = open_session(*args);
  if (!setup.ok()) return fail(setup.message());
  Session& s = **setup;
  if (!s.tokenizer.loaded()) return fail(s.dir + ": no tokenizer.json, chat needs one");
  bool plain = false;
  auto tmpl = load_chat_template(s, *args, /*plain_fallback=*/true, &plain);
  if (!tmpl.ok()) return fail(tmpl.message());
  GenerateRequest params;
  HEARTH_ASSIGN_OR_FAIL(params.max_new_tokens, args->integer("--max-tokens", 512, 1, 1 << 24));
  HEARTH_ASSIGN_OR_FAIL(params.sampling, sampling_from_args(*args, s.engine->default_sampling()));
  HEARTH_ASSIGN_OR_FAIL(params.adapter, apply_adapter_flags(s, *args, &params.adapter_scale));
  HEARTH_ASSIGN_OR_FAIL(params.grammar, grammar_from_args(s, *args));
  std::unique_ptr<Engine> draft;
  HEARTH_ASSIGN_OR_FAIL(params.speculative, speculative_from_args(*args, &draft));
  ChatOptions copt;
  copt.enable_thinking = !args->has("--no-think");
  ChatSession chat(*s.engine, s.tokenizer, *tmpl, copt);
  if (auto sys = args->str("--system")) chat.set_system(*sys);
  ContextOverflow overflow;
  HEARTH_ASSIGN_OR_FAIL(overflow, parse_context_overflow(args->str("--context-overflow").value_or("error")));
  chat.set_overflow(overflow);
  std::vector<std::string> stops = args->all("--stop");
  stops.insert(stops.end(), tmpl->stop_strings().begin(), tmpl->stop_strings().end());

  if (plain)
    std::fprintf(stderr, "hearth: %s has no chat template: using a plain \"User: ... / Assistant: ...\" transcript "
                 "(--chat-template NAME|FILE chooses a format)\n", s.dir.c_str());
  std::fprintf(stderr, "hearth chat: %s (%s), chat format: %s. /help lists commands, Ctrl-C stops a reply.\n",
               s.dir.c_str(), s.engine->model().backend().name().c_str(), tmpl->origin().c_str());
  ChatState st{s, chat, params, {}};
  InterruptGuard guard;
  bool any_failed = false;
  std::string line;
  while (true) {
    std::printf("> ");
    std::fflush(stdout);
    if (!std::getline(std::cin, line)) {
      if (!g_interrupted) break;  // end of input
      g_interrupted = 0;          // Ctrl-C at the prompt: the session goes on
      std::cin.clear();
      std::clearerr(stdin);
      std::fprintf(stderr, "\n(Ctrl-C stops a reply; /quit or Ctrl-D leaves)\n");
      continue;
    }
    if (line.empty()) continue;
    if (line[0] == '/' && line.rfind("//", 0) != 0) {
      if (!run_command(st, line)) break;
      continue;
    }
    if (line.rfind("//", 0) == 0) line.erase(0, 1);
    if (!reply(st, line, stops)) {
      any_failed = true;
      if (Status bs = s.engine->model().backend().status(); !bs.ok()) return fail(bs.message());
    }
  }
  return any_failed ? 2 : 0;
}

}  // namespace hearth::cli
