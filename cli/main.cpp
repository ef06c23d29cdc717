// hearth: command-line front end. Dispatches to the subcommands in cli/cmd_*.cpp.
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/commands.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: hearth <command> [options]\n"
               "  generate   -m DIR (--prompt TEXT | --ids 1,2,3) [-n N] [--temp T] [--top-k K] [--top-p P]\n"
               "             [--min-p P] [--repeat-penalty R] [--presence-penalty P] [--frequency-penalty F]\n"
               "             [--seed S] [--stop STR] [--dtype f32|f16|int8|int4] [--max-ctx N] [--threads T]\n"
               "             [--kv-dtype f32|f16|int8]   (KV cache precision)\n"
               "             [--chat [--system TEXT] [--no-think]] [--adapter DIR [--adapter-scale S]] [--print-ids]\n"
               "             [--json-schema FILE | --grammar FILE]   (output valid JSON under the schema / GBNF)\n"
               "             [--draft prompt-lookup|DIR [--draft-k K]]   (speculative decoding)\n"
               "  chat       -m DIR [generate's model, sampling and adapter options] [--system TEXT] [--no-think]\n"
               "             [--context-overflow error|drop-oldest]\n"
               "  serve      -m DIR [--port 8080] [--host 127.0.0.1] [--adapter NAME=DIR,...] [--queue N]\n"
               "             [--context-overflow error|drop-oldest] [model options]   (OpenAI-compatible HTTP)\n"
               "  perplexity -m DIR --windows FILE [--dtype D] [--kv-dtype f32|f16|int8]\n"
               "  bench      -m DIR [--prompt-len N] [--gen N] [--threads T] [--dtype D] [--lora-rank R]\n"
               "  tokenize   -t PATH (--text TEXT | --file F | --decode \"1 2 3\")\n"
               "  random-checkpoint (--config FILE | --preset NAME) -o DIR [--seed S]\n"
               "  convert    -m DIR -o FILE.gguf [--type f32|f16|bf16|q8_0|q4_0]\n"
               "  convert    -m FILE.gguf -o DIR [--dtype auto|f32|f16|bf16]\n"
               "  convert    -m ADAPTER_DIR --base MODEL -o ADAPTER.gguf      (LoRA, llama.cpp's format)\n"
               "  train      -m DIR --data FILE --steps N --batch B --seq T --lr LR [--min-lr X] [--warmup W]\n"
               "             [--beta1 B1] [--beta2 B2] [--eps E] [--weight-decay WD] [--grad-clip C] [--accum K]\n"
               "             [--threads T] [--seed S] [--init] [--recompute] [--save-dtype f32|bf16] --out DIR\n"
               "             [--log LOG.jsonl] [--save-grads-step0 FILE]\n"
               "  finetune   -m DIR --data FILE [--dtype f32|int8|int4] --rank R --alpha A --targets q_proj,...\n"
               "             [--adapter-init DIR] [train's optimizer and data options] --out DIR [--log LOG.jsonl]\n"
               "  bench-train [--preset d96|d128|d192|d256|all] [--steps N] [--threads T] [--recompute]\n"
               "             | -m DIR [--dtype D] [--rank R] [--targets ...] [--tokens 18,512]\n"
               "  pack       -m DIR -o FILE.hpk [--dtype int4|int8|f16|f32] [--no-quant-search] [--threads T]\n"
               "DIR (a Hugging Face folder) may be a .gguf file or a pack wherever a model is taken; generate\n"
               "and chat take --cache-dir DIR: the pack made on a folder's first load is reused after.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "--help")) {
    usage();
    return argc < 2 ? 2 : 0;
  }
  std::string cmd = argv[1];
  int n = argc - 2;
  char** rest = argv + 2;
  if (cmd == "generate") return hearth::cli::cmd_generate(n, rest);
  if (cmd == "chat") return hearth::cli::cmd_chat(n, rest);
  if (cmd == "perplexity") return hearth::cli::cmd_perplexity(n, rest);
  if (cmd == "bench") return hearth::cli::cmd_bench(n, rest);
  if (cmd == "tokenize") return hearth::cli::cmd_tokenize(n, rest);
  if (cmd == "random-checkpoint") return hearth::cli::cmd_random_checkpoint(n, rest);
  if (cmd == "convert") return hearth::cli::cmd_convert(n, rest);
  if (cmd == "train") return hearth::cli::cmd_train(n, rest);
  if (cmd == "finetune") return hearth::cli::cmd_finetune(n, rest);
  if (cmd == "bench-train") return hearth::cli::cmd_bench_train(n, rest);
  if (cmd == "pack") return hearth::cli::cmd_pack(n, rest);
  if (cmd == "serve") return hearth::cli::cmd_serve(n, rest);
  std::fprintf(stderr, "hearth: unknown command \"%s\" (hearth --help lists them)\n", cmd.c_str());
  return 2;
}
