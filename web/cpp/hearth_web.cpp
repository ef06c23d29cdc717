// The C API of the wasm engine module (target hearth_web, web/web.cmake), wrapped by
// web/src/hearth.mjs. Handles name loaded model folders; options and requests come in as one
// JSON object each (the JS option names), results as JSON or through module-owned buffers that
// stay valid until the next call. Calls that may reach the GPU (load, generate, adapters)
// suspend under ASYNCIFY and are called with ccall(..., {async: true}). Generated tokens are
// streamed to JS through Module.hearthOnToken(handle, id, text), whose return value (false =
// stop) ends generation early.
#include <emscripten.h>

#include <cmath>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include "engine/model_folder.h"
#include "model/packed_model.h"
#include "engine/structured_output.h"
#include "engine/text_stream.h"
#include "formats/json.h"
#include "web_module.h"

namespace {

using namespace hearth;
using web::Options;

struct Handle {
  std::unique_ptr<ModelFolder> folder;
  GenerateResult last;
  std::shared_ptr<const TokenTrie> vocab;  // built when a request first asks for structured output
};

std::vector<std::unique_ptr<Handle>> g_handles(1);  // handle 0 is never valid
std::string g_error, g_text;
std::vector<int32_t> g_ids;

Handle* get(int h) {
  if (h <= 0 || size_t(h) >= g_handles.size() || !g_handles[size_t(h)]) {
    g_error = "invalid engine handle " + std::to_string(h);
    return nullptr;
  }
  return g_handles[size_t(h)].get();
}

// clang-format off
EM_JS(int, hw_on_token, (int handle, int id, const char* text, int len), {
  const cb = Module['hearthOnToken'];
  return cb ? (cb(handle, id, len ? UTF8ToString(text, len) : "") ? 1 : 0) : 1;
});
// Lets the JS event loop run between tokens of the CPU path, so streamed tokens reach their
// consumer as they come (the GPU path yields at each read-back anyway).
EM_ASYNC_JS(void, hw_yield, (), {
  await (Module['hearthYield'] ? Module['hearthYield']() : new Promise((r) => setTimeout(r, 0)));
});
// Load progress (LoadOptions::progress) to Module.hearthOnProgress(phase, done, total).
EM_JS(void, hw_on_progress, (const char* phase, double done, double total), {
  const cb = Module['hearthOnProgress'];
  if (cb) cb(UTF8ToString(phase), done, total);
});
// clang-format on

Result<std::unique_ptr<ModelFolder>> load(const char* dir, const char* options) {
  HEARTH_ASSIGN(Options o, Options::parse(options, "loadModel options"));
  LoadOptions lo;
  HEARTH_ASSIGN(std::string dtype, o.string("dtype", "f32"));
  HEARTH_ASSIGN(lo.dtype, parse_model_dtype(dtype));
  HEARTH_ASSIGN(lo.max_ctx, o.integer("maxCtx", 0, 0, int64_t(1) << 24));
  HEARTH_ASSIGN(lo.max_prefill_t, o.integer("maxPrefillT", 512, 1, 1 << 16));
  HEARTH_ASSIGN(lo.quant_search, o.boolean("quantSearch", true));
  HEARTH_ASSIGN(std::string kv, o.string("kvDtype", "f32"));
  auto kvd = parse_kv_dtype(kv);
  if (!kvd.ok()) return err("kvDtype: ", kvd.message());
  lo.kv_dtype = *kvd;
  HEARTH_ASSIGN(int64_t threads, o.integer("threads", 0, 0, 1024));
  lo.threads = int(threads);
  lo.progress = [](const LoadProgress& p) { hw_on_progress(p.phase, double(p.done), double(p.total)); };
  BackendOptions bo;
  HEARTH_ASSIGN(bo.kind, o.string("backend", "cpu"));
  bo.threads = lo.threads;
  HEARTH_ASSIGN(bo.allow_subgroups, o.boolean("subgroups", true));
  HEARTH_ASSIGN(int64_t wb, o.integer("weightBufferBytes", 0, 0, (int64_t(1) << 31) - 1));
  bo.max_chunk_bytes = uint64_t(wb);
  HEARTH_ASSIGN(bo.prefill_dequant, o.boolean("prefillDequant", true));
  HEARTH_ASSIGN(std::string cache_dir, o.string("cacheDir", ""));
  return open_model_folder(dir, lo, bo, cache_dir);
}

Result<GenerateRequest> request(const Engine& e, const char* text) {
  HEARTH_ASSIGN(Options o, Options::parse(text, "generate options"));
  GenerateRequest req;
  HEARTH_ASSIGN(req.prompt, o.ids("prompt"));
  HEARTH_ASSIGN(req.max_new_tokens, o.integer("maxTokens", 128, 0, int64_t(1) << 24));
  SamplingParams p = e.default_sampling();
  HEARTH_ASSIGN(double temp, o.number("temperature", p.temperature, 0, 1e6));
  HEARTH_ASSIGN(int64_t top_k, o.integer("topK", p.top_k, 0, int64_t(1) << 30));
  HEARTH_ASSIGN(double top_p, o.number("topP", p.top_p, 0, 1));
  HEARTH_ASSIGN(double min_p, o.number("minP", p.min_p, 0, 1));
  HEARTH_ASSIGN(double rep, o.number("repetitionPenalty", p.repetition_penalty, 1e-6, 1e6));
  HEARTH_ASSIGN(double pres, o.number("presencePenalty", p.presence_penalty, -1e6, 1e6));
  HEARTH_ASSIGN(double freq, o.number("frequencyPenalty", p.frequency_penalty, -1e6, 1e6));
  HEARTH_ASSIGN(int64_t seed, o.integer("seed", int64_t(p.seed), 0, int64_t(1) << 53));
  p.temperature = float(temp);
  p.top_k = int(top_k);
  p.top_p = float(top_p);
  p.min_p = float(min_p);
  p.repetition_penalty = float(rep);
  p.presence_penalty = float(pres);
  p.frequency_penalty = float(freq);
  p.seed = uint64_t(seed);
  req.sampling = p;
  HEARTH_ASSIGN(req.stop_ids, o.ids("stopIds", -2147483648.0));  // an id that never comes: never stop
  HEARTH_ASSIGN(req.keep_cache, o.boolean("keepCache", false));
  HEARTH_ASSIGN(req.reuse_prefix, o.boolean("reusePrefix", true));
  HEARTH_ASSIGN(req.device_greedy_steps, o.integer("deviceSteps", req.device_greedy_steps, 0, Model::kMaxDeviceSteps));
  HEARTH_ASSIGN(req.adapter, o.string("adapter", ""));
  HEARTH_ASSIGN(double scale, o.number("adapterScale", 1.0, -1e6, 1e6));
  req.adapter_scale = float(scale);
  return req;
}

Json info(const Handle& h) {
  const ModelFolder& f = *h.folder;
  Model& m = f.engine->model();
  const ModelConfig& c = m.config();
  Backend& be = m.backend();
  Json::Array eos;
  for (int32_t id : f.engine->default_stop_ids()) eos.push_back(Json::number(id, true));
  const auto num = [](double v) { return Json::number(v, v == std::floor(v)); };
  Json gpu;
  if (be.tier() != "cpu") {
    const Backend::Counters k = be.counters();
    gpu = Json::object({{"dispatches", num(double(k.dispatches))},
                        {"submits", num(double(k.submits))},
                        {"pipelines", num(double(k.pipelines))}});
  }
  const GenerateResult& r = h.last;
  return Json::object({
      {"backend", Json::string(be.name())},
      {"tier", Json::string(be.tier())},
      {"dtype", Json::string(model_dtype_name(m.options().dtype))},
      {"model_type", Json::string(c.model_type)},
      {"vocab_size", num(double(c.vocab_size))},
      {"hidden_size", num(double(c.hidden_size))},
      {"n_layers", num(double(c.n_layers))},
      {"max_ctx", num(double(m.max_ctx()))},
      {"max_prefill_t", num(double(m.options().max_prefill_t))},
      {"bytes", num(double(be.bytes_used()))},
      {"load_seconds", num(m.load_seconds())},
      {"eos_ids", Json::array(std::move(eos))},
      {"has_tokenizer", Json::boolean(f.tokenizer.loaded())},
      {"pack", f.pack.empty() ? Json() : Json::object({{"path", Json::string(f.pack)},
                                                       {"hit", Json::boolean(f.pack_hit)},
                                                       {"note", Json::string(f.note)}})},
      {"gpu", gpu},
      {"last", Json::object({{"prompt_tokens", num(double(r.n_prompt))},
                             {"reused_tokens", num(double(r.n_reused))},
                             {"generated_tokens", num(double(r.ids.size()))},
                             {"prefill_seconds", num(r.prefill_seconds)},
                             {"decode_seconds", num(r.decode_seconds)}})},
  });
}

// responseFormat: {type: 'json_object'} | {type: 'json_schema', schema} | {type: 'grammar', grammar}
// (or 'text') -> a matcher over the model's vocabulary; null for text.
Result<std::shared_ptr<GrammarMatcher>> grammar_for(Handle& h, const Json& format) {
  HEARTH_ASSIGN(ResponseFormat f, parse_response_format(format, "responseFormat"));
  if (f.kind == ResponseFormat::Kind::Text) return std::shared_ptr<GrammarMatcher>();
  if (!h.folder->tokenizer.loaded()) return err("responseFormat needs the model's tokenizer.json");
  HEARTH_ASSIGN(std::shared_ptr<const Grammar> g, compile_response_format(f, "responseFormat"));
  if (!h.vocab) h.vocab = make_token_trie(h.folder->tokenizer, h.folder->engine->model().config().vocab_size);
  return std::make_shared<GrammarMatcher>(std::move(g), h.vocab);
}

int fail_with(const Error& e, int code) {
  g_error = e.message;
  return code;
}

}  // namespace

