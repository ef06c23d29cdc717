// hearth bench -m DIR [--prompt-len N] [--gen N] [--threads T] [--dtype D]
// Prefill and greedy decode throughput on a deterministic pseudo-random prompt.
#include <algorithm>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/engine.h"

namespace hearth::cli {

int cmd_bench(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model", "--prompt-len", "--gen", "--threads", "--dtype", "--max-ctx"}, {},
                          {{"-m", "--model"}});
  if (!args.ok()) return fail(args.message());
  auto dir = args->required("--model");
  if (!dir.ok()) return fail(dir.message());
  auto plen = args->integer("--prompt-len", 128, 1, 1 << 20);
  auto gen = args->integer("--gen", 64, 1, 1 << 20);
  auto threads = args->integer("--threads", 0, 0, 1024);
  auto dtype = parse_model_dtype(args->str("--dtype").value_or("f32"));
  for (const Status& s : {plen.status(), gen.status(), threads.status(), dtype.status()}) {
    if (!s.ok()) return fail(s.message());
  }
  LoadOptions opt;
  opt.dtype = *dtype;
  opt.threads = int(*threads);
  opt.max_ctx = *plen + *gen;
  opt.max_prefill_t = std::min<int64_t>(*plen, 512);
  auto engine = Engine::load(*dir, opt);
  if (!engine.ok()) return fail(engine.message());
  Model& m = (*engine)->model();
  GenerateRequest req;
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int64_t i = 0; i < *plen; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    req.prompt.push_back(int32_t((state >> 33) % uint64_t(m.config().vocab_size)));
  }
  req.max_new_tokens = *gen;
  req.sampling.temperature = 0;
  req.stop_ids = {-1};  // never stop early
  auto r = (*engine)->generate(req);
  if (!r.ok()) return fail(r.message());
  const double n_dec = double(r->ids.size() > 1 ? r->ids.size() - 1 : 1);
  std::printf("model: %s  dtype: %s  backend: %s  weights+cache: %.1f MB  load: %.2f s\n", dir->c_str(),
              model_dtype_name(*dtype), m.backend().name().c_str(), double(m.backend().bytes_used()) / 1e6, m.load_seconds());
  std::printf("prefill: %lld tokens in %.1f ms = %.1f tok/s\n", (long long)*plen, r->prefill_seconds * 1e3,
              double(*plen) / r->prefill_seconds);
  std::printf("decode: %lld tokens in %.1f ms = %.1f tok/s\n", (long long)(r->ids.size() - 1), r->decode_seconds * 1e3,
              n_dec / r->decode_seconds);
  return 0;
}

}  // namespace hearth::cli
