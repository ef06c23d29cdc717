// The C API of the wasm engine module (target hearth_web, web/web.cmake), wrapped by
// web/src/hearth.mjs. Handles name loaded engines; strings and id lists come back through
// module-owned buffers that stay valid until the next call. Calls that may reach the GPU
// (load, generate) suspend under ASYNCIFY and are called with ccall(..., {async: true}).
// Generated tokens are streamed to JS through Module.hearthOnToken(handle, id, text), whose
// return value (false = stop) ends generation early.
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "engine/text_stream.h"
#include "ops/webgpu/webgpu_backend.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace hearth;

struct Handle {
  std::unique_ptr<Engine> engine;
  Tokenizer tokenizer;
  std::string dir, backend, tier;
  bool gpu = false;
  double last_prefill_s = 0, last_decode_s = 0;
  int64_t last_prompt = 0, last_generated = 0;
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
// clang-format on

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += c;
    } else if (uint8_t(c) < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += c;
    }
  }
  return o;
}

std::vector<std::string> split(const char* s, char sep) {
  std::vector<std::string> out;
  if (!s || !*s) return out;
  std::string cur;
  for (const char* p = s; *p; ++p) {
    if (*p == sep) {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += *p;
    }
  }
  out.push_back(cur);
  return out;
}

}  // namespace

extern "C" {

EMSCRIPTEN_KEEPALIVE const char* hearth_last_error() { return g_error.c_str(); }

// Loads the model folder `dir` (an Emscripten FS path). backend: 0 = CPU, 1 = WebGPU;
// allow_subgroups = 0 forces the WebGPU tier that needs no optional feature; quant_search = 0
// skips int4's clipping search (faster load); weight_buffer_bytes > 0 caps the WebGPU buffers
// weights are placed in; lora_in_dispatch = 1 computes a LoRA stage's A products in its base
// products' dispatch (WebGpuOptions). Returns a handle, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_load(const char* dir, const char* dtype, int max_ctx, int max_prefill_t, int backend,
                                     int allow_subgroups, int quant_search, int weight_buffer_bytes,
                                     int lora_in_dispatch) {
  auto h = std::make_unique<Handle>();
  h->dir = dir;
  LoadOptions opt;
  auto dt = parse_model_dtype(dtype);
  if (!dt.ok()) {
    g_error = dt.message();
    return 0;
  }
  opt.dtype = *dt;
  opt.max_ctx = max_ctx;
  if (max_prefill_t > 0) opt.max_prefill_t = max_prefill_t;
  opt.quant_search = quant_search != 0;
  std::unique_ptr<Backend> be;
  if (backend == 1) {
    WebGpuOptions wo;
    wo.allow_subgroups = allow_subgroups != 0;
    wo.max_chunk_bytes = uint64_t(std::max(0, weight_buffer_bytes));
    wo.lora_in_dispatch = lora_in_dispatch != 0;
    auto gpu = WebGpuBackend::create(wo);
    if (!gpu.ok()) {
      g_error = gpu.message();
      return 0;
    }
    h->tier = (*gpu)->tier();
    h->gpu = true;
    be = std::move(*gpu);
  } else {
    be = make_cpu_backend(opt.threads);
    h->tier = "cpu";
  }
  auto e = Engine::load(h->dir, opt, std::move(be));
  if (!e.ok()) {
    g_error = e.message();
    return 0;
  }
  h->engine = std::move(*e);
  h->backend = h->engine->model().backend().name();
  if (Status st = h->engine->model().backend().status(); !st.ok()) {
    g_error = st.message();
    return 0;
  }
  const std::string tok = h->dir + "/tokenizer.json";
  if (FILE* f = std::fopen(tok.c_str(), "rb")) {
    std::fclose(f);
    auto t = Tokenizer::load_file(tok);
    if (!t.ok()) {
      g_error = t.message();
      return 0;
    }
    h->tokenizer = std::move(*t);
  }
  g_handles.push_back(std::move(h));
  return int(g_handles.size() - 1);
}

