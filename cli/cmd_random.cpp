// hearth random-checkpoint (--config FILE | --preset NAME) -o DIR [--seed S]
// Writes a checkpoint folder (config.json + model.safetensors in BF16) with random weights for
// any supported config: for benchmarks and memory tests at real model shapes without
// downloading a model. Presets: qwen2.5-0.5b, qwen2.5-3b, llama-3.2-1b.
#include <cmath>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <map>
#include <sys/stat.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "core/dtype.h"
#include "formats/config.h"
#include "formats/safetensors.h"
#include "model/hf_layout.h"

namespace hearth::cli {

namespace {

const std::map<std::string, std::string>& presets() {
  static const std::map<std::string, std::string> p = {
      {"qwen2.5-0.5b", R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936,
  "hidden_size": 896, "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14,
  "num_key_value_heads": 2, "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "tie_word_embeddings": true, "hidden_act": "silu", "torch_dtype": "bfloat16", "bos_token_id": 151643,
  "eos_token_id": 151645, "use_sliding_window": false, "sliding_window": 32768, "max_window_layers": 21})"},
      {"qwen2.5-3b", R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 151936,
  "hidden_size": 2048, "intermediate_size": 11008, "num_hidden_layers": 36, "num_attention_heads": 16,
  "num_key_value_heads": 2, "max_position_embeddings": 32768, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
  "tie_word_embeddings": true, "hidden_act": "silu", "torch_dtype": "bfloat16", "bos_token_id": 151643,
  "eos_token_id": 151645, "use_sliding_window": false, "sliding_window": 32768, "max_window_layers": 70})"},
      {"llama-3.2-1b", R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
  "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32,
  "num_key_value_heads": 8, "head_dim": 64, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
  "rope_theta": 500000.0, "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
  "original_max_position_embeddings": 8192, "rope_type": "llama3"}, "tie_word_embeddings": true,
  "hidden_act": "silu", "torch_dtype": "bfloat16", "bos_token_id": 128000, "eos_token_id": 128001,
  "attention_bias": false, "mlp_bias": false})"},
  };
  return p;
}

struct Meta {
  TensorToWrite t;
  float mean, std;  // values ~ mean + std * N(0, 1)
};

}  // namespace

const char kRandomCheckpointUsage[] =
    "usage: hearth random-checkpoint (--config FILE | --preset NAME) -o DIR [--seed S]\n"
    "Writes config.json and model.safetensors (BF16) with random weights for a config: benchmarks\n"
    "and memory tests at real model shapes without downloading a model.\n"
    "  -c, --config FILE        a config.json to copy\n"
    "  --preset NAME            qwen2.5-0.5b, qwen2.5-3b or llama-3.2-1b\n"
    "  -o, --out DIR            the folder to write (created if missing)\n"
    "  --seed S                 random seed (default 1)\n";

int cmd_random_checkpoint(int argc, char** argv) {
  auto args = Args::parse(argc, argv, {"--config", "--preset", "--out", "--seed"}, {}, {{"-o", "--out"}, {"-c", "--config"}});
  if (!args.ok()) return fail(args.message());
  auto out = args->required("--out");
  if (!out.ok()) return fail(out.message());
  auto seed = args->integer("--seed", 1, 0, INT64_MAX);
  if (!seed.ok()) return fail(seed.message());
  std::string text;
  if (auto c = args->str("--config")) {
    auto t = read_text_file(*c);
    if (!t.ok()) return fail(t.message());
    text = *t;
  } else if (auto p = args->str("--preset")) {
    auto it = presets().find(*p);
    if (it == presets().end()) return fail("--preset: unknown \"" + *p + "\" (qwen2.5-0.5b, qwen2.5-3b, llama-3.2-1b)");
    text = it->second;
  } else {
    return fail("give --config FILE or --preset NAME");
  }
  auto j = parse_json(text, args->str("--config").value_or("preset"));
  if (!j.ok()) return fail(j.message());
  auto cfg = parse_model_config(*j, args->str("--config").value_or("preset"));
  if (!cfg.ok()) return fail(cfg.message());
  const ModelConfig& c = *cfg;
  ::mkdir(out->c_str(), 0755);
  std::ofstream(*out + "/config.json") << text << "\n";

  std::vector<Meta> metas;
  auto add = [&](const std::string& name, std::vector<int64_t> shape, float mean, float std) {
    metas.push_back({TensorToWrite{name, DType::BF16, std::move(shape), {}}, mean, std});
  };
  // Matrices and embeddings ~ N(0, 0.02); norm weights ~ 1 + N(0, 0.05); biases ~ N(0, 0.02).
  for (const HfTensor& t : hf_tensors(c)) {
    const bool norm = t.role != TensorRole::Weight && t.role != TensorRole::Bias && t.role != TensorRole::Embed &&
                      t.role != TensorRole::LmHead;
    add(t.name, t.shape, norm ? 1.0f : 0.0f, norm ? 0.05f : 0.02f);
  }

  std::vector<TensorToWrite> tensors;
  for (const auto& m : metas) tensors.push_back(m.t);
  uint64_t state = uint64_t(*seed) * 0x9e3779b97f4a7c15ull + 1;
  auto next = [&state] {  // xorshift64*
    state ^= state >> 12; state ^= state << 25; state ^= state >> 27;
    return state * 2685821657736338717ull;
  };
  Status st = write_safetensors_generated(*out + "/model.safetensors", tensors, [&](size_t i, std::vector<uint8_t>& bytes) {
    const Meta& m = metas[i];
    for (size_t k = 0; k + 1 < bytes.size(); k += 2) {
      // Sum of 4 uniforms: a cheap near-normal with unit variance.
      uint64_t r = next();
      float u = 0;
      for (int b = 0; b < 4; ++b) u += float((r >> (16 * b)) & 0xffff) / 65536.0f;
      float v = m.mean + m.std * (u - 2.0f) * 1.7320508f;
      uint16_t h = f32_to_bf16(v);
      std::memcpy(&bytes[k], &h, 2);
    }
  });
  if (!st.ok()) return fail(st.message());
  std::printf("wrote %s: %zu tensors\n", out->c_str(), metas.size());
  return 0;
}

}  // namespace hearth::cli
