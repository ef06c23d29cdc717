// Fuzz target: a safetensors file (header, offsets, dtypes, shapes including zero-element ones)
// and the conversion of its float tensors to f32, resident and read in ranges.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/warning.h"
#include "formats/safetensors.h"

// Warnings (accepted oddities such as duplicate vocabulary ids) are not findings: keep them quiet.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
  hearth::set_warning_handler([](const std::string&) {});
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto file = hearth::MappedFile::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz.safetensors");
  auto st = hearth::SafetensorsFile::parse(file);
  if (!st.ok()) return 0;
  std::vector<float> out;
  std::vector<uint8_t> raw;
  for (const hearth::TensorInfo& t : st->tensors()) {
    (void)t.shape_str();
    const int64_t n = t.numel();
    if (n > (int64_t(1) << 20)) continue;  // the data is in the input, so this is rare
    out.resize(size_t(n));
    (void)hearth::convert_to_f32(t, 0, size_t(n), out.data());
    if (n > 1) (void)hearth::convert_to_f32(t, size_t(n) / 2, size_t(n) - size_t(n) / 2, out.data());
    raw.resize(t.nbytes);
    (void)t.read_bytes(0, t.nbytes, raw.data());
    (void)t.read_bytes(t.nbytes, 1, raw.data());  // past the end: an error, not a read
  }
  return 0;
}