EMSCRIPTEN_KEEPALIVE void hearth_free(int handle) {
  if (get(handle)) g_handles[size_t(handle)].reset();
}

// A JSON object describing the loaded engine and its last generation.
EMSCRIPTEN_KEEPALIVE const char* hearth_info(int handle) {
  Handle* h = get(handle);
  if (!h) return "";
  Model& m = h->engine->model();
  const ModelConfig& c = m.config();
  std::string eos;
  for (int32_t id : h->engine->default_stop_ids()) eos += (eos.empty() ? "" : ",") + std::to_string(id);
  std::string gpu = "null";
  if (h->gpu) {
    auto& rec = static_cast<WebGpuBackend*>(&m.backend())->recorder();
    gpu = "{\"dispatches\":" + std::to_string(rec.dispatches()) + ",\"submits\":" + std::to_string(rec.submits()) +
          ",\"pipelines\":" + std::to_string(rec.pipelines()) + "}";
  }
  g_text = "{\"backend\":\"" + json_escape(h->backend) + "\",\"tier\":\"" + h->tier + "\",\"dtype\":\"" +
           model_dtype_name(m.options().dtype) + "\",\"model_type\":\"" + json_escape(c.model_type) +
           "\",\"vocab_size\":" + std::to_string(c.vocab_size) + ",\"hidden_size\":" + std::to_string(c.hidden_size) +
           ",\"n_layers\":" + std::to_string(c.n_layers) + ",\"max_ctx\":" + std::to_string(m.max_ctx()) +
           ",\"max_prefill_t\":" + std::to_string(m.options().max_prefill_t) +
           ",\"bytes\":" + std::to_string(m.backend().bytes_used()) +
           ",\"load_seconds\":" + std::to_string(m.load_seconds()) + ",\"eos_ids\":[" + eos +
           "],\"has_tokenizer\":" + (h->tokenizer.loaded() ? "true" : "false") + ",\"gpu\":" + gpu +
           ",\"last\":{\"prompt_tokens\":" + std::to_string(h->last_prompt) +
           ",\"generated_tokens\":" + std::to_string(h->last_generated) +
           ",\"prefill_seconds\":" + std::to_string(h->last_prefill_s) +
           ",\"decode_seconds\":" + std::to_string(h->last_decode_s) + "}}";
  return g_text.c_str();
}

// Reads a LoRA adapter folder (PEFT or MLX-LM; an FS path) and keeps it resident as `name`
// (replacing one of that name). Returns 1, or 0 with hearth_last_error().
EMSCRIPTEN_KEEPALIVE int hearth_load_adapter(int handle, const char* name, const char* dir) {
  Handle* h = get(handle);
  if (!h) return 0;
  Status s = h->engine->load_adapter(name, dir);
  if (!s.ok()) {
    g_error = s.message();
    return 0;
  }
  return 1;
}

EMSCRIPTEN_KEEPALIVE int hearth_unload_adapter(int handle, const char* name) {
  Handle* h = get(handle);
  if (!h) return 0;
  Status s = h->engine->unload_adapter(name);
  if (!s.ok()) {
    g_error = s.message();
    return 0;
  }
  return 1;
}

// Encodes text; returns the number of ids (at hearth_ids_ptr()), or -1.
EMSCRIPTEN_KEEPALIVE int hearth_encode(int handle, const char* text) {
  Handle* h = get(handle);
  if (!h) return -1;
  if (!h->tokenizer.loaded()) {
    g_error = h->dir + ": no tokenizer.json, so text cannot be encoded (give token ids)";
    return -1;
  }
  g_ids = h->tokenizer.encode(text);
  return int(g_ids.size());
}

EMSCRIPTEN_KEEPALIVE int32_t* hearth_ids_ptr() { return g_ids.data(); }

