// A GGUF file as a model checkpoint: the Hugging Face config.json that its metadata describes
// (architectures llama, qwen2, qwen3), llama.cpp's tensor names for every Hugging Face one, and
// a TensorSource that serves the file's tensors under their Hugging Face names.
//
// Names: token_embd / output / output_norm, blk.N.attn_norm / ffn_norm / attn_q_norm /
// attn_k_norm, blk.N.attn_q / attn_k / attn_v / attn_output / ffn_gate / ffn_up / ffn_down
// (.weight, .bias). llama.cpp's converter reorders the rows of q_proj and k_proj (weights and
// biases) of the llama architecture for its interleaved rotary embedding: within each head,
// Hugging Face row j * head_dim / 2 + i is GGUF row 2 i + j. The source undoes it.
//
// Tensor types: F32, F16 and BF16 load as --dtype asks (like safetensors). Q8_0 and Q4_0 keep
// their blocks (hearth computes with them directly). Q4_1, Q5_0, Q5_1 and the k-quants Q2_K to
// Q6_K are dequantized and requantized to int4 (layers) or int8 (embeddings and LM head); norms
// and biases load as f32 from any of these types.
#pragma once
#include <map>
#include <memory>
#include <string>

#include "core/error.h"
#include "formats/config.h"
#include "formats/gguf.h"
#include "formats/json.h"
#include "model/hf_layout.h"
#include "model/tensor_source.h"

namespace hearth {

// llama.cpp's name of a tensor (the counterpart of hf_tensor_name).
std::string gguf_tensor_name(TensorRole role, int64_t layer = -1, Proj proj = Proj::Q);

// The config.json object the GGUF metadata describes (model_type, sizes, rope, eps, tied
// embeddings, biases, bos / eos ids).
Result<Json> hf_config_from_gguf(const GgufFile& g);

// Whether Hugging Face tensor `t` is stored with llama.cpp's q/k row order in a file of `c`.
bool gguf_rows_permuted(const ModelConfig& c, const HfTensor& t);
// Row r of the Hugging Face layout is row gguf_row(r, head_dim) of the GGUF tensor.
int64_t gguf_row(int64_t r, int64_t head_dim);

class GgufTensorSource final : public TensorSource {
 public:
  GgufTensorSource(std::shared_ptr<const GgufFile> file, const ModelConfig& config);
  std::optional<std::vector<int64_t>> shape(const std::string& name) const override;
  Result<std::vector<float>> load_f32(const std::string& name, std::span<const int64_t> expect) const override;
  Result<QMatrix> load_matrix(const std::string& name, int64_t rows, int64_t cols, WeightFormat fmt, bool table,
                              ThreadPool* pool, bool search) const override;
  WeightFormat load_format(const std::string& name, WeightFormat fmt, bool table) const override;
  std::string where() const override { return file_->path(); }
  const GgufFile& file() const { return *file_; }

 private:
  struct Entry {
    std::string gguf_name;
    const GgufTensor* tensor = nullptr;  // null when the file lacks it
    bool permuted = false;
  };
  Result<Entry> entry(const std::string& name, std::span<const int64_t> expect) const;
  // Copies the GGUF rows of HF rows r0..r0+n-1 (in HF order) into dst.
  Status read_rows(const Entry& e, int64_t r0, int64_t n, uint8_t* dst) const;
  std::shared_ptr<const GgufFile> file_;
  ModelConfig config_;
  std::map<std::string, Entry> by_hf_name_;
};

Result<Checkpoint> open_gguf_checkpoint(const std::string& path);

}  // namespace hearth
