// Helpers shared by the tests: fixture paths and reference files.
#pragma once
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "formats/json.h"
#include "formats/safetensors.h"

namespace hearth::test {

inline std::string fixture(const std::string& rel) { return std::string(HEARTH_FIXTURES) + "/" + rel; }
inline std::string source(const std::string& rel) { return std::string(HEARTH_SOURCE_DIR) + "/" + rel; }

inline std::vector<int32_t> ids_of(const Json& arr) {
  std::vector<int32_t> v;
  for (const auto& e : arr.as_array()) v.push_back(int32_t(e.as_int()));
  return v;
}

inline int32_t argmax(const std::vector<float>& v) {
  return int32_t(std::max_element(v.begin(), v.end()) - v.begin());
}

inline float max_abs_diff(const float* a, const float* b, size_t n) {
  float m = 0;
  for (size_t i = 0; i < n; ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

// A scratch directory under the build tree.
inline std::string temp_dir(const std::string& name) {
  std::string d = std::string("/tmp/hearth_test_") + name;
  ::mkdir(d.c_str(), 0755);  // may exist already
  return d;
}

}  // namespace hearth::test
