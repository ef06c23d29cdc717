// Warnings: input that is accepted (as Hugging Face accepts it) but that a user should hear
// about, e.g. a LoRA adapter whose lora_alpha is 0. They go to a handler the front end chooses;
// by default one line "hearth: warning: <message>" on stderr.
#pragma once
#include <functional>
#include <string>

#include "core/error.h"

namespace hearth {

using WarningHandler = std::function<void(const std::string& message)>;

// Reports a warning to the current handler.
void warn(const std::string& message);
// Builds the message from pieces, as err() does.
template <class... A>
void warn_of(const A&... parts) {
  warn(err(parts...).message);
}
// Replaces the handler (nullptr restores the default) and returns the previous one.
WarningHandler set_warning_handler(WarningHandler handler);

}  // namespace hearth