// web_module.h: for the other parts of the C API (hearth_web_*.cpp).
namespace hearth::web {
ModelFolder* folder(int handle) {
  Handle* h = get(handle);
  return h ? h->folder.get() : nullptr;
}
void set_error(const std::string& message) { g_error = message; }
}  // namespace hearth::web

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* hearth_last_error() { return g_error.c_str(); }

// The message of a C++ exception that reached JS (its thrown value is the object's address).
// The engine reports errors as values; this is the last line of defence.
EMSCRIPTEN_KEEPALIVE const char* hearth_exception_message(void* thrown) {
  g_text = thrown ? static_cast<std::exception*>(thrown)->what() : "unknown C++ exception";
  return g_text.c_str();
}

// Loads the model folder `dir` (an Emscripten FS path) with options (JSON): dtype, maxCtx,
// maxPrefillT, quantSearch, threads, backend ("cpu" | "webgpu"), subgroups, weightBufferBytes,
// prefillDequant (WebGPU, default true: see WebGpuOptions), cacheDir (a folder of packs: engine/pack_cache.h). `dir` may also be a .gguf file or a pack.
// Returns a handle, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_load(const char* dir, const char* options) {
  auto f = load(dir, options);
  if (!f.ok()) return fail_with(f.error(), 0);
  auto h = std::make_unique<Handle>();
  h->folder = std::move(*f);
  g_handles.push_back(std::move(h));
  return int(g_handles.size() - 1);
}

