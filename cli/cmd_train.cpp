// hearth train -m MODEL_DIR --data FILE --steps N --batch B --seq T --lr LR [--min-lr X]
//   [--warmup W] [--beta1 .9] [--beta2 .95] [--eps 1e-8] [--weight-decay .1] [--grad-clip 1]
//   [--accum K] [--threads N] [--seed S] [--init] [--recompute] [--save-dtype f32|bf16]
//   --out OUT_DIR [--log LOG.jsonl] [--save-grads-step0 FILE]
// hearth finetune -m BASE_DIR --data FILE [--dtype f32|int8|int4] --rank R --alpha A
//   --targets q_proj,k_proj,... [--rslora] [--adapter-init DIR] (train's optimizer and data
//   options) --out ADAPTER_DIR [--log LOG.jsonl]
// train pretrains every tensor of the model (from its checkpoint, or with --init from its
// config.json with seeded normal(0, 0.02) weights) and writes a Hugging Face folder; finetune
// trains LoRA pairs on the frozen base (loaded as --dtype) and writes a PEFT adapter. A step
// takes --accum micro-batches of --batch rows of --seq + 1 tokens. Each step prints a line and
// appends {"step", "loss", "grad_norm" (before clipping), "lr", "tokens_per_s", ...} to --log.
// --recompute keeps only each layer's input and recomputes its activations in the backward.
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "train/data.h"
#include "train/files.h"
#include "train/lora_train.h"
#include "train/trainable_model.h"
#include "train/trainer.h"

