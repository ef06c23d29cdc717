// The pack cache: entry names, checking an entry against the load, loading or filling it.
#include "engine/pack_cache.h"

#include <sys/stat.h>

#include <cstdio>

#include "model/packed_model.h"

namespace hearth {

namespace {

bool is_dir(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}
bool exists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

// Whether the pack's header says it was made from this source with these settings.
bool entry_matches(const std::string& pack, const std::string& fingerprint, const LoadOptions& opt) {
  auto h = packed_header(pack);
  if (!h.ok()) return false;
  const Json* p = h->find("producer");
  const Json* s = h->find("source");
  const Json* dt = p ? p->find("dtype") : nullptr;
  const Json* qs = p ? p->find("quant_search") : nullptr;
  const Json* fp = s ? s->find("fingerprint") : nullptr;
  return dt && dt->is_string() && dt->as_string() == model_dtype_name(opt.dtype) && qs && qs->is_bool() &&
         qs->as_bool() == opt.quant_search && fp && fp->is_string() && fp->as_string() == fingerprint;
}

}  // namespace

Result<std::string> pack_cache_path(const std::string& dir, const LoadOptions& opt, const std::string& cache_dir) {
  HEARTH_ASSIGN(std::string fp, source_fingerprint(dir));
  const bool search_matters = opt.dtype == ModelDType::Int4;
  return cache_dir + "/" + fp + "-" + model_dtype_name(opt.dtype) + (search_matters && !opt.quant_search ? "-nosearch" : "") +
         ".hpk";
}

Result<CachedLoad> load_through_cache(const std::string& dir, const LoadOptions& opt, const BackendFactory& backend,
                                      const std::string& cache_dir) {
  CachedLoad r;
  if (!is_dir(dir)) {
    HEARTH_ASSIGN(auto be, backend());
    HEARTH_ASSIGN(r.engine, Engine::load(dir, opt, std::move(be)));
    return r;
  }
  if (!is_dir(cache_dir)) return err("cache folder ", cache_dir, ": not a folder");
  HEARTH_ASSIGN(r.pack, pack_cache_path(dir, opt, cache_dir));
  HEARTH_ASSIGN(std::string fp, source_fingerprint(dir));
  if (exists(r.pack)) {
    if (entry_matches(r.pack, fp, opt)) {
      HEARTH_ASSIGN(auto be, backend());
      auto e = Engine::load(r.pack, opt, std::move(be));
      if (e.ok()) {
        r.engine = std::move(*e);
        r.hit = true;
        return r;
      }
      r.note = "cached pack " + r.pack + " did not load (" + e.message() + "); replacing it. ";
    } else {
      r.note = "cached pack " + r.pack + " was made from other files or settings; replacing it. ";
    }
  }
  HEARTH_ASSIGN(auto be, backend());
  HEARTH_ASSIGN(r.engine, Engine::load(dir, opt, std::move(be)));
  const Status saved = save_packed(r.engine->model(), dir, r.pack);
  if (!saved.ok()) {
    std::remove((r.pack + ".partial").c_str());
    r.note += "could not write the cache entry: " + saved.message();
  }
  return r;
}

}  // namespace hearth
