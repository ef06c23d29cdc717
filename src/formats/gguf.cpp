// GGUF parsing and validation: a buffered cursor over the file that checks every length against
// the bytes left before allocating, typed metadata access, and tensor data reads.
#include "formats/gguf.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

namespace hearth {

const char* gguf_type_name(GgufType t) {
  switch (t) {
    case GgufType::U8: return "uint8";
    case GgufType::I8: return "int8";
    case GgufType::U16: return "uint16";
    case GgufType::I16: return "int16";
    case GgufType::U32: return "uint32";
    case GgufType::I32: return "int32";
    case GgufType::F32: return "float32";
    case GgufType::Bool: return "bool";
    case GgufType::String: return "string";
    case GgufType::Array: return "array";
    case GgufType::U64: return "uint64";
    case GgufType::I64: return "int64";
    case GgufType::F64: return "float64";
  }
  return "?";
}

bool gguf_type_is_integer(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::U16: case GgufType::I16: case GgufType::U32:
    case GgufType::I32: case GgufType::U64: case GgufType::I64: case GgufType::Bool: return true;
    default: return false;
  }
}

bool gguf_type_is_float(GgufType t) { return t == GgufType::F32 || t == GgufType::F64; }

namespace {

// Bytes of one scalar of type t (0 for strings and arrays).
uint64_t scalar_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8: case GgufType::I8: case GgufType::Bool: return 1;
    case GgufType::U16: case GgufType::I16: return 2;
    case GgufType::U32: case GgufType::I32: case GgufType::F32: return 4;
    case GgufType::U64: case GgufType::I64: case GgufType::F64: return 8;
    default: return 0;
  }
}

bool known_type(uint32_t t) { return t <= uint32_t(GgufType::F64); }

// Sequential reads through a window of the file, every length checked against what is left.
class Cursor {
 public:
  Cursor(const MappedFile& f) : f_(f) {}
  uint64_t pos() const { return pos_; }
  uint64_t left() const { return f_.size() - pos_; }

  Status bytes(size_t n, void* dst, const char* what) {
    if (n > left()) return err(f_.path(), ": truncated GGUF file: ", what, " needs ", std::to_string(n), " bytes at offset ", std::to_string(pos_), ", only ", std::to_string(left()), " left");
    if (f_.data()) {
      std::memcpy(dst, f_.data() + pos_, n);
      pos_ += n;
      return {};
    }
    auto* out = static_cast<uint8_t*>(dst);
    while (n > 0) {
      if (pos_ < buf_pos_ || pos_ >= buf_pos_ + buf_.size()) {
        const size_t want = size_t(std::min<uint64_t>(left(), kWindow));
        buf_.resize(want);
        HEARTH_CHECK(f_.read(pos_, want, buf_.data()));
        buf_pos_ = pos_;
      }
      const size_t at = size_t(pos_ - buf_pos_);
      const size_t m = std::min(n, buf_.size() - at);
      std::memcpy(out, buf_.data() + at, m);
      out += m;
      pos_ += m;
      n -= m;
    }
    return {};
  }
  template <class T>
  Result<T> pod(const char* what) {
    T v;
    HEARTH_CHECK(bytes(sizeof(T), &v, what));
    return v;
  }
  Result<std::string> string(const char* what) {
    HEARTH_ASSIGN(uint64_t n, pod<uint64_t>(what));
    if (n > GgufFile::kMaxStringBytes || n > left()) {
      return err(f_.path(), ": ", what, " at offset ", std::to_string(pos_ - 8), " claims ", std::to_string(n), " bytes, more than the ", std::to_string(left()), " left in the file");
    }
    std::string s(size_t(n), '\0');
    HEARTH_CHECK(bytes(size_t(n), s.data(), what));
    return s;
  }

 private:
  static constexpr uint64_t kWindow = uint64_t(1) << 20;
  const MappedFile& f_;
  uint64_t pos_ = 0;
  std::vector<uint8_t> buf_;
  uint64_t buf_pos_ = 0;
};

