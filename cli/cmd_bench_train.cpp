// hearth bench-train [--preset d96|d128|d192|d256|all] [--steps N] [--threads T] [--recompute]
// hearth bench-train -m BASE_DIR [--dtype f32|int8|int4] [--rank R] [--targets q_proj,...]
//   [--tokens 18,512] [--steps N] [--threads T] [--recompute]
// Training throughput on random tokens: milliseconds per optimizer step (median over --steps
// after one warm-up step; also the fastest step and the process CPU time per step, which a busy
// machine inflates less), tokens per second at the median, and the bytes of weights, gradients, optimizer
// state and activations a step keeps. Without -m: pretraining at the TinyGPT preset shapes
// (d_model 96/128/192/256, context 64/96/128/128, batch 16/12/8/8; vocabulary 256, head_dim 32,
// 3/4/6/8 layers, SwiGLU width 8/3 d_model), on 1 thread and on all (or --threads). With -m:
// one LoRA fine-tuning step of one sequence of each --tokens length on the frozen base.
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "train/files.h"
#include "train/lora_train.h"
#include "train/rng.h"
#include "train/trainable_model.h"
#include "train/trainer.h"

namespace hearth::cli {

const char kBenchTrainUsage[] =
    "usage: hearth bench-train [--preset d96|d128|d192|d256|all] [--steps N] [--threads T] [--recompute]\n"
    "       hearth bench-train -m DIR [--dtype D] [--rank R] [--targets LIST] [--tokens 18,512] [options]\n"
    "Training throughput on random tokens: ms per optimizer step (median after one warm-up step,\n"
    "the fastest, CPU time), tokens/s and the memory a step keeps. Without -m: pretraining at the\n"
    "TinyGPT preset shapes; with -m: a LoRA step of one sequence per --tokens length.\n"
    "  --preset NAME            d96, d128, d192, d256 or all (default all)\n"
    "  --steps N                timed steps (default 5)\n"
    "  --threads T              CPU threads (default: 1 and all cores)\n"
    "  --recompute              recompute each layer's activations in the backward\n"
    "  -m, --model DIR          a base model for the LoRA benchmark\n"
    "  --dtype f32|int8|int4    the base's weights in memory (default int4)\n"
    "  --rank R                 LoRA rank (default 8; alpha 2R)\n"
    "  --targets LIST           projections to adapt (default q_proj,k_proj,v_proj,o_proj)\n"
    "  --tokens L1,L2,...       sequence lengths to time (default 18,512)\n";

namespace {

using namespace train;

struct Preset {
  const char* name;
  int64_t d, ctx, batch, layers;
};
constexpr Preset kPresets[] = {{"d96", 96, 64, 16, 3}, {"d128", 128, 96, 12, 4}, {"d192", 192, 128, 8, 6}, {"d256", 256, 128, 8, 8}};

Result<ModelConfig> preset_config(const Preset& p) {
  const int64_t inter = (8 * p.d / 3 + 31) / 32 * 32;
  const std::string json = "{\"model_type\": \"llama\", \"vocab_size\": 256, \"hidden_size\": " + std::to_string(p.d) +
                           ", \"intermediate_size\": " + std::to_string(inter) + ", \"num_hidden_layers\": " +
                           std::to_string(p.layers) + ", \"num_attention_heads\": " + std::to_string(p.d / 32) +
                           ", \"num_key_value_heads\": " + std::to_string(p.d / 32) +
                           ", \"max_position_embeddings\": 1024, \"rms_norm_eps\": 1e-6, \"rope_theta\": 10000.0, "
                           "\"tie_word_embeddings\": true, \"hidden_act\": \"silu\"}";
  HEARTH_ASSIGN(Json j, parse_json(json, p.name));
  return parse_model_config(j, p.name);
}

std::vector<int32_t> random_rows(int64_t rows, int64_t seq, int64_t vocab, uint64_t seed) {
  Rng rng(seed);
  std::vector<int32_t> v(static_cast<size_t>(rows * (seq + 1)));
  for (int32_t& x : v) x = int32_t(rng.below(uint64_t(vocab)));
  return v;
}

struct Timing {
  double ms = 0, tokens_per_s = 0;  // the median step
  double best_ms = 0;                // the fastest step (the least disturbed on a busy machine)
  double cpu_ms = 0;  // process CPU time per step (all threads), mean over the timed steps
};

// One warm-up step, then `steps` timed ones: the median.
Result<Timing> time_steps(Backend& be, ParamSet& params, TrainStep& step, int64_t rows, int64_t steps, int64_t vocab) {
  OptimConfig oc;
  oc.lr = 1e-4;
  oc.steps = steps + 1;
  Trainer trainer(be, params, step, oc);
  std::vector<double> ms;
  std::clock_t cpu0 = 0;
  for (int64_t s = 0; s <= steps; ++s) {
    if (s == 1) cpu0 = std::clock();
    HEARTH_ASSIGN(StepRecord r, trainer.step({random_rows(rows, step.seq(), vocab, uint64_t(s))}));
    if (s > 0) ms.push_back(r.seconds * 1e3);
  }
  const double cpu_ms = double(std::clock() - cpu0) * 1e3 / CLOCKS_PER_SEC / double(steps);
  std::sort(ms.begin(), ms.end());
  Timing t;
  t.ms = ms[ms.size() / 2];
  t.best_ms = ms.front();
  t.tokens_per_s = double(rows * step.seq()) / (t.ms / 1e3);
  t.cpu_ms = cpu_ms;
  return t;
}

double mb(int64_t bytes) { return double(bytes) / 1e6; }

int bench_presets(const Args& args, int64_t steps, const std::vector<int>& thread_counts) {
  const std::string which = args.str("--preset").value_or("all");
  bool any = false;
  for (const Preset& p : kPresets) {
    if (which != "all" && which != p.name) continue;
    any = true;
    auto cfg = preset_config(p);
    if (!cfg.ok()) return fail(cfg.message());
    for (int threads : thread_counts) {
      auto be = make_cpu_backend(threads);
      auto model = TrainableModel::init(*be, *cfg, 1);
      if (!model.ok()) return fail(model.message());
      TrainStep step(*be, *cfg, model->network(), p.batch, p.ctx, args.has("--recompute"));
      auto t = time_steps(*be, model->params(), step, p.batch, steps, cfg->vocab_size);
      if (!t.ok()) return fail(t.message());
      const int64_t n = model->params().numel();
      std::printf("%-5s %5.2fM params  ctx %3lld batch %2lld  %-16s %8.1f ms/step %9.0f tok/s  (best %.1f ms, cpu %.1f ms/step)  "
                  "weights %.1f MB  grads %.1f MB  adamw %.1f MB  activations %.1f MB\n",
                  p.name, double(n) / 1e6, (long long)p.ctx, (long long)p.batch, be->name().c_str(), t->ms, t->tokens_per_s,
                  t->best_ms, t->cpu_ms, mb(4 * n), mb(4 * n), mb(8 * n), mb(step.activation_bytes()));
      std::fflush(stdout);
    }
  }
  if (!any) return fail("--preset: \"" + which + "\" is not one of d96, d128, d192, d256, all");
  return 0;
}

int bench_lora(const Args& args, int64_t steps, const std::vector<int>& thread_counts) {
  std::vector<int32_t> lengths;
  HEARTH_ASSIGN_OR_FAIL(lengths, parse_id_list(args.str("--tokens").value_or("18,512"), "--tokens"));
  LoraSpec spec;
  HEARTH_ASSIGN_OR_FAIL(spec.rank, args.integer("--rank", 8, 1, 1 << 16));
  spec.alpha = double(2 * spec.rank);
  HEARTH_ASSIGN_OR_FAIL(spec.targets, parse_lora_targets(args.str("--targets").value_or("q_proj,k_proj,v_proj,o_proj")));
  for (int threads : thread_counts) {
    LoadOptions lo;
    HEARTH_ASSIGN_OR_FAIL(lo.dtype, parse_model_dtype(args.str("--dtype").value_or("int4")));
    lo.threads = threads;
    lo.max_ctx = 64;
    lo.max_prefill_t = 16;
    auto model = Model::load(*args.str("--model"), lo);
    if (!model.ok()) return fail(model.message());
    Model& m = **model;
    auto lora = LoraTraining::create(m.backend(), m.config(), spec, 1);
    if (!lora.ok()) return fail(lora.message());
    for (int32_t T : lengths) {
      if (T < 1) return fail("--tokens: lengths must be positive");
      const double need = double(TrainStep::activation_bytes_for(m.backend(), m.config(), lora->network(m), 1, T, args.has("--recompute")));
      const std::optional<uint64_t> room = m.backend().memory_limit();
      if (room && need > 0.8 * double(*room)) {
        return fail("--tokens " + std::to_string(T) + ": a step would need " + std::to_string(int64_t(need / 1e9)) +
                    " GB of activations, more than this machine has");
      }
      TrainStep step(m.backend(), m.config(), lora->network(m), 1, T, args.has("--recompute"));
      auto t = time_steps(m.backend(), lora->params(), step, 1, steps, m.config().vocab_size);
      if (!t.ok()) return fail(t.message());
      std::printf("LoRA rank %lld on %s (%s)  %4d tokens/step  %-16s %9.1f ms/step %8.1f trained tok/s  (best %.1f ms, cpu %.1f ms/step)  "
                  "adapter %.2f MB  "
                  "grads %.2f MB  adamw %.2f MB  activations %.1f MB  backend in all %.1f MB\n",
                  (long long)spec.rank, args.str("--model")->c_str(), model_dtype_name(lo.dtype), T, m.backend().name().c_str(),
                  t->ms, t->tokens_per_s, t->best_ms, t->cpu_ms, mb(4 * lora->params().numel()), mb(4 * lora->params().numel()),
                  mb(8 * lora->params().numel()), mb(step.activation_bytes()), mb(int64_t(m.backend().bytes_used())));
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace

int cmd_bench_train(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--preset", "--steps", "--threads", "--model", "--dtype", "--rank", "--targets", "--tokens"},
                          {"--recompute"}, {{"-m", "--model"}});
  if (!args.ok()) return fail(args.message());
  int64_t steps = 0, threads = 0;
  HEARTH_ASSIGN_OR_FAIL(steps, args->integer("--steps", 5, 1, 100000));
  HEARTH_ASSIGN_OR_FAIL(threads, args->integer("--threads", 0, 0, 1024));
  std::vector<int> thread_counts = {1, ThreadPool::default_threads()};
  if (threads > 0) thread_counts = {int(threads)};
  if (thread_counts.size() == 2 && thread_counts[1] == 1) thread_counts.pop_back();
  return args->has("--model") ? bench_lora(*args, steps, thread_counts) : bench_presets(*args, steps, thread_counts);
}

}  // namespace hearth::cli
