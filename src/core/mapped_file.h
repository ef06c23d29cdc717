// Read-only access to a file: memory-mapped natively. Under Emscripten (no real mmap) a small
// file is read into memory and a large one stays on disk and is read in ranges, so a multi-GB
// checkpoint never has to fit in the 4 GB wasm heap; data() is then null and read() works.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace hearth {

class MappedFile {
 public:
  // force_ranges: never map or load the whole file (what large files get under Emscripten).
  static Result<std::shared_ptr<MappedFile>> open(const std::string& path, bool force_ranges = false);
  // Wraps bytes already in memory (tests, the browser's File objects).
  static std::shared_ptr<MappedFile> from_bytes(std::vector<uint8_t> bytes, std::string name);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // The whole file in memory, or nullptr when it is read in ranges.
  const uint8_t* data() const { return data_; }
  // Copies n bytes at `offset` into dst (works in every mode).
  Status read(uint64_t offset, size_t n, void* dst) const;
  // Files larger than this are read in ranges under Emscripten.
  static constexpr size_t kResidentLimit = size_t(64) << 20;
  uint64_t size() const { return size_; }  // 64-bit: files beyond 4 GB in wasm32 too
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
  [[maybe_unused]] bool mapped_ = false;
  int fd_ = -1;  // open while reading in ranges
  std::vector<uint8_t> owned_;
  std::string path_;
};

}  // namespace hearth