int64_t scalar_as_int(GgufType t, const uint8_t* p) {
  switch (t) {
    case GgufType::U8: case GgufType::Bool: return p[0];
    case GgufType::I8: return int8_t(p[0]);
    case GgufType::U16: { uint16_t v; std::memcpy(&v, p, 2); return v; }
    case GgufType::I16: { int16_t v; std::memcpy(&v, p, 2); return v; }
    case GgufType::U32: { uint32_t v; std::memcpy(&v, p, 4); return v; }
    case GgufType::I32: { int32_t v; std::memcpy(&v, p, 4); return v; }
    default: { int64_t v; std::memcpy(&v, p, 8); return v; }  // U64 (bit pattern), I64
  }
}

// Reads `count` values of scalar type t (not string or array) into v.
Status read_scalars(Cursor& c, GgufType t, uint64_t count, GgufValue& v, const std::string& key, const std::string& path) {
  const uint64_t es = scalar_bytes(t);
  if (count > c.left() / es) return err(path, ": metadata ", key, ": array of ", std::to_string(count), " ", gguf_type_name(t), " values runs past the end of the file");
  std::vector<uint8_t> raw(size_t(count * es));
  HEARTH_CHECK(c.bytes(raw.size(), raw.data(), "metadata value"));
  if (gguf_type_is_float(t)) {
    v.floats.resize(size_t(count));
    for (size_t i = 0; i < count; ++i) {
      if (t == GgufType::F32) {
        float f;
        std::memcpy(&f, raw.data() + i * 4, 4);
        v.floats[i] = f;
      } else {
        std::memcpy(&v.floats[i], raw.data() + i * 8, 8);
      }
    }
    return {};
  }
  v.ints.resize(size_t(count));
  for (size_t i = 0; i < count; ++i) v.ints[i] = scalar_as_int(t, raw.data() + i * es);
  if (t == GgufType::Bool) {
    for (int64_t b : v.ints) {
      if (b > 1) return err(path, ": metadata ", key, ": bool value ", std::to_string(b), " is neither 0 nor 1");
    }
  }
  return {};
}

Result<GgufValue> read_value(Cursor& c, uint32_t raw_type, const std::string& key, const std::string& path, int depth);

Status read_array(Cursor& c, GgufValue& v, const std::string& key, const std::string& path, int depth) {
  if (depth >= GgufFile::kMaxArrayDepth) return err(path, ": metadata ", key, ": arrays nested deeper than ", GgufFile::kMaxArrayDepth, " levels");
  HEARTH_ASSIGN(uint32_t et, c.pod<uint32_t>("array element type"));
  if (!known_type(et)) return err(path, ": metadata ", key, ": unknown array element type ", std::to_string(et));
  HEARTH_ASSIGN(uint64_t count, c.pod<uint64_t>("array length"));
  v.elem = GgufType(et);
  if (v.elem == GgufType::String) {
    // Each string takes at least its 8-byte length.
    if (count > c.left() / 8) return err(path, ": metadata ", key, ": array of ", std::to_string(count), " strings runs past the end of the file");
    v.strs.reserve(size_t(count));
    for (uint64_t i = 0; i < count; ++i) {
      HEARTH_ASSIGN(std::string s, c.string("metadata string"));
      v.strs.push_back(std::move(s));
    }
    return {};
  }
  if (v.elem == GgufType::Array) {
    if (count > c.left() / 12) return err(path, ": metadata ", key, ": array of ", std::to_string(count), " arrays runs past the end of the file");
    for (uint64_t i = 0; i < count; ++i) {
      HEARTH_ASSIGN(GgufValue inner, read_value(c, uint32_t(GgufType::Array), key, path, depth + 1));
      v.arrays.push_back(std::move(inner));
    }
    return {};
  }
  return read_scalars(c, v.elem, count, v, key, path);
}

