// hearth pack -m DIR -o FILE [--dtype int4|int8|f16|f32] [--no-quant-search] [--threads T]
// Loads a Hugging Face folder once (quantizing as a load with those options would) and writes
// its weights, exactly as the engine computes with them, into a packed file (formats/packed.h)
// that every command and loadModel then take in place of the folder: it loads with no
// conversion or quantization.
#include <chrono>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/engine.h"
#include "model/packed_model.h"

namespace hearth::cli {

int cmd_pack(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model", "--out", "--dtype", "--threads"}, {"--no-quant-search"},
                          {{"-m", "--model"}, {"-o", "--out"}});
  if (!args.ok()) return fail(args.message());
  auto src = args->required("--model");
  if (!src.ok()) return fail(src.message());
  auto out = args->required("--out");
  if (!out.ok()) return fail(out.message());
  LoadOptions opt;
  auto dtype = parse_model_dtype(args->str("--dtype").value_or("int4"));
  if (!dtype.ok()) return fail("--dtype: " + dtype.message());
  opt.dtype = *dtype;
  opt.quant_search = !args->has("--no-quant-search");
  auto threads = args->integer("--threads", 0, 0, 1024);
  if (!threads.ok()) return fail(threads.message());
  opt.threads = int(*threads);
  opt.max_ctx = 1;  // the weights are what is kept; no room for a context is needed
  opt.max_prefill_t = 1;
  const auto t0 = std::chrono::steady_clock::now();
  auto engine = Engine::load(*src, opt);
  if (!engine.ok()) return fail(engine.message());
  const double load_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Status st = save_packed((*engine)->model(), *src, *out);
  if (!st.ok()) return fail(st.message());
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wrote %s: %s%s (load %.2f s, total %.2f s)\n", out->c_str(), model_dtype_name(opt.dtype),
              opt.dtype == ModelDType::Int4 && !opt.quant_search ? " without the clipping search" : "", load_s, s);
  return 0;
}

}  // namespace hearth::cli
