// GGUF reader (versions 2 and 3, little-endian): the metadata key/value pairs of every type
// (arrays, nested arrays too), the tensor infos, the alignment and the data section, with the
// tensor data read through a MappedFile (mapped, resident or read in ranges).
//
// Layout (the public GGUF specification): "GGUF" magic, u32 version, u64 tensor count, u64
// metadata count; each metadata pair is a string key (u64 length + bytes), a u32 value type and
// the value (an array is a u32 element type, a u64 count and the elements); each tensor info is
// a name, a u32 dimension count, u64 dimensions (the fastest-varying first), a u32 ggml type and
// a u64 offset into the data section. The data section starts at the first multiple of
// general.alignment (default 32) after the infos; every tensor offset is a multiple of it.
//
// Every count, length, dimension and offset is checked against the file before anything is
// allocated or read: a malformed file gives an error naming the file and what is wrong.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/mapped_file.h"
#include "formats/ggml_types.h"

namespace hearth {

// Metadata value types (the numbers are the file's).
enum class GgufType : uint32_t {
  U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7, String = 8, Array = 9,
  U64 = 10, I64 = 11, F64 = 12,
};
const char* gguf_type_name(GgufType t);
bool gguf_type_is_integer(GgufType t);  // U8..I64 and Bool
bool gguf_type_is_float(GgufType t);    // F32, F64

// One metadata value: a scalar, or an array of one element type. Arrays keep their elements in
// one typed vector (integers as int64 — U64 as its bit pattern —, floats as double, strings),
// so a 150k-entry vocabulary costs no per-element objects beyond its strings.
struct GgufValue {
  GgufType type = GgufType::U8;  // Array for arrays
  GgufType elem = GgufType::U8;  // arrays: the element type
  std::vector<int64_t> ints;     // integer scalar (1 element) or integer array
  std::vector<double> floats;    // float scalar or array
  std::vector<std::string> strs;  // string scalar or array
  std::vector<GgufValue> arrays;  // array of arrays

  bool is_array() const { return type == GgufType::Array; }
  // Element count of an array (1 for a scalar).
  size_t size() const;
  // Scalar constructors (for writers and tests).
  static GgufValue of_int(GgufType t, int64_t v);
  static GgufValue of_float(GgufType t, double v);
  static GgufValue of_string(std::string s);
  static GgufValue of_bool(bool b) { return of_int(GgufType::Bool, b ? 1 : 0); }
  static GgufValue int_array(GgufType elem, std::vector<int64_t> v);
  static GgufValue float_array(GgufType elem, std::vector<double> v);
  static GgufValue string_array(std::vector<std::string> v);
};

struct GgufTensor {
  std::string name;
  std::vector<int64_t> ne;  // dimensions, fastest-varying first (ggml order): a matrix is [cols, rows]
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;  // absolute byte offset of the data in the file
  uint64_t nbytes = 0;

  int64_t numel() const;
  // The dimensions in row-major order (PyTorch / safetensors): ne reversed.
  std::vector<int64_t> shape() const;
  std::string shape_str() const;  // row-major, "[rows, cols]"
};

class GgufFile {
 public:
  static constexpr uint64_t kMaxStringBytes = uint64_t(1) << 30;
  static constexpr int kMaxArrayDepth = 8;
  static constexpr uint32_t kMaxDims = 4;

  static Result<GgufFile> open(const std::string& path);
  static Result<GgufFile> parse(std::shared_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const std::string& path() const { return file_->path(); }
  const MappedFile& file() const { return *file_; }
  std::shared_ptr<MappedFile> shared_file() const { return file_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  // Typed access; errors name the file and the key. Integers of any width convert when the value
  // fits; a float key accepts integers.
  Result<int64_t> get_int(const std::string& key) const;
  Result<double> get_float(const std::string& key) const;
  Result<std::string> get_string(const std::string& key) const;
  Result<bool> get_bool(const std::string& key) const;
  // The same with a default when the key is absent (a present key of the wrong type is an error).
  Result<int64_t> get_int(const std::string& key, int64_t def) const;
  Result<double> get_float(const std::string& key, double def) const;
  Result<std::string> get_string(const std::string& key, const std::string& def) const;
  Result<bool> get_bool(const std::string& key, bool def) const;
  // Arrays of a kind: the key's elements (error if absent or another kind).
  Result<const std::vector<std::string>*> get_strings(const std::string& key) const;
  Result<const std::vector<int64_t>*> get_ints(const std::string& key) const;
  Result<const std::vector<double>*> get_floats(const std::string& key) const;

  const std::vector<GgufTensor>& tensors() const { return tensors_; }
  const GgufTensor* tensor(const std::string& name) const;
  // Copies n bytes starting `first` bytes into tensor t's data.
  Status read(const GgufTensor& t, uint64_t first, size_t n, void* dst) const;
  // A pointer to the tensor's bytes when the file is in memory (mapped or resident), else null.
  const uint8_t* data(const GgufTensor& t) const;

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensor> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// True when `path` is a regular file that starts with the GGUF magic.
bool is_gguf_file(const std::string& path);

}  // namespace hearth
