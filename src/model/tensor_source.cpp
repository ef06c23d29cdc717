// Tensor sources: the safetensors folder, the default matrix conversion, and picking a source
// for a path.
#include "model/tensor_source.h"

#include "formats/gguf.h"
#include "formats/packed.h"
#include "model/checkpoint_checks.h"
#include "model/gguf_checkpoint.h"
#include "model/packed_model.h"

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

Result<std::optional<RawMatrix>> SafetensorsSource::raw_matrix(const std::string& name, int64_t rows,
                                                              int64_t cols) const {
  const TensorInfo* t = store_.find(name);
  if (!t || (t->dtype != DType::BF16 && t->dtype != DType::F16 && t->dtype != DType::F32)) return std::optional<RawMatrix>();
  if (t->shape.size() != 2 || t->shape[0] != rows || t->shape[1] != cols) {
    TensorInfo e;
    e.shape = {rows, cols};
    return err(t->file, ": tensor ", name, ": expected shape ", e.shape_str(), ", file has ", t->shape_str());
  }
  RawMatrix m;
  m.dtype = t->dtype;
  m.rows = rows;
  m.cols = cols;
  m.name = name;
  m.data = t->data;
  if (!m.data) {
    const size_t row_bytes = m.row_bytes();
    m.read_rows = [t, row_bytes](int64_t row0, int64_t n, void* dst) {
      return t->read_bytes(size_t(row0) * row_bytes, size_t(n) * row_bytes, dst);
    };
  }
  return std::optional<RawMatrix>(std::move(m));
}

Result<Checkpoint> open_checkpoint(const std::string& path) {
  if (is_gguf_file(path)) return open_gguf_checkpoint(path);
  if (is_packed_file(path)) return open_packed_checkpoint(path);
  Checkpoint c;
  HEARTH_ASSIGN(c.config, read_model_config(path));
  HEARTH_ASSIGN(TensorStore store, TensorStore::open_dir(path));
  warn_about_unused_layers(store, c.config, path);
  c.tensors = std::make_unique<SafetensorsSource>(std::move(store), path);
  return c;
}

}  // namespace hearth
