// safetensors parsing and validation, sharded checkpoints, conversion to f32, and writing.
#include "formats/safetensors.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>

#include "core/finite.h"
#include "formats/json.h"

namespace hearth {

std::string TensorInfo::shape_str() const {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

Result<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  HEARTH_ASSIGN(auto f, MappedFile::open(path));
  return parse(std::move(f));
}

Result<SafetensorsFile> SafetensorsFile::parse(std::shared_ptr<MappedFile> file) {
  const std::string& path = file->path();
  if (file->size() < 8) return err(path, ": not a safetensors file (", std::to_string(file->size()), " bytes, shorter than the 8-byte header length)");
  uint8_t len[8];
  HEARTH_CHECK(file->read(0, 8, len));
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | len[i];
  if (n > kMaxHeaderBytes) return err(path, ": safetensors header length ", std::to_string(n), " exceeds the 100 MB limit (corrupt file?)");
  if (n > file->size() - 8) return err(path, ": safetensors header length ", std::to_string(n), " runs past the end of the file (", std::to_string(file->size()), " bytes): truncated or corrupt");
  std::string text(size_t(n), '\0');
  HEARTH_CHECK(file->read(8, size_t(n), text.data()));
  HEARTH_ASSIGN(Json header, parse_json(text, path + " (safetensors header)"));
  if (!header.is_object()) return err(path, ": safetensors header is not a JSON object");

  SafetensorsFile out;
  out.file_ = file;
  const uint64_t base = 8 + n;
  const uint64_t data_len = file->size() - 8 - n;
  for (const auto& entry : header.as_object()) {
    const std::string& name = entry.first;
    const Json& v = entry.second;
    if (name == "__metadata__") {
      if (!v.is_object()) return err(path, ": __metadata__ is not an object");
      for (const auto& [k, mv] : v.as_object()) {
        if (!mv.is_string()) return err(path, ": __metadata__.", k, " is not a string");
        out.metadata_[k] = mv.as_string();
      }
      continue;
    }
    auto where = [&](const char* what) { return err(path, ": tensor ", name, ": ", what); };
    if (!v.is_object()) return where("entry is not an object");
    const Json* dt = v.find("dtype");
    const Json* sh = v.find("shape");
    const Json* off = v.find("data_offsets");
    if (!dt || !dt->is_string()) return where("missing or non-string \"dtype\"");
    if (!sh || !sh->is_array()) return where("missing or non-array \"shape\"");
    if (!off || !off->is_array() || off->size() != 2) return where("\"data_offsets\" must be [begin, end]");
    TensorInfo t;
    t.name = name;
    t.file = path;
    if (!parse_safetensors_dtype(dt->as_string(), &t.dtype)) return err(path, ": tensor ", name, ": unknown dtype \"", dt->as_string(), "\"");
    uint64_t numel = 1;
    for (const auto& d : sh->as_array()) {
      if (!d.is_integer() || d.as_int() < 0) return where("shape has a non-integer or negative dimension");
      uint64_t dim = uint64_t(d.as_int());
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim) return where("shape is too large");
      numel *= dim;
      t.shape.push_back(int64_t(dim));
    }
    const Json& b = (*off)[0];
    const Json& e = (*off)[1];
    if (!b.is_integer() || !e.is_integer() || b.as_int() < 0 || e.as_int() < 0) return where("data_offsets are not non-negative integers");
    uint64_t begin = uint64_t(b.as_int()), end = uint64_t(e.as_int());
    if (end < begin) return where("data_offsets end before they begin");
    if (end > data_len) return err(path, ": tensor ", name, ": data ends at byte ", std::to_string(end), " but the file holds only ", std::to_string(data_len), " data bytes (truncated?)");
    uint64_t want = numel * dtype_size(t.dtype);
    if (end - begin != want) return err(path, ": tensor ", name, ": ", t.shape_str(), " ", dtype_name(t.dtype), " needs ", std::to_string(want), " bytes, data_offsets give ", std::to_string(end - begin));
    t.offset = base + begin;
    t.data = file->data() ? file->data() + size_t(t.offset) : nullptr;
    t.src = file.get();
    t.nbytes = size_t(end - begin);
    if (out.index_.count(name)) return where("appears twice in the header");
    out.index_[name] = out.tensors_.size();
    out.tensors_.push_back(std::move(t));
  }
  // Offsets must tile the data area: sorted, no gaps, no overlaps, ending at the file's end.
  std::vector<const TensorInfo*> order;
  for (const auto& t : out.tensors_) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->offset < b->offset || (a->offset == b->offset && a->nbytes < b->nbytes);
  });
  uint64_t pos = 0;
  for (const TensorInfo* t : order) {
    uint64_t begin = t->offset - base;
    if (begin != pos) return err(path, ": tensor ", t->name, ": data_offsets begin at ", std::to_string(begin), ", expected ", std::to_string(pos), " (offsets must be contiguous, without gaps or overlaps)");
    pos = begin + t->nbytes;
  }
  if (pos != data_len) return err(path, ": ", std::to_string(data_len - pos), " bytes after the last tensor's data (file and header disagree)");
  return out;
}

