// Packed models: the source fingerprint, writing a loaded model's weights and files into a pack,
// and the pack as a TensorSource (every matrix in the format it was packed in, hash checked).
#include "model/packed_model.h"

#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "formats/config.h"
#include "formats/packed.h"
#include "model/hf_layout.h"
#include "model/model.h"

namespace hearth {

namespace {

bool ends_with(const std::string& s, const char* tail) {
  const size_t n = std::strlen(tail);
  return s.size() >= n && s.compare(s.size() - n, n, tail) == 0;
}

// The regular files of a folder that make up a model, sorted.
std::vector<std::string> model_files(const std::string& dir) {
  std::vector<std::string> names;
  if (DIR* d = opendir(dir.c_str())) {
    while (dirent* e = readdir(d)) {
      const std::string n = e->d_name;
      struct stat st;
      if (n.empty() || n[0] == '.' || stat((dir + "/" + n).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (ends_with(n, ".json") || ends_with(n, ".safetensors") || ends_with(n, ".txt") || ends_with(n, ".model") ||
          ends_with(n, ".jinja"))
        names.push_back(n);
    }
    closedir(d);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The files a pack carries along from the source folder.
constexpr const char* kCarriedFiles[] = {"config.json", "generation_config.json", "tokenizer.json",
                                         "tokenizer_config.json", "special_tokens_map.json", "chat_template.jinja"};

// The parts of a matrix in `format` [rows, cols], sized (resize) and as bytes.
struct Part {
  const char* name;
  void* data;
  size_t bytes;
};
template <class V>
Part part(const char* name, V& v, size_t n, bool resize) {
  if (resize) v.resize(n);
  return Part{name, v.data(), v.size() * sizeof(v[0])};
}
std::vector<Part> parts(QMatrix& q, bool resize) {
  const size_t n = size_t(q.rows * q.cols), rows = size_t(q.rows), blocks = size_t(q.rows * q.blocks_per_row());
  switch (q.format) {
    case WeightFormat::F32: return {part("f32", q.f32, n, resize)};
    case WeightFormat::F16: return {part("f16", q.f16, n, resize)};
    case WeightFormat::Int8: return {part("q8", q.q8, n, resize), part("scale", q.scale, rows, resize)};
    case WeightFormat::Int4: {
      const size_t g = rows * size_t(q.groups());
      return {part("q4", q.q4, rows * size_t(q.words_per_row()), resize), part("scale", q.scale, g, resize),
              part("minv", q.minv, g, resize)};
    }
    case WeightFormat::Q8_0: return {part("q8", q.q8, n, resize), part("d16", q.d16, blocks, resize)};
    case WeightFormat::Q4_0: return {part("nib", q.nib, n / 2, resize), part("d16", q.d16, blocks, resize)};
  }
  return {};
}

std::optional<WeightFormat> format_from_name(const std::string& s) {
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4,
                         WeightFormat::Q8_0, WeightFormat::Q4_0})
    if (s == weight_format_name(f)) return f;
  return std::nullopt;
}

Json num(int64_t v) { return Json::number(double(v), true); }

int64_t int_member(const Json& j, const char* key) {
  const Json* v = j.find(key);
  return v && v->is_integer() ? v->as_int() : -1;
}

class PackedSource final : public TensorSource {
 public:
  explicit PackedSource(PackedFile f) : file_(std::move(f)) { tensors_ = file_.header().find("tensors"); }

  std::optional<std::vector<int64_t>> shape(const std::string& name) const override {
    const Json* t = tensors_ ? tensors_->find(name) : nullptr;
    if (!t) return std::nullopt;
    std::vector<int64_t> dims;
    if (const Json* s = t->find("shape"))
      for (const Json& d : s->as_array()) dims.push_back(d.is_integer() ? d.as_int() : -1);
    return dims;
  }

  Result<std::vector<float>> load_f32(const std::string& name, std::span<const int64_t> expect) const override {
    int64_t n = 1;
    for (int64_t d : expect) n *= d;
    HEARTH_ASSIGN(QMatrix q, read(name, 1, n));
    if (q.format != WeightFormat::F32) return err(file_.path(), ": tensor ", name, ": stored as ", weight_format_name(q.format), ", expected f32");
    return std::move(q.f32);
  }

  Result<QMatrix> load_matrix(const std::string& name, int64_t rows, int64_t cols, WeightFormat, bool, ThreadPool*,
                              bool) const override {
    return read(name, rows, cols);  // a pack loads in the formats it holds
  }

  std::string where() const override { return file_.path(); }

 private:
  Result<QMatrix> read(const std::string& name, int64_t rows, int64_t cols) const {
    const std::string what = file_.path() + ": tensor " + name;
    const Json* t = tensors_ ? tensors_->find(name) : nullptr;
    if (!t) return err(what, ": missing from the pack");
    if (int_member(*t, "rows") != rows || int_member(*t, "cols") != cols)
      return err(what, ": packed as [", int_member(*t, "rows"), ", ", int_member(*t, "cols"), "], expected [", rows, ", ",
                 cols, "]");
    const Json* fj = t->find("format");
    const auto f = fj && fj->is_string() ? format_from_name(fj->as_string()) : std::nullopt;
    if (!f) return err(what, ": unknown format");
    QMatrix q;
    q.format = *f;
    q.rows = rows;
    q.cols = cols;
    const Json* pj = t->find("parts");
    uint64_t h = 0;
    for (const Part& p : parts(q, true)) {
      const Json* where = pj ? pj->find(p.name) : nullptr;
      if (!where) return err(what, ": part ", p.name, " missing");
      HEARTH_CHECK(file_.read_blob(*where, p.data, p.bytes, name + " " + p.name));
      h = hash64(p.data, p.bytes, h);
    }
    const Json* hj = t->find("hash");
    if (!hj || !hj->is_string() || hj->as_string() != hex64(h)) return err(what, ": hash mismatch (the pack is damaged)");
    return q;
  }

  PackedFile file_;
  const Json* tensors_ = nullptr;
};

}  // namespace

Result<std::string> source_fingerprint(const std::string& dir) {
  const std::vector<std::string> names = model_files(dir);
  if (names.empty()) return err(dir, ": no model files to fingerprint");
  uint64_t h = 0;
  std::vector<uint8_t> buf;
  auto take = [&](const MappedFile& f, uint64_t off, uint64_t n) -> Status {
    n = std::min(n, f.size() - std::min(off, f.size()));
    buf.resize(size_t(n));
    HEARTH_CHECK(f.read(off, size_t(n), buf.data()));
    h = hash64(buf.data(), buf.size(), h);
    return {};
  };
  for (const std::string& n : names) {
    HEARTH_ASSIGN(auto f, MappedFile::open(dir + "/" + n, /*force_ranges=*/true));
    const uint64_t size = f->size();
    h = hash64(n.data(), n.size(), h);
    h = hash64(&size, 8, h);
    uint64_t head = 64 << 10;
    if (ends_with(n, ".safetensors") && size >= 8) {
      uint64_t header = 0;
      HEARTH_CHECK(f->read(0, 8, &header));
      head = std::max(head, 8 + std::min<uint64_t>(header, uint64_t(100) << 20));
    }
    HEARTH_CHECK(take(*f, 0, head));
    for (uint64_t i = 1; i <= 16 && size > head; ++i) HEARTH_CHECK(take(*f, size / 17 * i, 4096));
    if (size > head) HEARTH_CHECK(take(*f, size - std::min<uint64_t>(size, 64 << 10), 64 << 10));
  }
  return hex64(h);
}

Status save_packed(Model& m, const std::string& source, const std::string& out) {
  const ModelConfig& c = m.config();
  Backend& be = m.backend();
  HEARTH_ASSIGN(std::string fingerprint, source_fingerprint(source));
  const std::string partial = out + ".partial";
  HEARTH_ASSIGN(PackedWriter w, PackedWriter::create(partial));
  Json::Object files;
  for (const char* name : kCarriedFiles) {
    struct stat st;
    if (stat((source + "/" + name).c_str(), &st) != 0) continue;
    HEARTH_ASSIGN(auto file, MappedFile::open(source + "/" + name, true));
    std::string text(size_t(file->size()), '\0');
    HEARTH_CHECK(file->read(0, text.size(), text.data()));
    HEARTH_ASSIGN(Json where, w.blob(text.data(), text.size()));
    Json::Object o = where.as_object();
    o.emplace_back("hash", Json::string(hex64(hash64(text.data(), text.size()))));
    files.emplace_back(name, Json::object(std::move(o)));
  }
  const Model::FrozenWeights fw = m.frozen_weights();
  Json::Object tensors;
  for (const HfTensor& t : hf_tensors(c)) {
    QMatrix q;
    if (t.matrix()) {
      const WeightId id = t.role == TensorRole::Embed    ? fw.embed
                          : t.role == TensorRole::LmHead ? fw.lm_head
                                                         : fw.layers[size_t(t.layer)].weight[int(t.proj)];
      HEARTH_ASSIGN(q, be.download(id));
    } else {
      const Model::FrozenLayer* L = t.layer >= 0 ? &fw.layers[size_t(t.layer)] : nullptr;
      const Buf b = t.role == TensorRole::FinalNorm ? fw.final_norm
                    : t.role == TensorRole::AttnNorm ? L->attn_norm
                    : t.role == TensorRole::MlpNorm  ? L->mlp_norm
                    : t.role == TensorRole::QNorm    ? L->q_norm
                    : t.role == TensorRole::KNorm    ? L->k_norm
                                                     : L->bias[int(t.proj)];
      q.rows = 1;
      q.cols = t.shape[0];
      q.f32.resize(size_t(q.cols));
      be.read(b, q.f32);
      HEARTH_CHECK(be.status());
    }
    Json::Object ps;
    uint64_t h = 0;
    for (const Part& p : parts(q, false)) {
      HEARTH_ASSIGN(Json where, w.blob(p.data, p.bytes));
      ps.emplace_back(p.name, std::move(where));
      h = hash64(p.data, p.bytes, h);
    }
    Json::Array shape;
    for (int64_t d : t.shape) shape.push_back(num(d));
    tensors.emplace_back(t.name, Json::object({{"format", Json::string(weight_format_name(q.format))},
                                               {"shape", Json::array(std::move(shape))},
                                               {"rows", num(q.rows)},
                                               {"cols", num(q.cols)},
                                               {"parts", Json::object(std::move(ps))},
                                               {"hash", Json::string(hex64(h))}}));
  }
  const Json producer = Json::object({{"dtype", Json::string(model_dtype_name(m.options().dtype))},
                                      {"quant_search", Json::boolean(m.options().quant_search)},
                                      {"backend", Json::string(be.name())},
                                      {"tier", Json::string(be.tier())}});
  const Json header = Json::object({{"format_version", num(kPackedVersion)},
                                    {"producer", producer},
                                    {"source", Json::object({{"fingerprint", Json::string(fingerprint)}})},
                                    {"files", Json::object(std::move(files))},
                                    {"tensors", Json::object(std::move(tensors))}});
  HEARTH_CHECK(w.finish(header));
  if (std::rename(partial.c_str(), out.c_str()) != 0) return err(out, ": cannot rename ", partial, " into place");
  return {};
}

Result<Checkpoint> open_packed_checkpoint(const std::string& path) {
  HEARTH_ASSIGN(PackedFile f, PackedFile::open(path));
  HEARTH_ASSIGN(std::optional<std::string> text, f.file_text("config.json"));
  if (!text) return err(path, ": the pack holds no config.json");
  HEARTH_ASSIGN(Json j, parse_json(*text, path + " (config.json)"));
  Checkpoint c;
  HEARTH_ASSIGN(c.config, parse_model_config(j, path + " (config.json)"));
  c.tensors = std::make_unique<PackedSource>(std::move(f));
  return c;
}

Result<Json> packed_header(const std::string& path) {
  HEARTH_ASSIGN(PackedFile f, PackedFile::open(path));
  Json::Object o;
  for (const char* k : {"producer", "source"})
    if (const Json* v = f.header().find(k)) o.emplace_back(k, *v);
  return Json::object(std::move(o));
}

}  // namespace hearth
