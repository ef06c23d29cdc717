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
#include "model/packed_parts.h"

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

Json num(int64_t v) { return Json::number(double(v), true); }

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
    for (const PackedPart& p : packed_parts(q, false)) {
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

}  // namespace hearth
