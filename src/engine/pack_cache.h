// A cache of packed weights (model/packed_model.h) in a folder: loading a checkpoint folder
// through it loads the pack made from the same source files, dtype and quantizer settings when
// there is one (no conversion, no quantization), else loads the folder and writes that pack.
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "engine/engine.h"

namespace hearth {

using BackendFactory = std::function<Result<std::unique_ptr<Backend>>()>;

// The pack `dir` loaded with `opt` would be cached as: cache_dir/<fingerprint>-<dtype>[-nosearch].hpk.
Result<std::string> pack_cache_path(const std::string& dir, const LoadOptions& opt, const std::string& cache_dir);

struct CachedLoad {
  std::unique_ptr<Engine> engine;
  std::string pack;      // the cache entry
  bool hit = false;      // loaded from it
  std::string note;      // what happened when a damaged or stale entry was replaced, or writing failed
};

// Loads `dir` through the cache (a folder that must exist). A pack that fails to load (damaged,
// older format) is replaced; failing to write one is reported in `note`, not an error: the
// engine loaded anyway. Inputs that are not folders (a .gguf or a pack) load directly.
Result<CachedLoad> load_through_cache(const std::string& dir, const LoadOptions& opt, const BackendFactory& backend,
                                      const std::string& cache_dir);

}  // namespace hearth
