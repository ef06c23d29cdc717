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

const char kPackUsage[] =
    "usage: hearth pack -m DIR -o FILE.hpk [options]\n"
    "Loads a model once, quantizing as a load with the same options would, and writes the weights the\n"
    "engine computes with (plus config, tokenizer and chat template) into one pack file. Every command\n"
    "takes the pack in place of the folder and loads it with no conversion or quantization.\n"
    "  -m, --model DIR          a Hugging Face model folder or a .gguf file\n"
    "  -o, --out FILE           the pack to write\n"
    "  --dtype int4|int8|f16|f32  weights in the pack (default int4)\n"
    "  --no-quant-search        int4: skip the per-group range search\n"
    "  --threads N              CPU threads (default: all cores)\n";

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
