// hearth bench -m DIR [--prompt-len N] [--gen N] [--threads T] [--dtype D] [--lora-rank R]
// Prefill and greedy decode throughput on a deterministic pseudo-random prompt. With
// --lora-rank, the same run is repeated with a random rank-R adapter on all seven projections
// and the ratio of decode speeds is printed.
#include <algorithm>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "engine/engine.h"

namespace hearth::cli {

namespace {

// A LoRA adapter of the given rank on every projection, with small deterministic values.
LoraAdapter random_adapter(const ModelConfig& c, int64_t rank) {
  LoraAdapter a;
  a.dir = "(random)";
  a.format = "peft";
  a.layers.resize(size_t(c.n_layers));
  uint64_t state = 42;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return float(int64_t(state >> 40) - (1 << 23)) / float(1 << 23) * 0.01f;
  };
  for (auto& layer : a.layers) {
    for (int p = 0; p < kNumProj; ++p) {
      LoraPair pair;
      pair.rank = rank;
      pair.in = proj_in(c, Proj(p));
      pair.out = proj_out(c, Proj(p));
      pair.A.resize(size_t(rank * pair.in));
      pair.B.resize(size_t(pair.out * rank));
      for (float& v : pair.A) v = next();
      for (float& v : pair.B) v = next();
      layer[p] = std::move(pair);
    }
  }
  return a;
}

}  // namespace

const char kBenchUsage[] =
    "usage: hearth bench -m DIR [options]\n"
    "Prefill and greedy decode throughput on a deterministic pseudo-random prompt.\n"
    "  -m, --model DIR          a Hugging Face model folder\n"
    "  --prompt-len N           prompt tokens (default 128)\n"
    "  --gen N                  tokens to generate (default 64)\n"
    "  --dtype f32|f16|int8|int4  weights in memory (default f32)\n"
    "  --no-quant-search        int4: skip the per-group range search\n"
    "  --max-ctx N              KV cache length (default prompt-len + gen)\n"
    "  --threads N              CPU threads (default: all cores)\n"
    "  --lora-rank R            also run with a random rank-R adapter on all 7 projections and print the\n"
    "                           ratio of decode speeds\n";

int cmd_bench(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model", "--prompt-len", "--gen", "--threads", "--dtype", "--max-ctx", "--lora-rank"},
                          {"--no-quant-search"},
                          {{"-m", "--model"}});
  if (!args.ok()) return fail(args.message());
  auto dir = args->required("--model");
  if (!dir.ok()) return fail(dir.message());
  auto plen = args->integer("--prompt-len", 128, 1, 1 << 20);
  auto gen = args->integer("--gen", 64, 1, 1 << 20);
  auto threads = args->integer("--threads", 0, 0, 1024);
  auto dtype = parse_model_dtype(args->str("--dtype").value_or("f32"));
  auto lora_rank = args->integer("--lora-rank", 0, 0, 4096);
  auto max_ctx = args->integer("--max-ctx", 0, 0, int64_t(1) << 24);
  for (const Status& s : {plen.status(), gen.status(), threads.status(), dtype.status(), lora_rank.status(), max_ctx.status()}) {
    if (!s.ok()) return fail(s.message());
  }
  LoadOptions opt;
  opt.dtype = *dtype;
  opt.threads = int(*threads);
  opt.quant_search = !args->has("--no-quant-search");
  opt.max_ctx = *max_ctx > 0 ? *max_ctx : *plen + *gen;
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
  if (*lora_rank > 0) {
    LoraAdapter a = random_adapter(m.config(), *lora_rank);
    if (Status st = m.add_adapter("bench", std::move(a)); !st.ok()) return fail(st.message());
    req.adapter = "bench";
    auto with = (*engine)->generate(req);
    if (!with.ok()) return fail(with.message());
    req.adapter = "";
    auto again = (*engine)->generate(req);  // the base once more, after the adapter run
    if (!again.ok()) return fail(again.message());
    const double base_tps = n_dec / std::min(r->decode_seconds, again->decode_seconds);
    const double lora_tps = double(with->ids.size() - 1) / with->decode_seconds;
    std::printf("decode with a rank-%lld adapter on all 7 projections: %.1f tok/s (prefill %.1f tok/s)\n",
                (long long)*lora_rank, lora_tps, double(*plen) / with->prefill_seconds);
    std::printf("lora/base decode ratio: %.3f\n", lora_tps / base_tps);
  }
  return 0;
}

}  // namespace hearth::cli
