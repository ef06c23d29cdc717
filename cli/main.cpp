// hearth: command-line front end. Dispatches to the subcommands in cli/cmd_*.cpp through the
// table below; `hearth --help` lists them, `hearth <command> --help` prints a command's usage,
// `hearth --version` the version.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

#ifndef HEARTH_VERSION
#define HEARTH_VERSION "unknown"
#endif

namespace {

using namespace hearth::cli;

struct Command {
  const char* name;
  const char* summary;  // one line for `hearth --help`
  const char* usage;    // `hearth <name> --help`
  int (*run)(int argc, char** argv);
};

// Every subcommand, in the order `hearth --help` lists them.
const Command kCommands[] = {
    {"generate", "generate text from a prompt (or token ids)", kGenerateUsage, cmd_generate},
    {"chat", "interactive multi-turn chat", kChatUsage, cmd_chat},
    {"perplexity", "perplexity over token windows", kPerplexityUsage, cmd_perplexity},
    {"bench", "prefill and decode throughput", kBenchUsage, cmd_bench},
    {"tokenize", "encode text to token ids, or decode ids", kTokenizeUsage, cmd_tokenize},
    {"random-checkpoint", "write a checkpoint with random weights for a config", kRandomCheckpointUsage,
     cmd_random_checkpoint},
    {"pack", "quantize a model once into a pack file that later loads map directly", kPackUsage, cmd_pack},
    {"serve", "an OpenAI-compatible HTTP server on this machine", kServeUsage, cmd_serve},
    {"convert", "Hugging Face folder <-> GGUF file; LoRA adapters to GGUF", kConvertUsage, cmd_convert},
    {"train", "train every tensor of a model (or from --init) on the CPU", kTrainUsage, cmd_train},
    {"finetune", "train a LoRA adapter on a frozen base model", kFinetuneUsage, cmd_finetune},
    {"bench-train", "training throughput and memory per step", kBenchTrainUsage, cmd_bench_train},
};

void overview(FILE* out) {
  std::fprintf(out, "usage: hearth <command> [options]\n\ncommands:\n");
  for (const Command& c : kCommands) std::fprintf(out, "  %-18s %s\n", c.name, c.summary);
  std::fprintf(out, "\n`hearth <command> --help` describes a command's options; `hearth --version` prints the version.\n"
               "A model (a Hugging Face folder) may be a .gguf file or a pack (.hpk) wherever one is taken.\n");
}

bool is_help(const char* a) { return !std::strcmp(a, "--help") || !std::strcmp(a, "-h"); }

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    overview(stderr);
    return 2;
  }
  const std::string cmd = argv[1];
  if (is_help(argv[1]) || cmd == "help") {
    if (argc > 2) {
      for (const Command& c : kCommands)
        if (argv[2] == std::string(c.name)) return std::fputs(c.usage, stdout) < 0 ? 1 : 0;
    }
    overview(stdout);
    return 0;
  }
  if (cmd == "--version" || cmd == "-V" || cmd == "version") {
    std::printf("hearth %s\n", HEARTH_VERSION);
    return 0;
  }
  for (const Command& c : kCommands) {
    if (cmd != c.name) continue;
    for (int i = 2; i < argc; ++i)
      if (is_help(argv[i])) return std::fputs(c.usage, stdout) < 0 ? 1 : 0;
    return c.run(argc - 2, argv + 2);
  }
  std::fprintf(stderr, "hearth: unknown command \"%s\" (hearth --help lists them)\n", cmd.c_str());
  return 2;
}
