// The warning handler (see warning.h): one process-wide handler behind a mutex.
#include "core/warning.h"

#include <cstdio>
#include <mutex>

namespace hearth {

namespace {
std::mutex g_mutex;
WarningHandler g_handler;
}  // namespace

void warn(const std::string& message) {
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_handler) {
    g_handler(message);
  } else {
    std::fprintf(stderr, "hearth: warning: %s\n", message.c_str());
  }
}

WarningHandler set_warning_handler(WarningHandler handler) {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::swap(g_handler, handler);
  return handler;
}

}  // namespace hearth
