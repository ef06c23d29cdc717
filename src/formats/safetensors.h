// safetensors reader: single files and sharded checkpoints (model.safetensors.index.json).
// Validates what the format promises before any tensor is touched: the header length limit,
// the JSON header, dtypes, byte sizes = elements x dtype size, offsets contiguous and inside
// the file.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/mapped_file.h"

namespace hearth {

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;  // points into the mapped file; nullptr when read in ranges
  uint64_t offset = 0;            // byte offset of the data in the file
  const MappedFile* src = nullptr;
  size_t nbytes = 0;
  std::string file;  // the file it came from, for messages

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  std::string shape_str() const;
  // Copies n bytes starting `first` bytes into the tensor's data.
  Status read_bytes(size_t first, size_t n, void* dst) const;
};

class SafetensorsFile {
 public:
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;
  static Result<SafetensorsFile> open(const std::string& path);
  static Result<SafetensorsFile> parse(std::shared_ptr<MappedFile> file);

  const TensorInfo* find(const std::string& name) const;
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return file_->path(); }

 private:
  std::shared_ptr<MappedFile> file_;
  std::vector<TensorInfo> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// All tensors of a checkpoint folder: model.safetensors, or the shards that
// model.safetensors.index.json names.
class TensorStore {
 public:
  static Result<TensorStore> open_dir(const std::string& dir);
  static Result<TensorStore> from_files(std::vector<SafetensorsFile> files);

  const TensorInfo* find(const std::string& name) const;
  std::vector<std::string> names() const;

  // Converts a tensor to f32, checking its shape. `expect` lists the expected dims.
  Result<std::vector<float>> load_f32(const std::string& name, std::span<const int64_t> expect) const;

 private:
  std::vector<SafetensorsFile> files_;
  std::map<std::string, const TensorInfo*> by_name_;
};

// Converts n elements of a float-typed tensor to f32 (F32, F16, BF16, F64). A NaN or infinite
// element is an error naming the tensor and the element (weights must be finite).
Status convert_to_f32(const TensorInfo& t, size_t first, size_t n, float* out);

// Writes a safetensors file (used by tests and the random-checkpoint tool).
struct TensorToWrite {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};
Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors);
std::vector<uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors);
// Streams a large file: `metas` give names, dtypes and shapes (bytes unused); generate(i, out)
// fills tensor i's bytes (out is sized for it).
Status write_safetensors_generated(const std::string& path, const std::vector<TensorToWrite>& metas,
                                   const std::function<void(size_t, std::vector<uint8_t>&)>& generate);

}  // namespace hearth
