// Checks of a checkpoint against its config that Hugging Face also lets pass with a warning.
#pragma once
#include <string>

#include "formats/config.h"
#include "formats/safetensors.h"

namespace hearth {

// Warns when the checkpoint holds layers that config.json's num_hidden_layers leaves out (they
// would be silently ignored). `dir` names the folder.
void warn_about_unused_layers(const TensorStore& store, const ModelConfig& c, const std::string& dir);

}  // namespace hearth