EMSCRIPTEN_KEEPALIVE void hearth_free(int handle) {
  if (get(handle)) g_handles[size_t(handle)].reset();
}

// Writes the loaded model's weights as a pack (model/packed_model.h) to `path`; `source` is the
// folder it was loaded from (its small files go along). Returns 1, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_save_packed(int handle, const char* source, const char* path) {
  Handle* h = get(handle);
  if (!h) return 0;
  Status s = save_packed(h->folder->engine->model(), source, path);
  if (!s.ok()) return fail_with(s.error(), 0);
  return 1;
}

// A JSON object describing the loaded engine and its last generation.
EMSCRIPTEN_KEEPALIVE const char* hearth_info(int handle) {
  Handle* h = get(handle);
  if (!h) return "";
  g_text = info(*h).dump();
  return g_text.c_str();
}

// Reads a LoRA adapter folder (PEFT or MLX-LM; an FS path) and keeps it resident as `name`
// (replacing one of that name). Returns 1, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_load_adapter(int handle, const char* name, const char* dir) {
  Handle* h = get(handle);
  if (!h) return 0;
  Status s = h->folder->engine->load_adapter(name, dir);
  return s.ok() ? 1 : fail_with(s.error(), 0);
}

EMSCRIPTEN_KEEPALIVE int hearth_unload_adapter(int handle, const char* name) {
  Handle* h = get(handle);
  if (!h) return 0;
  Status s = h->folder->engine->unload_adapter(name);
  return s.ok() ? 1 : fail_with(s.error(), 0);
}

