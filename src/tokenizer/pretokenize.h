// Pre-tokenizers of tokenizer.json (Split, ByteLevel, Metaspace, Digits, Whitespace,
// WhitespaceSplit, Sequence): they cut a normalized piece of text into the words that the model
// encodes one by one. Split regexes are recognized alternative by alternative against the ones of
// the GPT-2 / Llama 3 / Qwen2 families and run as hand-written matchers (no regex engine).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth::tok {

// A non-owning reference to a callable, for callbacks that run before the call returns.
template <class Sig>
class FnRef;
template <class R, class... A>
class FnRef<R(A...)> {
 public:
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, FnRef>>>
  FnRef(F&& f)  // NOLINT: implicit by design
      : obj_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* o, A... a) -> R {
          return (*static_cast<std::remove_reference_t<F>*>(o))(std::forward<A>(a)...);
        }) {}
  R operator()(A... a) const { return call_(obj_, std::forward<A>(a)...); }

 private:
  void* obj_;
  R (*call_)(void*, A...);
};

// Receives one pre-token; `at_start` is true when it begins at offset 0 of the original text
// (HF's offsets_original().0 == 0, which Metaspace's prepend_scheme "first" looks at).
using PieceSink = FnRef<void(std::string_view piece, bool at_start)>;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits `piece` (valid UTF-8, non-empty) and passes each non-empty result to `sink`, in order.
  virtual void split(std::string_view piece, bool at_start, PieceSink sink) const = 0;
  // True if this is (or contains) a ByteLevel pre-tokenizer: the model then works on bytes.
  virtual bool byte_level() const { return false; }
};

// Builds a pre-tokenizer from its JSON; `where` names it in errors ("file: pre_tokenizer").
Result<std::unique_ptr<PreTokenizer>> parse_pre_tokenizer(const Json& j, const std::string& where);

// One alternative of a supported split regex (exposed for tests).
enum class RegexAlt {
  Contractions,            // 's|'t|'re|'ve|'m|'ll|'d
  ContractionsNoCase,      // (?i:'s|'t|'re|'ve|'m|'ll|'d)
  LettersOptNonLetter,     // [^\r\n\p{L}\p{N}]?\p{L}+
  LettersOptSpace,         //  ?\p{L}+
  Letters,                 // \p{L}+
  Number1,                 // \p{N}
  Number3,                 // \p{N}{1,3}
  Numbers,                 // \p{N}+
  NumbersOptSpace,         //  ?\p{N}+
  PunctOptSpace,           //  ?[^\s\p{L}\p{N}]+
  PunctOptSpaceNewlines,   //  ?[^\s\p{L}\p{N}]+[\r\n]*
  SpacesToLastNewline,     // \s*[\r\n]+
  SpacesNotBeforeNonSpace, // \s+(?!\S)
  Spaces,                  // \s+
};

// Parses a Split regex into alternatives; an error names the first unsupported part.
Result<std::vector<RegexAlt>> parse_split_regex(std::string_view pattern);
// The GPT-2 pattern (ByteLevel's use_regex).
const std::vector<RegexAlt>& gpt2_regex();
// Leftmost-first matches of the alternation over `text`, as [begin, end) byte offsets.
void find_regex_matches(const std::vector<RegexAlt>& alts, std::string_view text,
                        std::vector<std::pair<size_t, size_t>>& out);

}  // namespace hearth::tok
