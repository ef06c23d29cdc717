// hearth bench -m DIR [--prompt-len N] [--gen N] [--threads T] [--dtype D] [--lora-rank R]
//   [--json-schema FILE] [--prompt TEXT --draft prompt-lookup|DIR [--draft-k K]]
// Prefill and greedy decode throughput on a deterministic pseudo-random prompt. With
// --lora-rank, the same run is repeated with a random rank-R adapter on all seven projections
// and the ratio of decode speeds is printed. With --json-schema, the run is repeated with the
// output constrained to the schema (structured output) and both decode speeds are printed.
// With --draft, the prompt is --prompt's text and greedy decoding runs plainly and then
// speculatively: both speeds, the acceptance rate and whether the tokens are the same.
#include <algorithm>
#include <chrono>
#include <cstdio>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/common.h"
#include "engine/engine.h"
#include "engine/structured_output.h"
#include "ops/kv_cache.h"

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
    "  --max-ctx N              KV cache length (default max(prompt-len, 2048) + gen)\n"
    "  --kv-dtype f32|f16|int8  KV cache precision (default f32)\n"
    "  --threads N              CPU threads (default: all cores)\n"
    "  --lora-rank R            also run with a random rank-R adapter on all 7 projections and print the\n"
    "                           ratio of decode speeds\n"
    "  --prompt TEXT            use this text (tokenized, needs tokenizer.json) as the prompt\n"
    "  --draft prompt-lookup|DIR  also decode speculatively and print the speed and acceptance\n"
    "  --draft-k K, --draft-dtype D  as for generate\n"
    "  --json-schema FILE       also decode under this JSON schema and print the cost of the mask\n";

int cmd_bench(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--model", "--prompt-len", "--gen", "--threads", "--dtype", "--max-ctx", "--lora-rank",
                           "--json-schema", "--prompt", "--draft", "--draft-k", "--draft-dtype", "--kv-dtype"},
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
  opt.max_ctx = *max_ctx > 0 ? *max_ctx : std::max<int64_t>(*plen, 2048) + *gen;
  opt.max_prefill_t = std::min<int64_t>(*plen, 512);
  auto kv = parse_kv_dtype(args->str("--kv-dtype").value_or("f32"));
  if (!kv.ok()) return fail("--kv-dtype: " + kv.message());
  opt.kv_dtype = *kv;
  auto engine = Engine::load(*dir, opt);
  if (!engine.ok()) return fail(engine.message());
  Model& m = (*engine)->model();
  GenerateRequest req;
  uint64_t state = 0x9e3779b97f4a7c15ull;
  for (int64_t i = 0; i < *plen; ++i) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    req.prompt.push_back(int32_t((state >> 33) % uint64_t(m.config().vocab_size)));
  }
  if (auto text = args->str("--prompt")) {
    auto tok = Tokenizer::load_for_model(*dir);
    if (!tok.ok()) return fail(tok.message());
    req.prompt = tok->encode(*text);
    if (req.prompt.empty()) return fail("--prompt: the text encodes to no tokens");
  }
  req.max_new_tokens = *gen;
  req.sampling.temperature = 0;
  req.stop_ids = {-1};  // never stop early
  req.reuse_prefix = false;  // every run prefills the whole prompt
  auto r = (*engine)->generate(req);
  if (!r.ok()) return fail(r.message());
  const double n_dec = double(r->ids.size() > 1 ? r->ids.size() - 1 : 1);
  std::printf("model: %s  dtype: %s  kv: %s  backend: %s  weights+cache: %.1f MB  load: %.2f s\n", dir->c_str(),
              model_dtype_name(*dtype), kv_dtype_name(opt.kv_dtype), m.backend().name().c_str(), double(m.backend().bytes_used()) / 1e6, m.load_seconds());
  std::printf("prefill: %lld tokens in %.1f ms = %.1f tok/s\n", (long long)*plen, r->prefill_seconds * 1e3,
              double(*plen) / r->prefill_seconds);
  std::printf("decode: %lld tokens in %.1f ms = %.1f tok/s\n", (long long)(r->ids.size() - 1), r->decode_seconds * 1e3,
              n_dec / r->decode_seconds);
  if (args->has("--draft")) {
    std::unique_ptr<Engine> draft;
    auto so = speculative_from_args(*args, &draft);
    if (!so.ok()) return fail(so.message());
    req.speculative = *so;
    auto spec = (*engine)->generate(req);
    if (!spec.ok()) return fail(spec.message());
    const double plain_tps = double(r->ids.size()) / r->decode_seconds, spec_tps = double(spec->ids.size()) / spec->decode_seconds;
    std::printf("speculative (%s, k %lld): %zu tokens in %.1f ms = %.1f tok/s; %lld drafted, %lld accepted (%.1f %%)\n",
                args->str("--draft")->c_str(), (long long)so->k, spec->ids.size(), spec->decode_seconds * 1e3, spec_tps,
                (long long)spec->drafted, (long long)spec->accepted,
                spec->drafted ? 100.0 * double(spec->accepted) / double(spec->drafted) : 0.0);
    std::printf("speedup over plain greedy (%.1f tok/s): %.2fx; same tokens: %s\n", plain_tps, spec_tps / plain_tps,
                spec->ids == r->ids ? "yes" : "NO");
    req.speculative = SpeculativeOptions();
  }
  if (auto schema_file = args->str("--json-schema")) {
    auto tok = Tokenizer::load_for_model(*dir);
    auto schema = read_json_file(*schema_file);
    if (!tok.ok() || !schema.ok()) return fail(!tok.ok() ? tok.message() : schema.message());
    ResponseFormat f;
    f.kind = ResponseFormat::Kind::JsonSchema;
    f.schema = *schema;
    auto g = compile_response_format(f, "--json-schema " + *schema_file);
    if (!g.ok()) return fail(g.message());
    const auto t0 = std::chrono::steady_clock::now();
    auto trie = make_token_trie(*tok, m.config().vocab_size);
    const double trie_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    req.grammar = std::make_shared<GrammarMatcher>(*g, trie);
    auto with = (*engine)->generate(req);
    if (!with.ok()) return fail(with.message());
    const double n_with = double(with->ids.size() > 1 ? with->ids.size() - 1 : 1);
    std::printf("vocabulary trie: %.1f ms\n", trie_ms);
    std::printf("decode with the schema: %zu tokens in %.1f ms = %.1f tok/s (%s; masks: %lld computed, %lld from the cache)\n",
                with->ids.size() - 1, with->decode_seconds * 1e3, n_with / with->decode_seconds,
                with->stopped_by_grammar ? "ended by the grammar" : "ran to --gen",
                (long long)req.grammar->masks_computed(), (long long)req.grammar->masks_cached());
    std::printf("schema/plain decode ratio: %.3f\n", (n_with / with->decode_seconds) / (n_dec / r->decode_seconds));
    req.grammar = nullptr;
  }
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
