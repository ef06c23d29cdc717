// Tensor sources: the safetensors folder, the default matrix conversion, and picking a source
// for a path.
#include "model/tensor_source.h"

#include "formats/gguf.h"
#include "model/checkpoint_checks.h"
#include "model/gguf_checkpoint.h"

namespace hearth {

Result<QMatrix> TensorSource::load_matrix(const std::string& name, int64_t rows, int64_t cols, WeightFormat fmt, bool table,
                                          ThreadPool* pool, bool search) const {
  const int64_t shape[2] = {rows, cols};
  HEARTH_ASSIGN(std::vector<float> w, load_f32(name, shape));
  return quantize_matrix(w, rows, cols, fmt, pool, search);
}

std::optional<std::vector<int64_t>> SafetensorsSource::shape(const std::string& name) const {
  const TensorInfo* t = store_.find(name);
  if (!t) return std::nullopt;
  return t->shape;
}

Result<std::vector<float>> SafetensorsSource::load_f32(const std::string& name, std::span<const int64_t> expect) const {
  return store_.load_f32(name, expect);
}

Result<Checkpoint> open_checkpoint(const std::string& path) {
  if (is_gguf_file(path)) return open_gguf_checkpoint(path);
  Checkpoint c;
  HEARTH_ASSIGN(c.config, read_model_config(path));
  HEARTH_ASSIGN(TensorStore store, TensorStore::open_dir(path));
  warn_about_unused_layers(store, c.config, path);
  c.tensors = std::make_unique<SafetensorsSource>(std::move(store), path);
  return c;
}

}  // namespace hearth
