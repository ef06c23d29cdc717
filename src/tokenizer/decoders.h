// Decoders of tokenizer.json (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, Sequence):
// they turn the token strings of a sequence of ids back into text, as HF's decode_chain does.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth::tok {

class Decoder {
 public:
  virtual ~Decoder() = default;
  // Rewrites the list of token strings; the final text is their concatenation. With `raw`,
  // bytes that are not valid UTF-8 are kept as they are instead of becoming U+FFFD (the bytes a
  // token stands for, for grammars).
  virtual void decode_chain(std::vector<std::string>& tokens, bool raw = false) const = 0;
};

// Builds a decoder from its JSON; `where` names it in errors ("file: decoder").
Result<std::unique_ptr<Decoder>> parse_decoder(const Json& j, const std::string& where);

// The GPT-2 byte-to-character map: byte_char(b) is the code point that stands for byte b in a
// byte-level vocabulary; char_byte(cp) is the inverse (-1 for a code point that is no byte).
uint32_t byte_char(uint8_t b);
int char_byte(uint32_t cp);

}  // namespace hearth::tok
