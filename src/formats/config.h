// Model and generation configuration read from a Hugging Face checkpoint folder:
// config.json (model_type qwen2, qwen3, llama) and generation_config.json.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth {

enum class Arch { Qwen2, Qwen3, Llama };
enum class RopeType { Default, Linear, Llama3, Yarn };

struct RopeConfig {
  RopeType type = RopeType::Default;
  double theta = 10000.0;
  double partial_rotary_factor = 1.0;
  double factor = 1.0;                 // linear, llama3, yarn
  double low_freq_factor = 1.0;        // llama3
  double high_freq_factor = 4.0;       // llama3
  int64_t original_max_pos = 0;        // llama3, yarn
  double beta_fast = 32.0, beta_slow = 1.0;  // yarn
  double mscale = 0.0, mscale_all_dim = 0.0;  // yarn (0 = not given)
  std::optional<double> attention_factor;     // yarn; scales cos and sin
  bool truncate = true;                       // yarn
};

struct ModelConfig {
  Arch arch = Arch::Llama;
  std::string model_type;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t n_layers = 0;
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
  double rms_norm_eps = 1e-6;
  int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  bool qkv_bias = false;  // bias on q/k/v projections
  bool o_bias = false;    // bias on o_proj
  bool mlp_bias = false;  // bias on gate/up/down
  bool qk_norm = false;   // Qwen3: RMSNorm per head on q and k before RoPE
  RopeConfig rope;
  // Per layer: 0 = full causal attention, w > 0 = a key is visible when q_pos - k_pos < w.
  std::vector<int64_t> sliding_window;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;

  int64_t q_dim() const { return n_heads * head_dim; }
  int64_t kv_dim() const { return n_kv_heads * head_dim; }
  int64_t rotary_dim() const { return int64_t(double(head_dim) * rope.partial_rotary_factor); }
};

struct GenerationConfig {
  std::vector<int64_t> eos_token_ids;
  std::optional<int64_t> bos_token_id;
  std::optional<bool> do_sample;
  std::optional<double> temperature, top_p, min_p, repetition_penalty;
  std::optional<int64_t> top_k, max_new_tokens;
};

// Parses config.json text; `path` names the file in errors.
Result<ModelConfig> parse_model_config(const Json& j, const std::string& path);
Result<ModelConfig> read_model_config(const std::string& dir);
// Missing generation_config.json gives an empty config (not an error).
Result<GenerationConfig> read_generation_config(const std::string& dir);
Result<GenerationConfig> parse_generation_config(const Json& j, const std::string& path);

const char* arch_name(Arch a);

}  // namespace hearth
