// Opening a model folder (see model_folder.h).
#include "engine/model_folder.h"

#include <cstdio>

#include "engine/pack_cache.h"

namespace hearth {

Result<std::vector<int32_t>> ModelFolder::encode(const std::string& text) const {
  if (!tokenizer.loaded()) return err(dir, ": no tokenizer.json, so text cannot be encoded (give token ids)");
  return tokenizer.encode(text);
}

Result<std::unique_ptr<ModelFolder>> open_model_folder(const std::string& dir, const LoadOptions& load,
                                                       const BackendOptions& backend, const std::string& cache_dir) {
  auto m = std::make_unique<ModelFolder>();
  m->dir = dir;
  if (cache_dir.empty()) {
    HEARTH_ASSIGN(auto be, make_backend(backend));
    HEARTH_ASSIGN(m->engine, Engine::load(dir, load, std::move(be)));
  } else {
    HEARTH_ASSIGN(CachedLoad c, load_through_cache(dir, load, [&backend] { return make_backend(backend); }, cache_dir));
    m->engine = std::move(c.engine);
    m->pack = c.pack;
    m->pack_hit = c.hit;
    m->note = c.note;
  }
  HEARTH_CHECK(m->engine->model().backend().status());
  HEARTH_ASSIGN(m->tokenizer, Tokenizer::load_for_model(dir));
  return m;
}

}  // namespace hearth
