// The training C API of the wasm engine module, wrapped by web/src/train.mjs: a session
// pretrains a model (every tensor, from a checkpoint folder or with `init` from its config) or
// fine-tunes LoRA pairs on a model loaded by hearth_load (its frozen base in whatever dtype it
// was loaded), one optimizer step per hearth_train_step call, and writes the result into an FS
// folder (a Hugging Face folder or a PEFT adapter) or hands the trained adapter to the loaded
// engine for generation at once. Options come as one JSON object with the JS names; calls that
// may reach the GPU are called with ccall(..., {async: true}). A session's buffers go back to
// its backend when it is freed.
#include <emscripten.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "formats/safetensors.h"
#include "train/data.h"
#include "train/files.h"
#include "train/lora_train.h"
#include "train/trainable_model.h"
#include "train/trainer.h"
#include "web_module.h"

namespace {

using namespace hearth;
using namespace hearth::train;
using web::Options;

struct Session {
  int handle = 0;                          // the loaded model it works on (0: none)
  std::unique_ptr<Backend> own_backend;    // pretraining without a loaded model
  Backend* be = nullptr;
  std::string dir;                         // the model folder (config and tokenizer files)
  std::optional<TrainableModel> model;     // pretraining
  std::optional<LoraTraining> lora;        // fine-tuning
  std::optional<TokenData> data;
  std::unique_ptr<TrainStep> step;
  std::unique_ptr<Trainer> trainer;
  OptimConfig optim;
  int64_t batch = 0, accum = 1;
  std::string description;
  std::string grads_step0;  // where step 0's gradients go (a safetensors file), or ""