namespace hearth::cli {

#define HEARTH_TRAIN_RUN_USAGE                                                                            \
  "data and steps:\n"                                                                                     \
  "  --data PATH              a safetensors file with an I32 tensor \"tokens\" [S, B, seq+1] or\n"       \
  "                           [N, seq+1], or a text file or folder of text files (tokenized with the\n"  \
  "                           model's tokenizer.json, cut into seeded, shuffled windows)\n"             \
  "  --steps N                optimizer steps (default: S of a [S, B, seq+1] token file)\n"             \
  "  --batch B                rows per micro-batch (default: B of a [S, B, seq+1] token file)\n"        \
  "  --seq T                  tokens per row, predicted from the T before (default: the token file's)\n" \
  "  --accum K                micro-batches per step (default 1)\n"                                      \
  "  --seed S                 seed of the data order and of initial weights (default 0)\n"              \
  "  --threads N              CPU threads (default: all cores)\n"                                       \
  "  --recompute              keep only each layer's input and recompute its activations in the\n"    \
  "                           backward (one layer's activation memory; the same results)\n"           \
  "optimizer (AdamW, warmup then cosine):\n"                                                             \
  "  --lr LR                  peak learning rate\n"                                                     \
  "  --min-lr X               rate at the last step (default LR/10)\n"                                  \
  "  --warmup W               steps of linear warmup (default 0)\n"                                     \
  "  --beta1 B1, --beta2 B2   moment decays (default 0.9, 0.95)\n"                                     \
  "  --eps E                  AdamW epsilon (default 1e-8)\n"                                           \
  "  --weight-decay WD        decoupled weight decay on 2-D tensors (default 0.1)\n"                    \
  "  --grad-clip C            clip the gradient norm to C, 0 = off (default 1)\n"                       \
  "output:\n"                                                                                            \
  "  -o, --out DIR            the folder to write\n"                                                    \
  "  --log FILE.jsonl         one JSON line per step (step, loss, grad_norm, lr, tokens, tokens_per_s,\n" \
  "                           ms)\n"

const char kTrainUsage[] =
    "usage: hearth train -m DIR --data PATH --steps N --batch B --seq T --lr LR --out DIR [options]\n"
    "Trains every tensor of a model (f32) and writes a Hugging Face folder.\n"
    "  -m, --model DIR          a model folder: its weights, or with --init only its config.json\n"
    "  --init                   start from seeded normal(0, 0.02) weights instead of the checkpoint\n"
    "  --save-dtype f32|bf16    dtype of the written model.safetensors (default f32)\n"
    "  --save-grads-step0 FILE  write the first step's gradients to a safetensors file\n"
    HEARTH_TRAIN_RUN_USAGE "  (--lr defaults to 1e-3)\n";

const char kFinetuneUsage[] =
    "usage: hearth finetune -m DIR --data PATH --targets q_proj,... --out ADAPTER_DIR [options]\n"
    "Trains LoRA pairs on a frozen base model and writes a PEFT adapter (adapter_config.json,\n"
    "adapter_model.safetensors).\n"
    "  -m, --model DIR          the base model folder\n"
    "  --dtype f32|int8|int4    the frozen base's weights in memory (int4: QLoRA; default f32)\n"
    "  --no-quant-search        int4: skip the per-group range search\n"
    "  --rank R                 LoRA rank (default 8)\n"
    "  --alpha A                LoRA alpha; the scale is A/R (default 2R)\n"
    "  --rslora                 scale by A/sqrt(R) instead\n"
    "  --targets LIST           projections to adapt: q_proj, k_proj, v_proj, o_proj, gate_proj,\n"
    "                           up_proj, down_proj, or all-linear (comma-separated)\n"
    "  --adapter-init DIR       continue from a PEFT adapter (its rank, alpha and targets)\n"
    HEARTH_TRAIN_RUN_USAGE "  (--lr defaults to 2e-4)\n";

namespace {

using namespace train;

struct RunOptions {
  std::string model_dir, data, out, log;
  OptimConfig optim;
  int64_t batch = 0, seq = 0, accum = 1;
  int threads = 0;
  uint64_t seed = 0;
  bool recompute = false;  // --recompute: keep layer inputs only, recompute activations in the backward
};

std::set<std::string> run_value_options() {
  return {"--model", "--data", "--steps", "--batch", "--seq", "--lr", "--min-lr", "--warmup", "--beta1", "--beta2",
          "--eps", "--weight-decay", "--grad-clip", "--accum", "--threads", "--out", "--log", "--seed"};
}

// The shape of a safetensors file's "tokens" tensor, when --data is one (else empty).
std::vector<int64_t> token_file_shape(const std::string& path) {
  if (is_dir(path) || path.size() < 12 || path.compare(path.size() - 12, 12, ".safetensors") != 0) return {};
  auto st = SafetensorsFile::open(path);
  if (!st.ok()) return {};
  const TensorInfo* t = st->find("tokens");
  return t ? t->shape : std::vector<int64_t>{};
}

Result<RunOptions> run_options(const Args& a, double default_lr) {
  RunOptions o;
  HEARTH_ASSIGN(o.model_dir, a.required("--model"));
  HEARTH_ASSIGN(o.data, a.required("--data"));
  HEARTH_ASSIGN(o.out, a.required("--out"));
  o.log = a.str("--log").value_or("");
  o.recompute = a.has("--recompute");
  // --seq, --batch and --steps default to what a [S, B, seq + 1] token file holds.
  const std::vector<int64_t> shape = token_file_shape(o.data);
  const bool rows3 = shape.size() == 3, rows2 = shape.size() == 2;
  const auto need = [&](const char* name, bool known) -> Status {
    return known || a.has(name) ? Status() : Status(err("missing required option ", name));
  };
  HEARTH_CHECK(need("--seq", rows2 || rows3));
  HEARTH_CHECK(need("--batch", rows3));
  HEARTH_CHECK(need("--steps", rows3));
  HEARTH_ASSIGN(o.seq, a.integer("--seq", shape.empty() ? 0 : shape.back() - 1, 1, 1 << 20));
  HEARTH_ASSIGN(o.batch, a.integer("--batch", rows3 ? shape[1] : 0, 1, 1 << 20));
  HEARTH_ASSIGN(o.optim.steps, a.integer("--steps", rows3 ? shape[0] : 0, 1, int64_t(1) << 40));
  HEARTH_ASSIGN(o.accum, a.integer("--accum", 1, 1, 1 << 20));
  HEARTH_ASSIGN(int64_t threads, a.integer("--threads", 0, 0, 1024));
  o.threads = int(threads);
  HEARTH_ASSIGN(int64_t seed, a.integer("--seed", 0, 0, INT64_MAX));
  o.seed = uint64_t(seed);
  OptimConfig& c = o.optim;
  HEARTH_ASSIGN(c.lr, a.number("--lr", default_lr, 0.0, 1e6));
  HEARTH_ASSIGN(c.min_lr, a.number("--min-lr", c.lr / 10, 0.0, 1e6));
  HEARTH_ASSIGN(c.warmup, a.integer("--warmup", 0, 0, int64_t(1) << 40));
  HEARTH_ASSIGN(c.beta1, a.number("--beta1", 0.9, 0.0, 1.0));
  HEARTH_ASSIGN(c.beta2, a.number("--beta2", 0.95, 0.0, 1.0));
  HEARTH_ASSIGN(c.eps, a.number("--eps", 1e-8, 0.0, 1.0));
  HEARTH_ASSIGN(c.weight_decay, a.number("--weight-decay", 0.1, 0.0, 1e6));
  HEARTH_ASSIGN(c.grad_clip, a.number("--grad-clip", 1.0, 0.0, 1e12));
  HEARTH_CHECK(c.validate());
  return o;
}

Result<Tokenizer> folder_tokenizer(const std::string& dir) {
  if (!file_exists(dir + "/tokenizer.json")) return Tokenizer();
  return Tokenizer::load_file(dir + "/tokenizer.json");
}

// Refuses a micro-batch whose activations cannot fit in memory, before anything is allocated.
Status check_memory(Backend& be, const ModelConfig& cfg, const NetworkRefs& net, const RunOptions& o) {
  const double need = double(TrainStep::activation_bytes_for(be, cfg, net, o.batch, o.seq, o.recompute));
  const std::optional<uint64_t> room = be.memory_limit();
  const double cap = room ? double(*room) : 0.0;
  if (room && need > 0.8 * cap) {
    char gb[64];
    std::snprintf(gb, sizeof gb, "%.1f GB of activations, more than this machine has free (%.1f GB)", need / 1e9, cap / 1e9);
    return err("a micro-batch of ", o.batch, " x ", o.seq, " tokens needs ", gb,
               ": lower --batch or --seq (--accum K keeps the tokens per step), or add --recompute");
  }
  return {};
}

std::optional<int32_t> eos_of(const ModelConfig& c) {
  if (c.eos_token_ids.empty()) return std::nullopt;
  return int32_t(c.eos_token_ids[0]);
}

// The loop both commands share: steps of --accum micro-batches, a line per step on stdout and
// in the log. before_update(step) runs with the step's gradients complete.
Status run_steps(Backend& be, ParamSet& params, TrainStep& step, TokenData& data, const RunOptions& o,
                 const std::function<Status(int64_t)>& before_update) {
  std::unique_ptr<FILE, int (*)(FILE*)> log(nullptr, &std::fclose);
  if (!o.log.empty()) {
    HEARTH_CHECK(make_parent_dirs(o.log));
    log.reset(std::fopen(o.log.c_str(), "w"));
    if (!log) return err("--log: cannot write ", o.log);
  }
  Trainer trainer(be, params, step, o.optim);
  for (int64_t s = 0; s < o.optim.steps; ++s) {
    std::vector<std::vector<int32_t>> micro;
    for (int64_t k = 0; k < o.accum; ++k) micro.push_back(data.next(o.batch));
    HEARTH_ASSIGN(StepRecord r, trainer.step(micro, [&] { return before_update(s); }));
    std::printf("step %lld/%lld  loss %.4f  grad_norm %.4f  lr %.3e  %.0f tok/s\n", (long long)s + 1,
                (long long)o.optim.steps, r.loss, r.grad_norm, r.lr, r.tokens_per_s());
    std::fflush(stdout);
    if (log) {
      std::fprintf(log.get(), "%s\n", r.json().c_str());
      std::fflush(log.get());
    }
  }
  return {};
}

}  // namespace

int cmd_train(int argc, char** argv) {
  std::set<std::string> values = run_value_options();
  values.insert({"--save-dtype", "--save-grads-step0"});
  auto args = Args::parse(argc, argv, values, {"--init", "--recompute"}, {{"-m", "--model"}, {"-o", "--out"}});
  if (!args.ok()) return fail(args.message());
  RunOptions o;
  HEARTH_ASSIGN_OR_FAIL(o, run_options(*args, 1e-3));
  const std::string save_dtype = args->str("--save-dtype").value_or("f32");
  if (save_dtype != "f32" && save_dtype != "bf16") return fail("--save-dtype: \"" + save_dtype + "\" is not one of f32, bf16");
  auto be = make_cpu_backend(o.threads);
  auto model = args->has("--init") ? TrainableModel::init(*be, o.model_dir, o.seed) : TrainableModel::load(*be, o.model_dir);
  if (!model.ok()) return fail(model.message());
  const ModelConfig& cfg = model->config();
  Tokenizer tok;
  HEARTH_ASSIGN_OR_FAIL(tok, folder_tokenizer(o.model_dir));
  auto data = TokenData::open(o.data, o.seq, cfg.vocab_size, tok, eos_of(cfg), o.seed);
  if (!data.ok()) return fail(data.message());
  if (Status st = check_memory(*be, cfg, model->network(), o); !st.ok()) return fail(st.message());
  std::printf("training %lld parameters of %s on %s (%s)\n", (long long)model->params().numel(), o.model_dir.c_str(),
              data->description().c_str(), be->name().c_str());
  std::fflush(stdout);
  TrainStep step(*be, cfg, model->network(), o.batch, o.seq, o.recompute);
  const std::string grads_path = args->str("--save-grads-step0").value_or("");
  Status st = run_steps(*be, model->params(), step, *data, o, [&](int64_t s) -> Status {
    if (s != 0 || grads_path.empty()) return {};
    HEARTH_CHECK(make_parent_dirs(grads_path));
    std::vector<const Param*> ps;
    for (const Param& p : model->params().params()) ps.push_back(&p);
    return write_tensors(*be, grads_path, ps, DType::F32, true);
  });
  if (!st.ok()) return fail(st.message());
  st = model->save(*be, o.out, save_dtype == "bf16" ? DType::BF16 : DType::F32);
  if (!st.ok()) return fail(st.message());
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

int cmd_finetune(int argc, char** argv) {
  std::set<std::string> values = run_value_options();
  values.insert({"--dtype", "--rank", "--alpha", "--targets", "--adapter-init"});
  auto args = Args::parse(argc, argv, values, {"--rslora", "--no-quant-search", "--recompute"},
                          {{"-m", "--model"}, {"-o", "--out"}});
  if (!args.ok()) return fail(args.message());
  RunOptions o;
  HEARTH_ASSIGN_OR_FAIL(o, run_options(*args, 2e-4));
  LoadOptions lo;
  HEARTH_ASSIGN_OR_FAIL(lo.dtype, parse_model_dtype(args->str("--dtype").value_or("f32")));
  lo.threads = o.threads;
  lo.quant_search = !args->has("--no-quant-search");
  lo.max_ctx = 64;  // the inference state stays small: training has buffers of its own
  lo.max_prefill_t = 16;
  auto model = Model::load(o.model_dir, lo);
  if (!model.ok()) return fail(model.message());
  Model& m = **model;
  Backend& be = m.backend();
  Result<LoraTraining> lora = Error{};
  if (auto init = args->str("--adapter-init")) {
    lora = LoraTraining::from_adapter(be, m.config(), *init);
    if (!lora.ok()) return fail(lora.message());
    const LoraSpec& s = lora->spec();
    int64_t rank = 0;
    double alpha = 0;
    HEARTH_ASSIGN_OR_FAIL(rank, args->integer("--rank", s.rank, 1, 1 << 16));
    HEARTH_ASSIGN_OR_FAIL(alpha, args->number("--alpha", s.alpha, 0.0, 1e9));
    if (rank != s.rank) return fail("--rank " + std::to_string(rank) + " differs from the rank of --adapter-init " + *init);
    if (std::fabs(alpha / double(rank) - double(s.scale())) > 1e-6 * double(s.scale())) {
      return fail("--alpha " + std::to_string(alpha) + " differs from the scale of --adapter-init " + *init);
    }
    if (auto t = args->str("--targets")) {
      std::vector<Proj> targets;
      HEARTH_ASSIGN_OR_FAIL(targets, parse_lora_targets(*t));
      if (targets != s.targets) return fail("--targets differ from the modules of --adapter-init " + *init);
    }
  } else {
    LoraSpec spec;
    HEARTH_ASSIGN_OR_FAIL(spec.rank, args->integer("--rank", 8, 1, 1 << 16));
    HEARTH_ASSIGN_OR_FAIL(spec.alpha, args->number("--alpha", double(2 * spec.rank), 0.0, 1e9));
    spec.rslora = args->has("--rslora");
    std::string targets;
    HEARTH_ASSIGN_OR_FAIL(targets, args->required("--targets"));
    HEARTH_ASSIGN_OR_FAIL(spec.targets, parse_lora_targets(targets));
    lora = LoraTraining::create(be, m.config(), spec, o.seed);
    if (!lora.ok()) return fail(lora.message());
  }
  Tokenizer tok;
  HEARTH_ASSIGN_OR_FAIL(tok, folder_tokenizer(o.model_dir));
  auto data = TokenData::open(o.data, o.seq, m.config().vocab_size, tok, eos_of(m.config()), o.seed);
  if (!data.ok()) return fail(data.message());
  if (Status st = check_memory(be, m.config(), lora->network(m), o); !st.ok()) return fail(st.message());
  std::printf("fine-tuning %lld LoRA parameters (rank %lld) on %s as %s, on %s (%s)\n", (long long)lora->params().numel(),
              (long long)lora->spec().rank, o.model_dir.c_str(), model_dtype_name(lo.dtype), data->description().c_str(),
              be.name().c_str());
  TrainStep step(be, m.config(), lora->network(m), o.batch, o.seq, o.recompute);
  Status st = run_steps(be, lora->params(), step, *data, o, [](int64_t) { return Status(); });
  if (!st.ok()) return fail(st.message());
  st = lora->save_peft(be, o.out, o.model_dir);
  if (!st.ok()) return fail(st.message());
  std::printf("wrote %s\n", o.out.c_str());
  return 0;
}

}  // namespace hearth::cli
