// The packed-weights container (.hpk): the exact bytes an engine computes with (quantized
// matrices in the shared layout of ops/qmatrix.h, f32 vectors) plus the small files a model
// folder carries (config.json, tokenizer.json, ...), written once and read back without any
// conversion or quantization.
//
// Layout (little-endian):
//   "HRTHPACK" u32 version u32 0                     -- 16 bytes
//   blobs, each starting at a multiple of 64
//   header JSON (UTF-8)
//   u64 header_offset u64 header_bytes "HRTHPACK"    -- the last 24 bytes
// The header sits at the end so a writer can stream blobs of sizes it learns as it goes:
//   { "format_version": 1, "producer": {...}, "source": {...},
//     "files":   { "config.json": {"offset", "bytes", "hash"}, ... },
//     "tensors": { NAME: {"format", "rows", "cols", "parts": {PART: {"offset", "bytes"}}, "hash"} } }
// Every blob offset is absolute; every hash is hash64 (below) of the blob's bytes (a tensor's:
// of its parts in the order listed), checked as it is read.
#pragma once
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/json.h"

namespace hearth {

inline constexpr uint32_t kPackedVersion = 1;

// A 64-bit hash of bytes: four interleaved multiply-rotate lanes over 32-byte blocks, then the
// tail; fast enough to check gigabytes on every load (it runs at memory speed natively).
uint64_t hash64(const void* data, size_t n, uint64_t seed = 0);
std::string hex64(uint64_t v);

// Whether `path` is a file that starts with the packed magic.
bool is_packed_file(const std::string& path);

class PackedFile {
 public:
  static Result<PackedFile> open(const std::string& path);
  const Json& header() const { return header_; }
  const std::string& path() const { return file_->path(); }
  // An embedded file's bytes (hash checked), or nullopt when the pack has none of that name.
  Result<std::optional<std::string>> file_text(const std::string& name) const;
  // Reads `bytes` bytes of a blob described by {"offset", "bytes"} into dst.
  Status read_blob(const Json& where, void* dst, size_t bytes, const std::string& what) const;

 private:
  std::shared_ptr<MappedFile> file_;
  Json header_;
};

// Writes a pack: blobs first (each aligned), then the header with their places.
class PackedWriter {
 public:
  static Result<PackedWriter> create(const std::string& path);
  PackedWriter(PackedWriter&& o) noexcept;
  PackedWriter& operator=(PackedWriter&&) = delete;
  ~PackedWriter();
  // Appends a blob; returns {"offset", "bytes"}.
  Result<Json> blob(const void* data, size_t n);
  // Writes the header and the trailer and closes the file.
  Status finish(const Json& header);

 private:
  PackedWriter() = default;
  std::FILE* f_ = nullptr;
  std::string path_;
  uint64_t pos_ = 0;
};

}  // namespace hearth