  ParamSet& params() { return model ? model->params() : lora->params(); }
  // Whether its backend is still there (a loaded model's goes with hearth_free).
  bool alive() const { return !handle || web::folder(handle) != nullptr; }
  ~Session() {
    if (!alive()) {  // the buffers went with the model's backend
      (void)trainer.release();
      (void)step.release();
      return;
    }
    trainer.reset();
    step.reset();
    if (be && (model || lora)) params().release(*be);
  }
};

std::vector<std::unique_ptr<Session>> g_sessions(1);  // session 0 is never valid
std::string g_json;

Session* session(int id) {
  if (id <= 0 || size_t(id) >= g_sessions.size() || !g_sessions[size_t(id)]) {
    web::set_error("invalid training session " + std::to_string(id));
    return nullptr;
  }
  Session* s = g_sessions[size_t(id)].get();
  if (!s->alive()) {
    web::set_error("the model of training session " + std::to_string(id) + " was freed");
    return nullptr;
  }
  return s;
}

int fail_with(const Error& e, int code) {
  web::set_error(e.message);
  return code;
}

// The shape of a safetensors file's "tokens" tensor, when `data` is one (else empty).
std::vector<int64_t> token_file_shape(const std::string& path) {
  if (is_dir(path) || path.size() < 12 || path.compare(path.size() - 12, 12, ".safetensors") != 0) return {};
  auto st = SafetensorsFile::open(path);
  if (!st.ok()) return {};
  const TensorInfo* t = st->find("tokens");
  return t ? t->shape : std::vector<int64_t>{};
}

// The options both kinds share (hearth train's flags under their JS names); seq, batch and
// steps default to what a [S, B, seq + 1] token file holds.
Status run_options(const Options& o, double default_lr, Session* s, int64_t* seq, uint64_t* seed, bool* recompute,
                   std::string* data) {
  HEARTH_ASSIGN(*data, o.string("data", ""));
  if (data->empty()) return err("data: the training data (a token file, a text file or a folder of text files) is required");
  const std::vector<int64_t> shape = token_file_shape(*data);
  const bool rows3 = shape.size() == 3, rows2 = shape.size() == 2;
  for (const auto& [key, known] : {std::pair<const char*, bool>{"seq", rows2 || rows3}, {"batch", rows3}, {"steps", rows3}}) {
    if (!known && !o.get(key)) return err(key, " is required (data ", *data, " does not give it)");
  }
  HEARTH_ASSIGN(*seq, o.integer("seq", shape.empty() ? 0 : shape.back() - 1, 1, 1 << 20));
  HEARTH_ASSIGN(s->batch, o.integer("batch", rows3 ? shape[1] : 0, 1, 1 << 20));
  HEARTH_ASSIGN(s->optim.steps, o.integer("steps", rows3 ? shape[0] : 0, 1, int64_t(1) << 40));
  HEARTH_ASSIGN(s->accum, o.integer("accum", 1, 1, 1 << 20));
  HEARTH_ASSIGN(int64_t sd, o.integer("seed", 0, 0, int64_t(1) << 53));
  *seed = uint64_t(sd);
  HEARTH_ASSIGN(*recompute, o.boolean("recompute", false));
  HEARTH_ASSIGN(s->grads_step0, o.string("saveGradsStep0", ""));
  OptimConfig& c = s->optim;
  HEARTH_ASSIGN(c.lr, o.number("lr", default_lr, 0.0, 1e6));
  HEARTH_ASSIGN(c.min_lr, o.number("minLr", c.lr / 10, 0.0, 1e6));
  HEARTH_ASSIGN(c.warmup, o.integer("warmup", 0, 0, int64_t(1) << 40));
  HEARTH_ASSIGN(c.beta1, o.number("beta1", 0.9, 0.0, 1.0));
  HEARTH_ASSIGN(c.beta2, o.number("beta2", 0.95, 0.0, 1.0));
  HEARTH_ASSIGN(c.eps, o.number("eps", 1e-8, 0.0, 1.0));
  HEARTH_ASSIGN(c.weight_decay, o.number("weightDecay", 0.1, 0.0, 1e6));
  HEARTH_ASSIGN(c.grad_clip, o.number("gradClip", 1.0, 0.0, 1e12));
  return c.validate();
}

// LoRA pairs as the options say: new ones (rank, alpha, targets, rslora) or an initial adapter
// (adapterInit), whose rank, scale and modules the other options must then agree with.
Result<LoraTraining> lora_pairs(const Options& o, Backend& be, const ModelConfig& cfg, uint64_t seed) {
  std::vector<Proj> targets;
  if (const Json* t = o.get("targets")) {
    std::string text;
    if (t->is_string()) {
      text = t->as_string();
    } else if (t->is_array()) {
      HEARTH_ASSIGN(std::vector<std::string> names, o.strings("targets"));
      for (const auto& n : names) text += (text.empty() ? "" : ",") + n;
    } else {
      return err("targets: expected a string (\"q_proj,v_proj\") or an array of module names");
    }
    HEARTH_ASSIGN(targets, parse_lora_targets(text));
  }
  HEARTH_ASSIGN(std::string init, o.string("adapterInit", ""));
  if (!init.empty()) {
    HEARTH_ASSIGN(LoraTraining t, LoraTraining::from_adapter(be, cfg, init));
    const LoraSpec& s = t.spec();
    HEARTH_ASSIGN(int64_t rank, o.integer("rank", s.rank, 1, 1 << 16));
    HEARTH_ASSIGN(double alpha, o.number("alpha", s.alpha, 0.0, 1e9));
    if (rank != s.rank) return err("rank ", rank, " differs from the rank of adapterInit ", init);
    if (std::fabs(alpha / double(rank) - double(s.scale())) > 1e-6 * double(s.scale())) {
      return err("alpha ", alpha, " differs from the scale of adapterInit ", init);
    }
    if (o.get("targets") && targets != s.targets) return err("targets differ from the modules of adapterInit ", init);
    return t;
  }
  LoraSpec spec;
  HEARTH_ASSIGN(spec.rank, o.integer("rank", 8, 1, 1 << 16));
  HEARTH_ASSIGN(spec.alpha, o.number("alpha", double(2 * spec.rank), 0.0, 1e9));
  HEARTH_ASSIGN(spec.rslora, o.boolean("rslora", false));
  if (!o.get("targets")) return err("targets: the projections to adapt are required (e.g. \"q_proj,v_proj\")");
  spec.targets = targets;
  return LoraTraining::create(be, cfg, spec, seed);
}

// Refuses a micro-batch whose activations cannot fit in this process's memory (CPU backends,
// whose activations live in the wasm heap), before anything is allocated.
Status check_memory(Backend& be, const ModelConfig& cfg, const NetworkRefs& net, int64_t batch, int64_t seq,
                    bool recompute) {
  if (be.tier() != "cpu") return {};
  const double need = double(TrainStep::activation_bytes_for(be, cfg, net, batch, seq, recompute));
  const std::optional<uint64_t> room = be.memory_limit();  // the wasm heap's room
  const double cap = room ? double(*room) : 0.0;
  if (room && need > 0.8 * cap) {
    return err("a micro-batch of ", batch, " x ", seq, " tokens needs ", int64_t(need / 1e6), " MB of activations, more than ",
               int64_t(cap / 1e6), " MB: lower batch or seq (accum keeps the tokens per step), or set recompute");
  }
  return {};
}

Result<std::unique_ptr<Session>> start(int handle, const std::string& kind, const std::string& dir_arg,
                                       const char* options) {
  HEARTH_ASSIGN(Options o, Options::parse(options, kind == "finetune" ? "finetune options" : "train options"));
  if (kind != "train" && kind != "finetune") return err("unknown training kind \"", kind, "\"");
  auto s = std::make_unique<Session>();
  s->handle = handle;
  ModelFolder* f = nullptr;
  if (handle) {
    f = web::folder(handle);
    if (!f) return err("invalid engine handle ", handle);
    s->be = &f->engine->model().backend();
    s->dir = f->dir;
  } else {
    if (kind == "finetune") return err("fine-tuning needs a loaded model");
    BackendOptions bo;
    HEARTH_ASSIGN(bo.kind, o.string("backend", "cpu"));
    HEARTH_ASSIGN(int64_t threads, o.integer("threads", 0, 0, 1024));
    bo.threads = int(threads);
    HEARTH_ASSIGN(bo.allow_subgroups, o.boolean("subgroups", true));
    HEARTH_ASSIGN(s->own_backend, make_backend(bo));
    s->be = s->own_backend.get();
    s->dir = dir_arg;
  }
  int64_t seq = 0;
  uint64_t seed = 0;
  bool recompute = false;
  std::string data;
  HEARTH_CHECK(run_options(o, kind == "train" ? 1e-3 : 2e-4, s.get(), &seq, &seed, &recompute, &data));
  Backend& be = *s->be;
  NetworkRefs net;
  const ModelConfig* cfg = nullptr;
  if (kind == "train") {
    HEARTH_ASSIGN(bool init, o.boolean("init", false));
    HEARTH_ASSIGN(TrainableModel m, init ? TrainableModel::init(be, s->dir, seed) : TrainableModel::load(be, s->dir));
    s->model.emplace(std::move(m));
    net = s->model->network();
    cfg = &s->model->config();
  } else {
    Model& model = f->engine->model();
    HEARTH_ASSIGN(LoraTraining t, lora_pairs(o, be, model.config(), seed));
    s->lora.emplace(std::move(t));
    net = s->lora->network(model);
    cfg = &model.config();
  }
  Tokenizer none;
  const Tokenizer* tok = f ? &f->tokenizer : &none;
  Tokenizer own;
  if (!f && file_exists(s->dir + "/tokenizer.json")) {
    HEARTH_ASSIGN(own, Tokenizer::load_file(s->dir + "/tokenizer.json"));
    tok = &own;
  }
  std::optional<int32_t> eos;
  if (!cfg->eos_token_ids.empty()) eos = int32_t(cfg->eos_token_ids[0]);
  HEARTH_ASSIGN(TokenData d, TokenData::open(data, seq, cfg->vocab_size, *tok, eos, seed));
  s->data.emplace(std::move(d));
  HEARTH_CHECK(check_memory(be, *cfg, net, s->batch, seq, recompute));
  s->step = std::make_unique<TrainStep>(be, *cfg, net, s->batch, seq, recompute);
  s->trainer = std::make_unique<Trainer>(be, s->params(), *s->step, s->optim);
  HEARTH_CHECK(be.status());
  s->description = s->data->description();
  return s;
}

Json info(Session& s) {
  const auto num = [](double v) { return Json::number(v, v == std::floor(v)); };
  const int64_t n = s.params().numel();
  return Json::object({
      {"kind", Json::string(s.model ? "train" : "finetune")},
      {"backend", Json::string(s.be->name())},
      {"steps", num(double(s.optim.steps))},
      {"steps_done", num(double(s.trainer->steps_done()))},
      {"batch", num(double(s.batch))},
      {"seq", num(double(s.step->seq()))},
      {"accum", num(double(s.accum))},
      {"parameters", num(double(n))},
      {"data", Json::string(s.description)},
      {"bytes", Json::object({{"weights", num(double(4 * n))},
                              {"gradients", num(double(4 * n))},
                              {"optimizer", num(double(8 * n))},
                              {"activations", num(double(s.step->activation_bytes()))}})},
  });
}

}  // namespace