const TensorInfo* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

Result<TensorStore> TensorStore::from_files(std::vector<SafetensorsFile> files) {
  TensorStore s;
  s.files_ = std::move(files);
  for (const auto& f : s.files_) {
    for (const auto& t : f.tensors()) {
      auto [it, fresh] = s.by_name_.emplace(t.name, &t);
      if (!fresh) return err(f.path(), ": tensor ", t.name, " also appears in ", it->second->file);
    }
  }
  return s;
}

Result<TensorStore> TensorStore::open_dir(const std::string& dir) {
  std::string index_path = dir + "/model.safetensors.index.json";
  std::vector<SafetensorsFile> files;
  if (FILE* f = std::fopen(index_path.c_str(), "rb")) {
    std::fclose(f);
    HEARTH_ASSIGN(Json idx, read_json_file(index_path));
    const Json* wm = idx.find("weight_map");
    if (!wm || !wm->is_object()) return err(index_path, ": missing \"weight_map\" object");
    std::vector<std::string> shards;
    for (const auto& [name, file] : wm->as_object()) {
      if (!file.is_string()) return err(index_path, ": weight_map.", name, " is not a file name");
      const std::string& fn = file.as_string();
      if (fn.find('/') != std::string::npos || fn.find("..") != std::string::npos) return err(index_path, ": weight_map.", name, ": shard name \"", fn, "\" must be a plain file name");
      if (std::find(shards.begin(), shards.end(), fn) == shards.end()) shards.push_back(fn);
    }
    for (const auto& fn : shards) {
      HEARTH_ASSIGN(auto sf, SafetensorsFile::open(dir + "/" + fn));
      files.push_back(std::move(sf));
    }
    HEARTH_ASSIGN(TensorStore store, from_files(std::move(files)));
    for (const auto& [name, file] : wm->as_object()) {
      const TensorInfo* t = store.find(name);
      if (!t) return err(index_path, ": tensor ", name, " is listed for ", file.as_string(), " but that file does not hold it");
      if (t->file != dir + "/" + file.as_string())
        return err(index_path, ": tensor ", name, " is listed for ", file.as_string(), " but that file does not hold it (",
                   t->file, " does)");
    }
    return store;
  }
  HEARTH_ASSIGN(auto sf, SafetensorsFile::open(dir + "/model.safetensors"));
  files.push_back(std::move(sf));
  return from_files(std::move(files));
}

const TensorInfo* TensorStore::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

std::vector<std::string> TensorStore::names() const {
  std::vector<std::string> v;
  for (const auto& kv : by_name_) v.push_back(kv.first);
  return v;
}

Status TensorInfo::read_bytes(size_t first, size_t n, void* dst) const {
  if (first > nbytes || n > nbytes - first) return err(file, ": tensor ", name, ": read past its data");
  return src->read(offset + first, n, dst);
}

namespace {
// Converts elements [first, first + n) of the bytes at p; `index0` is the tensor index of
// element `first` (for messages).
Status convert_resident(const TensorInfo& t, const uint8_t* p, size_t first, size_t n, float* out, size_t index0);
}  // namespace

Status convert_to_f32(const TensorInfo& t, size_t first, size_t n, float* out) {
  if (t.data) return convert_resident(t, t.data, first, n, out, first);
  // Read in ranges of up to 4M elements, converting each.
  const size_t es = dtype_size(t.dtype);
  std::vector<uint8_t> buf;
  for (size_t done = 0; done < n;) {
    const size_t m = std::min<size_t>(n - done, size_t(4) << 20);
    buf.resize(m * es);
    HEARTH_CHECK(t.read_bytes((first + done) * es, m * es, buf.data()));
    HEARTH_CHECK(convert_resident(t, buf.data(), 0, m, out + done, first + done));
    done += m;
  }
  return {};
}

namespace {

// Non-finite weights make every later result NaN: the load fails here, naming the tensor.
Error non_finite(const TensorInfo& t, size_t index, float value) {
  return err(t.file, ": tensor ", t.name, ": element ", index, " is ", std::isnan(value) ? "NaN" : "infinite",
             " (non-finite weights: a corrupt file, or one saved from a diverged run)");
}

// Converts n elements of the bytes at p (a float dtype) to f32 and tells whether any came out
// NaN or infinite: a max over the |x| bit patterns in the same loop (no branch, so the loops
// still vectorize; measured at no cost beside the conversion).
bool convert_block(DType dtype, const uint8_t* p, size_t n, float* out) {
  uint32_t mx = 0;
  const auto note = [&mx](float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    mx = std::max(mx, u & 0x7fffffffu);
  };
  switch (dtype) {
    case DType::F32:
      for (size_t i = 0; i < n; ++i) {
        std::memcpy(out + i, p + i * 4, 4);
        note(out[i]);
      }
      break;
    case DType::BF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        out[i] = bf16_to_f32(h);
        note(out[i]);
      }
      break;
    case DType::F16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t h;
        std::memcpy(&h, p + i * 2, 2);
        out[i] = f16_to_f32(h);
        note(out[i]);
      }
      break;
    default:  // F64
      for (size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + i * 8, 8);
        out[i] = float(d);
        note(out[i]);
      }
      break;
  }
  return mx >= 0x7f800000u;
}

