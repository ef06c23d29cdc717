// The packed-weights container: hash64, reading (header from the trailer, blobs checked against
// the file's size) and writing.
#include "formats/packed.h"

#include <cstring>

#include "formats/json_write.h"

namespace hearth {

namespace {

constexpr char kMagic[8] = {'H', 'R', 'T', 'H', 'P', 'A', 'C', 'K'};
constexpr uint64_t kTrailerBytes = 24;
constexpr uint64_t kAlign = 64;
constexpr uint64_t kMaxHeaderBytes = uint64_t(256) << 20;

constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full, kP3 = 0x165667B19E3779F9ull;

inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t mix(uint64_t acc, uint64_t v) { return rotl(acc + v * kP2, 31) * kP1; }

uint64_t get_u64(const uint8_t* p) { return load64(p); }
void put_u64(uint8_t* p, uint64_t v) { std::memcpy(p, &v, 8); }

}  // namespace

uint64_t hash64(const void* data, size_t n, uint64_t seed) {
  const auto* p = static_cast<const uint8_t*>(data);
  uint64_t a = seed + kP1 + kP2, b = seed + kP2, c = seed, d = seed - kP1;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a = mix(a, load64(p + i));
    b = mix(b, load64(p + i + 8));
    c = mix(c, load64(p + i + 16));
    d = mix(d, load64(p + i + 24));
  }
  uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18) + uint64_t(n);
  for (; i + 8 <= n; i += 8) h = rotl(h ^ mix(0, load64(p + i)), 27) * kP1 + kP3;
  for (; i < n; ++i) h = rotl(h ^ (uint64_t(p[i]) * kP1), 11) * kP2;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

std::string hex64(uint64_t v) {
  static const char* digits = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) s[size_t(i)] = digits[v & 15];
  return s;
}

bool is_packed_file(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  char head[8] = {};
  const bool yes = std::fread(head, 1, 8, f) == 8 && std::memcmp(head, kMagic, 8) == 0;
  std::fclose(f);
  return yes;
}

Result<PackedFile> PackedFile::open(const std::string& path) {
  PackedFile p;
  HEARTH_ASSIGN(p.file_, MappedFile::open(path, /*force_ranges=*/true));
  const uint64_t size = p.file_->size();
  uint8_t head[16], tail[kTrailerBytes];
  if (size < 16 + kTrailerBytes) return err(path, ": too short for a packed weights file (", size, " bytes)");
  HEARTH_CHECK(p.file_->read(0, 16, head));
  HEARTH_CHECK(p.file_->read(size - kTrailerBytes, kTrailerBytes, tail));
  if (std::memcmp(head, kMagic, 8) != 0) return err(path, ": not a packed weights file (no HRTHPACK magic)");
  uint32_t version;
  std::memcpy(&version, head + 8, 4);
  if (version != kPackedVersion)
    return err(path, ": packed format version ", version, "; this build reads version ", kPackedVersion,
               " (pack the model again)");
  if (std::memcmp(tail + 16, kMagic, 8) != 0) return err(path, ": truncated (no trailer): the file was not written completely");
  const uint64_t off = get_u64(tail), bytes = get_u64(tail + 8);
  if (bytes > kMaxHeaderBytes || off < 16 || off > size - kTrailerBytes || bytes != size - kTrailerBytes - off)
    return err(path, ": header place ", off, "+", bytes, " does not fit the file of ", size, " bytes");
  std::string text(size_t(bytes), '\0');
  HEARTH_CHECK(p.file_->read(off, size_t(bytes), text.data()));
  HEARTH_ASSIGN(p.header_, parse_json(text, path + " (header)"));
  if (!p.header_.is_object()) return err(path, ": header is not a JSON object");
  const Json* v = p.header_.find("format_version");
  if (!v || !v->is_integer() || v->as_int() != int64_t(kPackedVersion))
    return err(path, ": header format_version is not ", kPackedVersion);
  return p;
}

Status PackedFile::read_blob(const Json& where, void* dst, size_t bytes, const std::string& what) const {
  const Json* off = where.find("offset");
  const Json* n = where.find("bytes");
  if (!off || !n || !off->is_integer() || !n->is_integer() || off->as_double() < 0 || n->as_double() < 0)
    return err(path(), ": ", what, ": blob without an integer offset and bytes");
  const uint64_t o = uint64_t(off->as_int()), b = uint64_t(n->as_int());
  if (b != bytes) return err(path(), ": ", what, ": ", b, " bytes stored, ", bytes, " expected");
  if (o > file_->size() || b > file_->size() - o) return err(path(), ": ", what, ": blob past the end of the file");
  return file_->read(o, size_t(b), dst);
}

Result<std::optional<std::string>> PackedFile::file_text(const std::string& name) const {
  const Json* files = header_.find("files");
  const Json* f = files ? files->find(name) : nullptr;
  if (!f) return std::optional<std::string>();
  const Json* n = f->find("bytes");
  if (!n || !n->is_integer() || n->as_double() < 0 || n->as_double() > double(kMaxHeaderBytes))
    return err(path(), ": file ", name, ": bad size");
  std::string text(size_t(n->as_int()), '\0');
  HEARTH_CHECK(read_blob(*f, text.data(), text.size(), name));
  const Json* h = f->find("hash");
  if (!h || !h->is_string() || h->as_string() != hex64(hash64(text.data(), text.size())))
    return err(path(), ": file ", name, ": hash mismatch (the pack is damaged)");
  return std::optional<std::string>(std::move(text));
}

Result<PackedWriter> PackedWriter::create(const std::string& path) {
  PackedWriter w;
  w.path_ = path;
  w.f_ = std::fopen(path.c_str(), "wb");
  if (!w.f_) return err(path, ": cannot create (", std::strerror(errno), ")");
  uint8_t head[16] = {};
  std::memcpy(head, kMagic, 8);
  std::memcpy(head + 8, &kPackedVersion, 4);
  if (std::fwrite(head, 1, 16, w.f_) != 16) return err(path, ": write failed");
  w.pos_ = 16;
  return w;
}

PackedWriter::PackedWriter(PackedWriter&& o) noexcept : f_(o.f_), path_(std::move(o.path_)), pos_(o.pos_) { o.f_ = nullptr; }

PackedWriter::~PackedWriter() {
  if (f_) std::fclose(f_);
}

Result<Json> PackedWriter::blob(const void* data, size_t n) {
  static const uint8_t zeros[kAlign] = {};
  const uint64_t pad = (kAlign - pos_ % kAlign) % kAlign;
  if (pad && std::fwrite(zeros, 1, size_t(pad), f_) != pad) return err(path_, ": write failed (disk full?)");
  pos_ += pad;
  if (n && std::fwrite(data, 1, n, f_) != n) return err(path_, ": write failed (disk full?)");
  Json where = Json::object({{"offset", Json::number(double(pos_), true)}, {"bytes", Json::number(double(n), true)}});
  pos_ += n;
  return where;
}

Status PackedWriter::finish(const Json& header) {
  const std::string text = json_text(header, 0);
  uint8_t tail[kTrailerBytes];
  put_u64(tail, pos_);
  put_u64(tail + 8, text.size());
  std::memcpy(tail + 16, kMagic, 8);
  const bool ok = std::fwrite(text.data(), 1, text.size(), f_) == text.size() &&
                  std::fwrite(tail, 1, kTrailerBytes, f_) == kTrailerBytes;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || !closed) return err(path_, ": write failed (disk full?)");
  return {};
}

}  // namespace hearth
