// The host memory the process can still allocate (see host_memory.cpp); nullopt if unknown.
#pragma once
#include <cstdint>
#include <optional>

namespace hearth {

std::optional<uint64_t> host_memory_available();

}  // namespace hearth