// Encodes text; returns the number of ids (at hearth_ids_ptr()), or -1.
EMSCRIPTEN_KEEPALIVE int hearth_encode(int handle, const char* text) {
  Handle* h = get(handle);
  if (!h) return -1;
  auto ids = h->folder->encode(text);
  if (!ids.ok()) return fail_with(ids.error(), -1);
  g_ids = std::move(*ids);
  return int(g_ids.size());
}

EMSCRIPTEN_KEEPALIVE int32_t* hearth_ids_ptr() { return g_ids.data(); }

EMSCRIPTEN_KEEPALIVE const char* hearth_decode(int handle, const int32_t* ids, int n, int skip_special) {
  Handle* h = get(handle);
  if (!h) return "";
  const Tokenizer& t = h->folder->tokenizer;
  g_text = t.loaded() ? t.decode(std::span<const int32_t>(ids, size_t(n)), skip_special != 0) : "";
  return g_text.c_str();
}

// Generates after request.prompt (JSON: prompt ids, maxTokens, temperature, topK, topP, minP,
// repetitionPenalty, presencePenalty, frequencyPenalty, seed — unset ones take the model's
// generation_config.json — stopIds (replacing the model's eos ids), stop (strings), keepCache,
// reusePrefix (default true: the KV cache of the longest prefix shared with the previous
// request is reused), deviceSteps, adapter, adapterScale, responseFormat (structured output:
// {type: 'json_object' | 'json_schema' (with schema) | 'grammar' (with GBNF grammar)}). Each token goes to Module.hearthOnToken(handle, id,
// text); at the end one more call with id -1 carries the text held back. Returns the number of
// generated ids (at hearth_ids_ptr()) or -1.
EMSCRIPTEN_KEEPALIVE int hearth_generate(int handle, const char* request_json) {
  Handle* h = get(handle);
  if (!h) return -1;
  Engine& e = *h->folder->engine;
  auto req = request(e, request_json);
  if (!req.ok()) return fail_with(req.error(), -1);
  auto opts = Options::parse(request_json, "generate options");
  auto stop_strings = opts->strings("stop");
  if (!stop_strings.ok()) return fail_with(stop_strings.error(), -1);
  if (const Json* rf = opts->get("responseFormat")) {
    auto g = grammar_for(*h, *rf);
    if (!g.ok()) return fail_with(g.error(), -1);
    req->grammar = std::move(*g);
  }
  const std::vector<int32_t> stops = req->stop_ids.empty() ? e.default_stop_ids() : req->stop_ids;
  const Tokenizer& tok = h->folder->tokenizer;
  std::unique_ptr<TextStream> text;
  if (tok.loaded()) text = std::make_unique<TextStream>(tok, stops, *stop_strings);
  const bool yield = e.model().backend().tier() == "cpu";
  auto r = e.generate(*req, [&](int32_t id) {
    std::string piece = text ? text->push(id) : std::string();
    bool go_on = hw_on_token(handle, id, piece.data(), int(piece.size())) != 0;
    if (yield) hw_yield();
    return go_on && !(text && text->done());
  });
  if (Status st = e.model().backend().status(); !st.ok()) return fail_with(st.error(), -1);
  if (!r.ok()) return fail_with(r.error(), -1);
  if (text) {
    std::string tail = text->finish();
    hw_on_token(handle, -1, tail.data(), int(tail.size()));
  }
  h->last = *r;
  g_ids = r->ids;
  return int(g_ids.size());
}

}  // extern "C"