Result<GgufValue> read_value(Cursor& c, uint32_t raw_type, const std::string& key, const std::string& path, int depth) {
  if (!known_type(raw_type)) return err(path, ": metadata ", key, ": unknown value type ", std::to_string(raw_type));
  GgufValue v;
  v.type = GgufType(raw_type);
  if (v.type == GgufType::String) {
    HEARTH_ASSIGN(std::string s, c.string("metadata string"));
    v.strs.push_back(std::move(s));
  } else if (v.type == GgufType::Array) {
    HEARTH_CHECK(read_array(c, v, key, path, depth));
  } else {
    HEARTH_CHECK(read_scalars(c, v.type, 1, v, key, path));
  }
  return v;
}

}  // namespace

size_t GgufValue::size() const {
  if (!is_array()) return 1;
  return ints.size() + floats.size() + strs.size() + arrays.size();
}

GgufValue GgufValue::of_int(GgufType t, int64_t v) {
  GgufValue x;
  x.type = t;
  x.ints = {v};
  return x;
}
GgufValue GgufValue::of_float(GgufType t, double v) {
  GgufValue x;
  x.type = t;
  x.floats = {v};
  return x;
}
GgufValue GgufValue::of_string(std::string s) {
  GgufValue x;
  x.type = GgufType::String;
  x.strs.push_back(std::move(s));
  return x;
}
GgufValue GgufValue::int_array(GgufType elem, std::vector<int64_t> v) {
  GgufValue x;
  x.type = GgufType::Array;
  x.elem = elem;
  x.ints = std::move(v);
  return x;
}
GgufValue GgufValue::float_array(GgufType elem, std::vector<double> v) {
  GgufValue x;
  x.type = GgufType::Array;
  x.elem = elem;
  x.floats = std::move(v);
  return x;
}
GgufValue GgufValue::string_array(std::vector<std::string> v) {
  GgufValue x;
  x.type = GgufType::Array;
  x.elem = GgufType::String;
  x.strs = std::move(v);
  return x;
}

int64_t GgufTensor::numel() const {
  int64_t n = 1;
  for (int64_t d : ne) n *= d;
  return n;
}

std::vector<int64_t> GgufTensor::shape() const { return std::vector<int64_t>(ne.rbegin(), ne.rend()); }

std::string GgufTensor::shape_str() const {
  std::string s = "[";
  const std::vector<int64_t> sh = shape();
  for (size_t i = 0; i < sh.size(); ++i) s += (i ? ", " : "") + std::to_string(sh[i]);
  return s + "]";
}

Result<GgufFile> GgufFile::open(const std::string& path) {
  HEARTH_ASSIGN(auto f, MappedFile::open(path));
  return parse(std::move(f));
}

namespace {

// One tensor info; checks dimensions and the type, computes the byte size.
Result<GgufTensor> read_tensor_info(Cursor& c, const std::string& path, uint64_t index) {
  GgufTensor t;
  HEARTH_ASSIGN(t.name, c.string("tensor name"));
  std::string what = path + ": tensor ";
  if (t.name.empty()) {
    what += "#";
    what += std::to_string(index);
  } else {
    what += t.name;
  }
  HEARTH_ASSIGN(uint32_t nd, c.pod<uint32_t>("tensor dimension count"));
  if (nd == 0 || nd > GgufFile::kMaxDims) return err(what, ": ", std::to_string(nd), " dimensions (expected 1 to ", GgufFile::kMaxDims, ")");
  uint64_t numel = 1;
  for (uint32_t d = 0; d < nd; ++d) {
    HEARTH_ASSIGN(uint64_t ne, c.pod<uint64_t>("tensor dimension"));
    if (ne == 0 || ne > uint64_t(std::numeric_limits<int64_t>::max()) || numel > (uint64_t(1) << 48) / ne) {
      return err(what, ": dimension ", std::to_string(d), " is ", std::to_string(ne), " (zero, or the tensor would exceed 2^48 elements)");
    }
    numel *= ne;
    t.ne.push_back(int64_t(ne));
  }
  HEARTH_ASSIGN(uint32_t type, c.pod<uint32_t>("tensor type"));
  auto info = ggml_type_info(type);
  if (!info) return err(what, ": unknown ggml type ", std::to_string(type));
  t.type = GgmlType(type);
  if (t.ne[0] % info->block != 0) {
    return err(what, ": ", info->name, " needs rows that are a multiple of ", info->block, " values, the first dimension is ", t.ne[0]);
  }
  t.nbytes = numel / uint64_t(info->block) * uint64_t(info->block_bytes);
  HEARTH_ASSIGN(t.offset, c.pod<uint64_t>("tensor offset"));
  return t;
}

}  // namespace

