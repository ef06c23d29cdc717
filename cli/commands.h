// The `hearth` subcommands. Each takes the arguments after its name and returns the exit code.
#pragma once

namespace hearth::cli {

int cmd_generate(int argc, char** argv);
int cmd_perplexity(int argc, char** argv);
int cmd_bench(int argc, char** argv);
int cmd_tokenize(int argc, char** argv);
int cmd_chat(int argc, char** argv);
int cmd_random_checkpoint(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_train(int argc, char** argv);
int cmd_finetune(int argc, char** argv);
int cmd_bench_train(int argc, char** argv);
int cmd_pack(int argc, char** argv);
int cmd_serve(int argc, char** argv);

}  // namespace hearth::cli
