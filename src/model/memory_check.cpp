// The memory check of a model load (see memory_estimate.h), apart from the estimate so that code
// which only estimates (the fuzz targets) does not link the backends.
#include "model/memory_estimate.h"

namespace hearth {

Status check_memory(const MemoryEstimate& need, const Backend& backend, const std::string& what) {
  const std::optional<uint64_t> room = backend.memory_limit();
  if (!room || need.total() <= double(*room)) return {};
  return err(what, ": loading needs about ", need.describe(), " but ", backend.name(), " has ",
             format_bytes(double(*room)), " available: a shorter context (max_ctx: the KV cache grows with it) or a smaller "
             "weight format (dtype) needs less");
}

}  // namespace hearth
