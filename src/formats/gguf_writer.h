// GGUF writer (version 3): metadata pairs of every type, tensor infos, and the data section
// with each tensor at a multiple of the alignment. Tensor data is produced one tensor at a time
// by a callback, so a large model is never held in memory whole.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"
#include "formats/gguf.h"

namespace hearth {

struct GgufTensorToWrite {
  std::string name;
  GgmlType type = GgmlType::F32;
  std::vector<int64_t> ne;  // ggml order: fastest-varying first ([cols, rows] for a matrix)
  uint64_t nbytes() const;
};

class GgufWriter {
 public:
  static constexpr uint64_t kAlignment = 32;
  void add(std::string key, GgufValue value) { kv_.emplace_back(std::move(key), std::move(value)); }
  bool has(const std::string& key) const {
    for (const auto& kv : kv_) {
      if (kv.first == key) return true;
    }
    return false;
  }
  void add_tensor(GgufTensorToWrite t) { tensors_.push_back(std::move(t)); }
  const std::vector<GgufTensorToWrite>& tensors() const { return tensors_; }

  // Writes the file; fill(i, out) puts tensor i's bytes in out (sized for it) and may fail.
  Status write(const std::string& path, const std::function<Status(size_t, std::vector<uint8_t>&)>& fill) const;
  // The whole file in memory (tests): the header, then `data[i]` for tensor i.
  std::vector<uint8_t> serialize(const std::vector<std::vector<uint8_t>>& data) const;

 private:
  std::vector<uint8_t> header() const;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<GgufTensorToWrite> tensors_;
};

}  // namespace hearth
