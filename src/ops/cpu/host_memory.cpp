// How much host memory the process can still allocate: natively the system's available memory
// (MemAvailable, capped by a cgroup memory limit where one applies), in wasm the room left in the
// heap up to its maximum (4 GiB for wasm32).
#include "ops/cpu/host_memory.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#if defined(__EMSCRIPTEN__)
#include <emscripten/heap.h>
#include <malloc.h>
#include <unistd.h>
#else
#include <sys/sysinfo.h>
#endif

namespace hearth {

namespace {

#if !defined(__EMSCRIPTEN__)
// The first number on the line of /proc/meminfo that starts with `key` (in kB).
std::optional<uint64_t> meminfo_kb(const char* key) {
  FILE* f = std::fopen("/proc/meminfo", "r");
  if (!f) return std::nullopt;
  char line[256];
  std::optional<uint64_t> v;
  const size_t n = std::strlen(key);
  while (std::fgets(line, sizeof line, f)) {
    unsigned long long kb = 0;
    if (std::strncmp(line, key, n) == 0 && std::sscanf(line + n, " %llu", &kb) == 1) {
      v = uint64_t(kb);
      break;
    }
  }
  std::fclose(f);
  return v;
}

// A single number in a file ("max" or unreadable: nullopt).
std::optional<uint64_t> file_number(const char* path) {
  FILE* f = std::fopen(path, "r");
  if (!f) return std::nullopt;
  unsigned long long v = 0;
  const bool ok = std::fscanf(f, "%llu", &v) == 1;
  std::fclose(f);
  if (!ok) return std::nullopt;
  return uint64_t(v);
}
#endif

}  // namespace

std::optional<uint64_t> host_memory_available() {
#if defined(__EMSCRIPTEN__)
  const uint64_t heap_max = emscripten_get_heap_max();
  const uint64_t top = uint64_t(reinterpret_cast<uintptr_t>(sbrk(0)));
  const uint64_t free_inside = uint64_t(mallinfo().fordblks);
  return (heap_max > top ? heap_max - top : 0) + free_inside;
#else
  std::optional<uint64_t> avail;
  if (auto kb = meminfo_kb("MemAvailable:")) {
    avail = *kb * 1024;
  } else {
    struct sysinfo si {};
    if (sysinfo(&si) == 0) avail = (uint64_t(si.freeram) + uint64_t(si.bufferram)) * si.mem_unit;
  }
  // A container's limit (cgroup v2) may be lower than what the host has.
  const auto limit = file_number("/sys/fs/cgroup/memory.max");
  const auto used = file_number("/sys/fs/cgroup/memory.current");
  if (limit && used) {
    const uint64_t room = *limit > *used ? *limit - *used : 0;
    avail = avail ? std::min(*avail, room) : room;
  }
  return avail;
#endif
}

}  // namespace hearth
