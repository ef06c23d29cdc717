// Models in the packed-weights container (formats/packed.h): save_packed writes a loaded model's
// weights as its backend holds them (read back with Backend::download, so a GPU's quantization
// lands on disk bit for bit) with the source folder's small files; a packed file then opens as a
// checkpoint like a folder or a GGUF file, and loads with no conversion or quantization.
#pragma once
#include <string>

#include "core/error.h"
#include "model/tensor_source.h"

namespace hearth {

class Model;

// A fingerprint of a checkpoint folder: its files' names and sizes and a hash of sampled bytes
// (each safetensors header whole, plus 16 spread 4 KiB samples and the last 64 KiB of each
// file). It changes when any file is replaced, resized or rewritten in the sampled places,
// without reading gigabytes. Used to name and check cached packs.
Result<std::string> source_fingerprint(const std::string& dir);

// Writes `m` (loaded from the folder `source`) to `out` (through out + ".partial", renamed when
// complete, so a reader never sees half a file).
Status save_packed(Model& m, const std::string& source, const std::string& out);

// A packed file as a checkpoint (open_checkpoint calls it for files with the packed magic).
Result<Checkpoint> open_packed_checkpoint(const std::string& path);

// The "producer" and "source" members of a pack's header (which dtype, search, backend, tier,
// source fingerprint), for checking a cached pack against what a load asks for.
Result<Json> packed_header(const std::string& path);

}  // namespace hearth
