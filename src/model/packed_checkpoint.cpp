// Packs as checkpoints: each matrix read back in the format it was packed in, its hash checked,
// and the pack's config.json; the parts a matrix is stored as.
#include <optional>

#include "formats/config.h"
#include "formats/packed.h"
#include "model/packed_model.h"
#include "model/packed_parts.h"

namespace hearth {

namespace {
template <class V>
PackedPart part(const char* name, V& v, size_t n, bool resize) {
  if (resize) v.resize(n);
  return PackedPart{name, v.data(), v.size() * sizeof(v[0])};
}
}  // namespace

std::vector<PackedPart> packed_parts(QMatrix& q, bool resize) {
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


namespace {

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
    for (const PackedPart& p : packed_parts(q, true)) {
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
