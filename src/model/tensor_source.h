// Where a model's tensors come from, by their Hugging Face names (hf_layout.h): a safetensors
// checkpoint folder or a GGUF file. Model::load asks for each tensor by name and shape; the
// source converts it (and for GGUF maps names, undoes llama.cpp's q/k row order, and keeps Q8_0 /
// Q4_0 blocks as they are). open_checkpoint picks the source for a path.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/config.h"
#include "formats/safetensors.h"
#include "ops/backend_types.h"
#include "ops/qmatrix.h"

namespace hearth {

class ThreadPool;

class TensorSource {
 public:
  virtual ~TensorSource() = default;
  // The row-major (PyTorch) shape of a tensor, or nullopt when the checkpoint lacks it.
  virtual std::optional<std::vector<int64_t>> shape(const std::string& name) const = 0;
  bool has(const std::string& name) const { return shape(name).has_value(); }
  // A tensor as f32, checked against the expected shape.
  virtual Result<std::vector<float>> load_f32(const std::string& name, std::span<const int64_t> expect) const = 0;
  // A matrix [rows, cols] for compute. Float tensors are converted to `fmt`; a source may keep a
  // quantized tensor in its own format instead (GGUF Q8_0 / Q4_0) or pick the nearest one of
  // hearth's (see GgufTensorSource). `table` marks the embeddings and the LM head.
  virtual Result<QMatrix> load_matrix(const std::string& name, int64_t rows, int64_t cols, WeightFormat fmt, bool table,
                                      ThreadPool* pool, bool search) const;
  // A matrix [rows, cols] as the checkpoint stores it (BF16, F16 or F32), for a backend to
  // quantize itself (Backend::upload_quantized); nullopt when the source holds it otherwise
  // (then load_matrix). The view reads from the source, which must outlive it.
  virtual Result<std::optional<RawMatrix>> raw_matrix(const std::string& name, int64_t rows, int64_t cols) const {
    return std::optional<RawMatrix>();
  }
  // The format load_matrix gives a matrix asked for in `fmt` (for memory estimates before
  // loading): `fmt` unless the source keeps or picks another.
  virtual WeightFormat load_format(const std::string& name, WeightFormat fmt, bool table) const { return fmt; }
  // The file or folder, for messages.
  virtual std::string where() const = 0;
};

// A safetensors checkpoint folder (model.safetensors or shards).
class SafetensorsSource final : public TensorSource {
 public:
  explicit SafetensorsSource(TensorStore store, std::string dir) : store_(std::move(store)), dir_(std::move(dir)) {}
  std::optional<std::vector<int64_t>> shape(const std::string& name) const override;
  Result<std::vector<float>> load_f32(const std::string& name, std::span<const int64_t> expect) const override;
  Result<std::optional<RawMatrix>> raw_matrix(const std::string& name, int64_t rows, int64_t cols) const override;
  std::string where() const override { return dir_; }

 private:
  TensorStore store_;
  std::string dir_;
};

// A model's configuration and tensors.
struct Checkpoint {
  ModelConfig config;
  std::unique_ptr<TensorSource> tensors;
};

// `path` is a checkpoint folder (config.json + safetensors) or a .gguf file (any file that starts
// with the GGUF magic).
Result<Checkpoint> open_checkpoint(const std::string& path);

}  // namespace hearth