Result<GgufFile> GgufFile::parse(std::shared_ptr<MappedFile> file) {
  const std::string& path = file->path();
  Cursor c(*file);
  char magic[4];
  if (file->size() < 4) return err(path, ": not a GGUF file (", std::to_string(file->size()), " bytes, shorter than the magic)");
  HEARTH_CHECK(c.bytes(4, magic, "magic"));
  if (std::memcmp(magic, "GGUF", 4) != 0) return err(path, ": not a GGUF file (the first bytes are not \"GGUF\")");
  GgufFile g;
  g.file_ = file;
  HEARTH_ASSIGN(g.version_, c.pod<uint32_t>("version"));
  if (g.version_ == 1) return err(path, ": GGUF version 1 is not supported (expected 2 or 3; re-convert the model)");
  if (g.version_ != 2 && g.version_ != 3) return err(path, ": GGUF version ", std::to_string(g.version_), " is not supported (expected 2 or 3)");
  HEARTH_ASSIGN(uint64_t n_tensors, c.pod<uint64_t>("tensor count"));
  HEARTH_ASSIGN(uint64_t n_kv, c.pod<uint64_t>("metadata count"));
  // A metadata pair takes at least 8 + 4 + 1 bytes, a tensor info at least 8 + 4 + 8 + 4 + 8.
  if (n_kv > c.left() / 13) return err(path, ": metadata count ", std::to_string(n_kv), " cannot fit in the ", std::to_string(c.left()), " bytes left (truncated or corrupt file)");
  if (n_tensors > c.left() / 32) return err(path, ": tensor count ", std::to_string(n_tensors), " cannot fit in the ", std::to_string(c.left()), " bytes left (truncated or corrupt file)");
  for (uint64_t i = 0; i < n_kv; ++i) {
    HEARTH_ASSIGN(std::string key, c.string("metadata key"));
    HEARTH_ASSIGN(uint32_t type, c.pod<uint32_t>("metadata value type"));
    HEARTH_ASSIGN(GgufValue v, read_value(c, type, key, path, 0));
    if (g.kv_index_.count(key)) return err(path, ": metadata key ", key, " appears twice");
    g.kv_index_[key] = g.kv_.size();
    g.kv_.emplace_back(std::move(key), std::move(v));
  }
  if (const GgufValue* a = g.find("general.alignment")) {
    if (!gguf_type_is_integer(a->type) || a->type == GgufType::Bool) return err(path, ": general.alignment must be an integer");
    const int64_t al = a->ints[0];
    if (al <= 0 || al > (1 << 20) || (al & (al - 1)) != 0) return err(path, ": general.alignment ", std::to_string(al), " is not a power of two up to 1 MiB");
    g.alignment_ = uint64_t(al);
  }
  for (uint64_t i = 0; i < n_tensors; ++i) {
    HEARTH_ASSIGN(GgufTensor t, read_tensor_info(c, path, i));
    if (g.tensor_index_.count(t.name)) return err(path, ": tensor ", t.name, " appears twice");
    g.tensor_index_[t.name] = g.tensors_.size();
    g.tensors_.push_back(std::move(t));
  }
  g.data_offset_ = (c.pos() + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  if (g.data_offset_ > file->size() && n_tensors > 0) return err(path, ": truncated GGUF file: the data section would start at byte ", std::to_string(g.data_offset_), " of ", std::to_string(file->size()));
  const uint64_t data_len = file->size() >= g.data_offset_ ? file->size() - g.data_offset_ : 0;
  for (GgufTensor& t : g.tensors_) {
    if (t.offset % g.alignment_ != 0) return err(path, ": tensor ", t.name, ": offset ", std::to_string(t.offset), " is not a multiple of the alignment ", std::to_string(g.alignment_));
    if (t.offset > data_len || t.nbytes > data_len - t.offset) {
      return err(path, ": tensor ", t.name, ": ", t.shape_str(), " ", ggml_type_name(t.type), " needs bytes ", std::to_string(t.offset), "..", std::to_string(t.offset + t.nbytes), " of the data section, which has ", std::to_string(data_len), " (truncated file?)");
    }
    t.offset += g.data_offset_;
  }
  // Tensors must not overlap.
  std::vector<const GgufTensor*> order;
  for (const auto& t : g.tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const GgufTensor* a, const GgufTensor* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->offset + order[i - 1]->nbytes > order[i]->offset) {
      return err(path, ": tensors ", order[i - 1]->name, " and ", order[i]->name, " overlap in the data section");
    }
  }
  return g;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

const GgufTensor* GgufFile::tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

Result<int64_t> GgufFile::get_int(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (!gguf_type_is_integer(v->type) || v->type == GgufType::Bool) return err(path(), ": metadata ", key, " is a ", gguf_type_name(v->type), ", expected an integer");
  if (v->type == GgufType::U64 && v->ints[0] < 0) return err(path(), ": metadata ", key, " is larger than 2^63");
  return v->ints[0];
}

Result<double> GgufFile::get_float(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (gguf_type_is_float(v->type)) return v->floats[0];
  if (gguf_type_is_integer(v->type) && v->type != GgufType::Bool) return double(v->ints[0]);
  return err(path(), ": metadata ", key, " is a ", gguf_type_name(v->type), ", expected a number");
}

Result<std::string> GgufFile::get_string(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (v->type != GgufType::String) return err(path(), ": metadata ", key, " is a ", gguf_type_name(v->type), ", expected a string");
  return v->strs[0];
}

Result<bool> GgufFile::get_bool(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (v->type != GgufType::Bool) return err(path(), ": metadata ", key, " is a ", gguf_type_name(v->type), ", expected a bool");
  return v->ints[0] != 0;
}

Result<int64_t> GgufFile::get_int(const std::string& key, int64_t def) const { return find(key) ? get_int(key) : def; }
Result<double> GgufFile::get_float(const std::string& key, double def) const { return find(key) ? get_float(key) : def; }
Result<std::string> GgufFile::get_string(const std::string& key, const std::string& def) const { return find(key) ? get_string(key) : def; }
Result<bool> GgufFile::get_bool(const std::string& key, bool def) const { return find(key) ? get_bool(key) : def; }

Result<const std::vector<std::string>*> GgufFile::get_strings(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (!v->is_array() || v->elem != GgufType::String) return err(path(), ": metadata ", key, " must be an array of strings");
  return &v->strs;
}

Result<const std::vector<int64_t>*> GgufFile::get_ints(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (!v->is_array() || !gguf_type_is_integer(v->elem)) return err(path(), ": metadata ", key, " must be an array of integers");
  return &v->ints;
}

Result<const std::vector<double>*> GgufFile::get_floats(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) return err(path(), ": metadata key ", key, " is missing");
  if (!v->is_array() || !gguf_type_is_float(v->elem)) return err(path(), ": metadata ", key, " must be an array of floats");
  return &v->floats;
}

Status GgufFile::read(const GgufTensor& t, uint64_t first, size_t n, void* dst) const {
  if (first > t.nbytes || n > t.nbytes - first) return err(path(), ": tensor ", t.name, ": read past its data");
  return file_->read(t.offset + first, n, dst);
}

const uint8_t* GgufFile::data(const GgufTensor& t) const {
  return file_->data() ? file_->data() + size_t(t.offset) : nullptr;
}

bool is_gguf_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char magic[4] = {};
  const bool ok = std::fread(magic, 1, 4, f) == 4 && std::memcmp(magic, "GGUF", 4) == 0;
  std::fclose(f);
  return ok;
}

}  // namespace hearth
