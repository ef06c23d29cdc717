// hearth perplexity -m DIR --windows FILE [--dtype D] [--threads T]
// FILE holds an I32 [n, len] tensor of token windows; prints per-window progress to stderr and
// "ppl: <value>" as the last line.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "formats/safetensors.h"

namespace hearth::cli {

const char kPerplexityUsage[] =
    "usage: hearth perplexity -m DIR --windows FILE [options]\n"
    "Mean negative log-likelihood of each window's tokens 1.. given the tokens before, averaged per\n"
    "window then over windows; prints progress to stderr and \"ppl: <value>\" as the last line.\n"
    "  -m, --model DIR          a Hugging Face model folder, a .gguf file or a pack\n"
    "  --windows FILE           a safetensors file holding an I32 tensor [n, len] of token windows\n"
    "  --max-windows N          evaluate only the first N windows (0 = all)\n"
    "  --dtype f32|f16|int8|int4  weights in memory (default f32)\n"
    "  --no-quant-search        int4: skip the per-group range search\n"
    "  --threads N              CPU threads (default: all cores)\n"
    "  --kv-dtype f32|f16|int8  KV cache precision (default f32)\n";

int cmd_perplexity(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model", "--windows", "--dtype", "--threads", "--max-windows", "--kv-dtype"}, {"--no-quant-search"}, {{"-m", "--model"}});
  if (!args.ok()) return fail(args.message());
  auto dir = args->required("--model");
  if (!dir.ok()) return fail(dir.message());
  auto wpath = args->required("--windows");
  if (!wpath.ok()) return fail(wpath.message());
  auto dtype = parse_model_dtype(args->str("--dtype").value_or("f32"));
  if (!dtype.ok()) return fail(dtype.message());
  auto threads = args->integer("--threads", 0, 0, 1024);
  if (!threads.ok()) return fail(threads.message());
  auto maxw = args->integer("--max-windows", 0, 0, 1 << 30);
  if (!maxw.ok()) return fail(maxw.message());

  auto file = SafetensorsFile::open(*wpath);
  if (!file.ok()) return fail(file.message());
  const TensorInfo* t = nullptr;
  for (const auto& x : file->tensors()) {
    if (x.dtype == DType::I32 && x.shape.size() == 2) { t = &x; break; }
  }
  if (!t) return fail(*wpath + ": expected an I32 tensor of shape [n, len] (token windows)");
  int64_t n = t->shape[0], len = t->shape[1];
  if (n == 0) return fail(*wpath + ": tensor " + t->name + " " + t->shape_str() + " holds no windows");
  if (len < 2) return fail(*wpath + ": tensor " + t->name + " " + t->shape_str() + ": windows need at least 2 tokens");
  if (*maxw > 0) n = std::min(n, *maxw);
  std::vector<int32_t> ids(size_t(n * len));
  if (Status st = t->read_bytes(0, ids.size() * 4, ids.data()); !st.ok()) return fail(st.message());

  LoadOptions opt;
  opt.dtype = *dtype;
  opt.threads = int(*threads);
  opt.quant_search = !args->has("--no-quant-search");
  opt.max_ctx = len;
  opt.max_prefill_t = len;
  auto kv = parse_kv_dtype(args->str("--kv-dtype").value_or("f32"));
  if (!kv.ok()) return fail("--kv-dtype: " + kv.message());
  opt.kv_dtype = *kv;
  auto model = Model::load(*dir, opt);
  if (!model.ok()) return fail(model.message());
  for (int32_t id : ids) {
    if (id < 0 || id >= (*model)->config().vocab_size) return fail(*wpath + ": token id " + std::to_string(id) + " is outside the model's vocabulary");
  }
  auto r = evaluate_perplexity(**model, ids, n, len, [&](int64_t done) {
    std::fprintf(stderr, "\rwindow %lld/%lld", (long long)done, (long long)n);
  });
  std::fprintf(stderr, "\n");
  if (!r.ok()) return fail(r.message());
  std::printf("windows: %lld x %lld tokens, dtype %s\n", (long long)n, (long long)len, model_dtype_name(*dtype));
  std::printf("mean_nll: %.6f\n", r->mean_nll);
  std::printf("ppl: %.4f\n", r->ppl);
  return 0;
}

}  // namespace hearth::cli