extern "C" {

// Starts a session. kind: "train" (pretraining) or "finetune" (LoRA); handle: a model loaded by
// hearth_load (required for finetune; for train, its backend and folder are used) or 0 (train
// only: the folder `dir` on a backend of its own, options backend / threads / subgroups).
// Options (JSON, JS names): data (FS path: a token file, a text file or a folder of them),
// steps, batch, seq, accum, lr, minLr, warmup, beta1, beta2, eps, weightDecay, gradClip, seed,
// recompute, saveGradsStep0 (FS path: the gradients of step 0 before clipping, as safetensors);
// train: init (weights from the config, seeded); finetune: rank, alpha, targets,
// rslora, adapterInit (FS path). Returns a session id, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_train_start(int handle, const char* kind, const char* dir, const char* options) {
  auto s = start(handle, kind ? kind : "", dir ? dir : "", options);
  if (!s.ok()) return fail_with(s.error(), 0);
  g_sessions.push_back(std::move(*s));
  return int(g_sessions.size() - 1);
}

// The session as JSON: kind, backend, steps, steps_done, batch, seq, accum, parameters, data,
// bytes {weights, gradients, optimizer, activations}.
EMSCRIPTEN_KEEPALIVE const char* hearth_train_info(int id) {
  Session* s = session(id);
  if (!s) return "";
  g_json = info(*s).dump();
  return g_json.c_str();
}

