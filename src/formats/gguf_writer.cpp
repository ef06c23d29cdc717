// GGUF writing: the header (magic, version 3, counts, metadata, tensor infos) padded to the
// alignment, then each tensor's bytes padded to it.
#include "formats/gguf_writer.h"

#include <cstdio>
#include <cstring>

namespace hearth {

uint64_t GgufTensorToWrite::nbytes() const {
  const auto info = ggml_type_info(uint32_t(type));
  uint64_t n = 1;
  for (int64_t d : ne) n *= uint64_t(d);
  return info ? n / uint64_t(info->block) * uint64_t(info->block_bytes) : 0;
}

namespace {

uint64_t padded(uint64_t n, uint64_t a) { return (n + a - 1) / a * a; }

class Out {
 public:
  std::vector<uint8_t> b;
  template <class T>
  void pod(T v) {
    const size_t at = b.size();
    b.resize(at + sizeof(T));
    std::memcpy(b.data() + at, &v, sizeof(T));
  }
  void str(const std::string& s) {
    pod<uint64_t>(s.size());
    b.insert(b.end(), s.begin(), s.end());
  }
  void scalar(GgufType t, const GgufValue& v, size_t i) {
    switch (t) {
      case GgufType::U8: case GgufType::Bool: pod<uint8_t>(uint8_t(v.ints[i])); break;
      case GgufType::I8: pod<int8_t>(int8_t(v.ints[i])); break;
      case GgufType::U16: pod<uint16_t>(uint16_t(v.ints[i])); break;
      case GgufType::I16: pod<int16_t>(int16_t(v.ints[i])); break;
      case GgufType::U32: pod<uint32_t>(uint32_t(v.ints[i])); break;
      case GgufType::I32: pod<int32_t>(int32_t(v.ints[i])); break;
      case GgufType::U64: case GgufType::I64: pod<int64_t>(v.ints[i]); break;
      case GgufType::F32: pod<float>(float(v.floats[i])); break;
      case GgufType::F64: pod<double>(v.floats[i]); break;
      case GgufType::String: str(v.strs[i]); break;
      case GgufType::Array: value(v.arrays[i]); break;
    }
  }
  // The value without its type tag (an array: element type, count, elements).
  void value(const GgufValue& v) {
    if (!v.is_array()) return scalar(v.type, v, 0);
    pod<uint32_t>(uint32_t(v.elem));
    pod<uint64_t>(v.size());
    for (size_t i = 0; i < v.size(); ++i) scalar(v.elem, v, i);  // a nested array: its own element type and count
  }
};

}  // namespace

std::vector<uint8_t> GgufWriter::header() const {
  Out o;
  o.b.assign({'G', 'G', 'U', 'F'});
  o.pod<uint32_t>(3);
  o.pod<uint64_t>(tensors_.size());
  o.pod<uint64_t>(kv_.size());
  for (const auto& [key, v] : kv_) {
    o.str(key);
    o.pod<uint32_t>(uint32_t(v.type));
    o.value(v);
  }
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    o.str(t.name);
    o.pod<uint32_t>(uint32_t(t.ne.size()));
    for (int64_t d : t.ne) o.pod<uint64_t>(uint64_t(d));
    o.pod<uint32_t>(uint32_t(t.type));
    o.pod<uint64_t>(offset);
    offset += padded(t.nbytes(), kAlignment);
  }
  o.b.resize(size_t(padded(o.b.size(), kAlignment)), 0);
  return o.b;
}

Status GgufWriter::write(const std::string& path, const std::function<Status(size_t, std::vector<uint8_t>&)>& fill) const {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return err(path, ": cannot create file");
  std::vector<uint8_t> buf = header();
  bool ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  Status st;
  for (size_t i = 0; i < tensors_.size() && ok && st.ok(); ++i) {
    const uint64_t n = tensors_[i].nbytes();
    buf.assign(size_t(n), 0);
    st = fill(i, buf);
    buf.resize(size_t(padded(n, kAlignment)), 0);
    if (st.ok()) ok = std::fwrite(buf.data(), 1, buf.size(), f) == buf.size();
  }
  ok = (std::fclose(f) == 0) && ok;
  if (!st.ok()) {
    std::remove(path.c_str());
    return st;
  }
  if (!ok) return err(path, ": write failed (disk full?)");
  return {};
}

std::vector<uint8_t> GgufWriter::serialize(const std::vector<std::vector<uint8_t>>& data) const {
  std::vector<uint8_t> out = header();
  for (size_t i = 0; i < tensors_.size(); ++i) {
    out.insert(out.end(), data[i].begin(), data[i].end());
    out.resize(size_t(padded(out.size(), kAlignment)), 0);
  }
  return out;
}

}  // namespace hearth
