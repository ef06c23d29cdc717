// Checkpoint-versus-config checks that warn (see checkpoint_checks.h).
#include "model/checkpoint_checks.h"

#include <cstdlib>

#include "core/warning.h"

namespace hearth {

void warn_about_unused_layers(const TensorStore& store, const ModelConfig& c, const std::string& dir) {
  const std::string prefix = "model.layers.";
  int64_t highest = -1;
  std::string example;
  for (const std::string& name : store.names()) {
    if (name.compare(0, prefix.size(), prefix) != 0) continue;
    const size_t dot = name.find('.', prefix.size());
    const std::string index = name.substr(prefix.size(), dot == std::string::npos ? std::string::npos : dot - prefix.size());
    if (index.empty() || index.size() > 9 || index.find_first_not_of("0123456789") != std::string::npos) continue;
    const int64_t layer = std::strtoll(index.c_str(), nullptr, 10);
    if (layer >= c.n_layers && layer > highest) {
      highest = layer;
      example = name;
    }
  }
  if (highest < 0) return;
  warn_of(dir, ": the checkpoint holds layers up to ", highest, " (e.g. ", example, ") but config.json has ",
          "num_hidden_layers ", c.n_layers, ": layers ", c.n_layers, "..", highest, " are not used");
}

}  // namespace hearth