// One optimizer step (accum micro-batches of batch rows). Returns its record as JSON ({step,
// loss, grad_norm (before clipping), lr, tokens, tokens_per_s, ms}), or "" with
// hearth_last_error().
EMSCRIPTEN_KEEPALIVE const char* hearth_train_step(int id) {
  Session* s = session(id);
  if (!s) return "";
  if (s->trainer->steps_done() >= s->optim.steps) {
    fail_with(err("all ", s->optim.steps, " steps of this session are done"), 0);
    return "";
  }
  std::vector<std::vector<int32_t>> micro;
  for (int64_t k = 0; k < s->accum; ++k) micro.push_back(s->data->next(s->batch));
  const bool save_grads = s->trainer->steps_done() == 0 && !s->grads_step0.empty();
  auto r = s->trainer->step(micro, [&]() -> Status {
    if (!save_grads) return {};
    HEARTH_CHECK(make_parent_dirs(s->grads_step0));
    std::vector<const Param*> ps;
    for (const Param& p : s->params().params()) ps.push_back(&p);
    return write_tensors(*s->be, s->grads_step0, ps, DType::F32, true);
  });
  if (!r.ok()) {
    fail_with(r.error(), 0);
    return "";
  }
  g_json = r->json();
  return g_json.c_str();
}

// Writes the trained result into the FS folder out_dir: pretraining, a Hugging Face folder
// (config.json and tokenizer files of the model folder, model.safetensors in options.dtype "f32"
// or "bf16"); fine-tuning, a PEFT adapter. Returns 1, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_train_save(int id, const char* out_dir, const char* options) {
  Session* s = session(id);
  if (!s) return 0;
  auto o = Options::parse(options, "save options");
  if (!o.ok()) return fail_with(o.error(), 0);
  auto dtype = o->string("dtype", "f32");
  if (!dtype.ok()) return fail_with(dtype.error(), 0);
  if (*dtype != "f32" && *dtype != "bf16") return fail_with(err("dtype: \"", *dtype, "\" is not one of f32, bf16"), 0);
  const Status st = s->model ? s->model->save(*s->be, out_dir, *dtype == "bf16" ? DType::BF16 : DType::F32)
                             : s->lora->save_peft(*s->be, out_dir, s->dir);
  return st.ok() ? 1 : fail_with(st.error(), 0);
}

// Fine-tuning: the adapter as trained so far goes into the loaded model under `name`
// (replacing one of that name), for generate({adapter: name}) at once. Returns 1, or 0.
EMSCRIPTEN_KEEPALIVE int hearth_train_add_adapter(int id, const char* name) {
  Session* s = session(id);
  if (!s) return 0;
  if (!s->lora) return fail_with(err("only a fine-tuning session has an adapter"), 0);
  ModelFolder* f = web::folder(s->handle);
  if (!f) return 0;
  const Status st = f->engine->add_adapter(name, s->lora->to_adapter(*s->be));
  return st.ok() ? 1 : fail_with(st.error(), 0);
}

// Ends a session and gives its buffers back to its backend (if its model is still loaded).
EMSCRIPTEN_KEEPALIVE void hearth_train_free(int id) {
  if (id > 0 && size_t(id) < g_sessions.size()) g_sessions[size_t(id)].reset();
}

}  // extern "C"
