// Opening a model folder (see model_folder.h).
#include "engine/model_folder.h"

namespace hearth {

Result<std::vector<int32_t>> ModelFolder::encode(const std::string& text) const {
  if (!tokenizer.loaded()) return err(dir, ": no tokenizer.json, so text cannot be encoded (give token ids)");
  return tokenizer.encode(text);
}

Result<std::unique_ptr<ModelFolder>> open_model_folder(const std::string& dir, const LoadOptions& load,
                                                       const BackendOptions& backend) {
  auto m = std::make_unique<ModelFolder>();
  m->dir = dir;
  HEARTH_ASSIGN(auto be, make_backend(backend));
  HEARTH_ASSIGN(m->engine, Engine::load(dir, load, std::move(be)));
  HEARTH_CHECK(m->engine->model().backend().status());
  HEARTH_ASSIGN(m->tokenizer, Tokenizer::load_for_model(dir));  // tokenizer.json, or a GGUF file's metadata
  return m;
}

}  // namespace hearth