// Blocks of 4096 elements, each converted and checked; only a block that holds a non-finite
// value is searched element by element.
Status convert_resident(const TensorInfo& t, const uint8_t* p, size_t first, size_t n, float* out, size_t index0) {
  if (t.dtype != DType::F32 && t.dtype != DType::BF16 && t.dtype != DType::F16 && t.dtype != DType::F64)
    return err(t.file, ": tensor ", t.name, ": dtype ", dtype_name(t.dtype), " is not a floating-point type (expected F32, F16 or BF16)");
  const size_t es = dtype_size(t.dtype);
  constexpr size_t kBlock = 4096;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t m = std::min(kBlock, n - b);
    if (!convert_block(t.dtype, p + (first + b) * es, m, out + b)) continue;
    const size_t bad = first_non_finite(out + b, m);
    const size_t index = index0 + b + bad;
    if (t.dtype == DType::F64) {
      double d;
      std::memcpy(&d, p + (first + b + bad) * 8, 8);
      if (std::isfinite(d)) return err(t.file, ": tensor ", t.name, ": element ", index, " (", d, ") overflows f32");
    }
    return non_finite(t, index, out[b + bad]);
  }
  return {};
}

}  // namespace

Result<std::vector<float>> TensorStore::load_f32(const std::string& name, std::span<const int64_t> expect) const {
  const TensorInfo* t = find(name);
  if (!t) return err("tensor ", name, ": missing from the checkpoint");
  bool same = t->shape.size() == expect.size() && std::equal(expect.begin(), expect.end(), t->shape.begin());
  if (!same) {
    TensorInfo e;
    e.shape.assign(expect.begin(), expect.end());
    return err(t->file, ": tensor ", name, ": expected shape ", e.shape_str(), ", file has ", t->shape_str());
  }
  std::vector<float> v(size_t(t->numel()));
  HEARTH_CHECK(convert_to_f32(*t, 0, v.size(), v.data()));
  return v;
}

namespace {

// The 8-byte length and the JSON header for tensors laid out back to back.
std::vector<uint8_t> safetensors_header(const std::vector<TensorToWrite>& tensors) {
  std::string h = "{";
  uint64_t off = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    if (i) h += ",";
    h += "\"" + t.name + "\":{\"dtype\":\"" + dtype_name(t.dtype) + "\",\"shape\":[";
    for (size_t d = 0; d < t.shape.size(); ++d) h += (d ? "," : "") + std::to_string(t.shape[d]);
    uint64_t nbytes = dtype_size(t.dtype);
    for (int64_t d : t.shape) nbytes *= uint64_t(d);
    h += "],\"data_offsets\":[" + std::to_string(off) + "," + std::to_string(off + nbytes) + "]}";
    off += nbytes;
  }
  h += "}";
  while ((h.size() + 8) % 8) h += ' ';
  std::vector<uint8_t> out(8 + h.size());
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i) out[i] = uint8_t(n >> (8 * i));
  std::memcpy(out.data() + 8, h.data(), h.size());
  return out;
}

}  // namespace

std::vector<uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors) {
  std::vector<uint8_t> out = safetensors_header(tensors);
  for (const auto& t : tensors) out.insert(out.end(), t.bytes.begin(), t.bytes.end());
  return out;
}

Status write_safetensors_generated(const std::string& path, const std::vector<TensorToWrite>& metas,
                                   const std::function<void(size_t, std::vector<uint8_t>&)>& generate) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return err(path, ": cannot create file");
  std::vector<uint8_t> buf = safetensors_header(metas);
  bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  for (size_t i = 0; i < metas.size() && ok; ++i) {
    uint64_t nbytes = dtype_size(metas[i].dtype);
    for (int64_t d : metas[i].shape) nbytes *= uint64_t(d);
    buf.assign(size_t(nbytes), 0);
    generate(i, buf);
    ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return err(path, ": write failed (disk full?)");
  return {};
}

Status write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return err(path, ": cannot create file");
  std::vector<uint8_t> head = safetensors_header(tensors);
  bool ok = std::fwrite(head.data(), 1, head.size(), f) == head.size();
  for (const auto& t : tensors) {
    if (ok && !t.bytes.empty()) ok = std::fwrite(t.bytes.data(), 1, t.bytes.size(), f) == t.bytes.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) return err(path, ": write failed (disk full?)");
  return {};
}

}  // namespace hearth
