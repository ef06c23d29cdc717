// The `hearth` subcommands. Each takes the arguments after its name and returns the exit code,
// and has a usage text (printed by `hearth <command> --help`) that describes every flag. The
// table of commands is in cli/main.cpp: a new command adds one line there.
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

extern const char kGenerateUsage[];
extern const char kPerplexityUsage[];
extern const char kBenchUsage[];
extern const char kTokenizeUsage[];
extern const char kChatUsage[];
extern const char kRandomCheckpointUsage[];
extern const char kConvertUsage[];
extern const char kTrainUsage[];
extern const char kFinetuneUsage[];
extern const char kBenchTrainUsage[];
extern const char kPackUsage[];
extern const char kServeUsage[];

}  // namespace hearth::cli