EMSCRIPTEN_KEEPALIVE const char* hearth_decode(int handle, const int32_t* ids, int n, int skip_special) {
  Handle* h = get(handle);
  if (!h) return "";
  g_text = h->tokenizer.loaded() ? h->tokenizer.decode(std::span<const int32_t>(ids, size_t(n)), skip_special != 0) : "";
  return g_text.c_str();
}

// Generates up to max_new tokens after `prompt`. Sampling values that are NaN take the model's
// defaults (generation_config.json); seed < 0 likewise. stop_ids (n_stop of them) replace the
// model's eos ids when n_stop > 0; stop_strings are separated by '\x1f'. Each token goes to
// Module.hearthOnToken(handle, id, text); at the end one more call with id -1 carries the text
// held back. device_steps: tokens per submission of decode with the pick on the GPU (0 = read
// the logits back every token, < 0 = the engine's default). Returns the number of generated ids
// (at hearth_ids_ptr()) or -1. adapter: a loaded adapter's name ("" = none), its scale
// multiplied by adapter_scale.
EMSCRIPTEN_KEEPALIVE int hearth_generate(int handle, const int32_t* prompt, int n_prompt, int max_new, float temp,
                                         int top_k, float top_p, float min_p, float rep, float presence,
                                         float frequency, double seed, const int32_t* stop_ids, int n_stop,
                                         const char* stop_strings, int keep_cache, int device_steps,
                                         const char* adapter, float adapter_scale) {
  Handle* h = get(handle);
  if (!h) return -1;
  Engine& e = *h->engine;
  GenerateRequest req;
  req.prompt.assign(prompt, prompt + n_prompt);
  req.max_new_tokens = max_new;
  req.keep_cache = keep_cache != 0;
  if (device_steps >= 0) req.device_greedy_steps = device_steps;
  req.adapter = adapter ? adapter : "";
  req.adapter_scale = adapter_scale;
  SamplingParams p = e.default_sampling();
  if (!std::isnan(temp)) p.temperature = temp;
  if (top_k >= 0) p.top_k = top_k;
  if (!std::isnan(top_p)) p.top_p = top_p;
  if (!std::isnan(min_p)) p.min_p = min_p;
  if (!std::isnan(rep)) p.repetition_penalty = rep;
  if (!std::isnan(presence)) p.presence_penalty = presence;
  if (!std::isnan(frequency)) p.frequency_penalty = frequency;
  if (seed >= 0) p.seed = uint64_t(seed);
  req.sampling = p;
  if (n_stop > 0) req.stop_ids.assign(stop_ids, stop_ids + n_stop);
  const std::vector<int32_t> stops = n_stop > 0 ? req.stop_ids : e.default_stop_ids();
  std::unique_ptr<TextStream> text;
  if (h->tokenizer.loaded()) text = std::make_unique<TextStream>(h->tokenizer, stops, split(stop_strings, '\x1f'));
  const bool yield = !h->gpu;
  auto r = e.generate(req, [&](int32_t id) {
    std::string piece = text ? text->push(id) : std::string();
    bool go_on = hw_on_token(handle, id, piece.data(), int(piece.size())) != 0;
    if (yield) hw_yield();
    return go_on && !(text && text->done());
  });
  if (Status st = e.model().backend().status(); !st.ok()) {
    g_error = st.message();
    return -1;
  }
  if (!r.ok()) {
    g_error = r.message();
    return -1;
  }
  if (text) {
    std::string tail = text->finish();
    hw_on_token(handle, -1, tail.data(), int(tail.size()));
  }
  h->last_prompt = r->n_prompt;
  h->last_generated = int64_t(r->ids.size());
  h->last_prefill_s = r->prefill_seconds;
  h->last_decode_s = r->decode_seconds;
  g_ids = r->ids;
  return int(g_ids.size());
}

}  // extern "C"
