// A model folder (or .gguf file) as the front ends (cli/, web/cpp/) open it: the engine on the
// chosen backend and the tokenizer, when the folder has tokenizer.json (a GGUF file: its
// tokenizer metadata).
#pragma once
#include <memory>
#include <string>

#include "core/error.h"
#include "engine/engine.h"
#include "ops/backend.h"
#include "tokenizer/tokenizer.h"

namespace hearth {

struct ModelFolder {
  std::string dir;
  std::unique_ptr<Engine> engine;
  Tokenizer tokenizer;  // loaded() is false when the folder has no tokenizer.json (GGUF: no tokenizer metadata)
  std::string pack;     // the pack cache entry, when loaded through the cache
  bool pack_hit = false;  // loaded from that entry
  std::string note;     // the cache's note (an entry replaced, or not written)

  // Token ids of `text`; an error naming the folder when it has no tokenizer.
  Result<std::vector<int32_t>> encode(const std::string& text) const;
};

// Loads `dir` (a folder, .gguf file or pack) onto the backend `backend` names (make_backend),
// with the tokenizer; through the pack cache in `cache_dir` when given (engine/pack_cache.h).
Result<std::unique_ptr<ModelFolder>> open_model_folder(const std::string& dir, const LoadOptions& load,
                                                       const BackendOptions& backend, const std::string& cache_dir = "");

}  // namespace hearth
