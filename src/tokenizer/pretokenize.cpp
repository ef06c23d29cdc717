// Pre-tokenizers: hand-written matchers for the split regexes of the GPT-2 / Llama 3 / Qwen2
// families (leftmost-first alternation, with the backtracking each alternative implies), the
// split behaviours of HF tokenizers (Isolated, Removed, MergedWith*, Contiguous), and the
// ByteLevel, Metaspace, Digits, Whitespace, WhitespaceSplit and Sequence pre-tokenizers.
#include "tokenizer/pretokenize.h"

#include <cstdint>

#include "tokenizer/unicode.h"

namespace hearth::tok {
namespace {

constexpr size_t kNone = size_t(-1);

// Per-character classes used by the matchers.
enum : uint8_t {
  kL = 1,    // \p{L}
  kN = 2,    // \p{N}
  kW = 4,    // \s
  kNL = 8,   // \r or \n
  kSP = 16,  // U+0020
  kAP = 32,  // U+0027 apostrophe
};

struct Chars {
  std::vector<size_t> off;  // byte offset of each character, plus the text length at the end
  std::vector<uint8_t> cls;
  size_t size() const { return cls.size(); }
};

Chars scan(std::string_view text) {
  Chars c;
  c.off.reserve(text.size() + 1);
  c.cls.reserve(text.size());
  for (size_t i = 0; i < text.size();) {
    size_t len;
    uint32_t cp = unicode::decode_at(text, i, &len);
    uint8_t u = unicode::classes(cp);
    uint8_t k = 0;
    if (u & unicode::kClassLetter) k |= kL;
    if (u & unicode::kClassNumber) k |= kN;
    if (u & unicode::kClassWhiteSpace) k |= kW;
    if (cp == '\r' || cp == '\n') k |= kNL;
    if (cp == ' ') k |= kSP;
    if (cp == '\'') k |= kAP;
    c.off.push_back(i);
    c.cls.push_back(k);
    i += len;
  }
  c.off.push_back(text.size());
  return c;
}

// Lower-cases the letters the contraction alternatives use, the way a case-insensitive match
// folds them (U+017F LATIN SMALL LETTER LONG S folds to 's').
uint32_t fold(uint32_t cp) {
  if (cp >= 'A' && cp <= 'Z') return cp + 32;
  if (cp == 0x17F) return 's';
  return cp;
}

size_t match_contraction(const Chars& c, std::string_view text, size_t i, bool no_case) {
  size_t n = c.size();
  if (!(c.cls[i] & kAP) || i + 1 >= n) return kNone;
  auto at = [&](size_t k) {
    size_t len;
    uint32_t cp = unicode::decode_at(text, c.off[k], &len);
    return no_case ? fold(cp) : cp;
  };
  uint32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return i + 2;
  if (i + 2 < n) {
    uint32_t b = at(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return i + 3;
  }
  return kNone;
}

size_t run_of(const Chars& c, size_t i, uint8_t want) {
  while (i < c.size() && (c.cls[i] & want)) ++i;
  return i;
}

bool is_punct(uint8_t k) { return !(k & (kL | kN | kW)); }

size_t run_punct(const Chars& c, size_t i) {
  while (i < c.size() && is_punct(c.cls[i])) ++i;
  return i;
}

size_t match_alt(RegexAlt a, const Chars& c, std::string_view text, size_t i) {
  size_t n = c.size();
  const std::vector<uint8_t>& k = c.cls;
  switch (a) {
    case RegexAlt::Contractions:
      return match_contraction(c, text, i, false);
    case RegexAlt::ContractionsNoCase:
      return match_contraction(c, text, i, true);
    case RegexAlt::LettersOptNonLetter:
      if (k[i] & kL) return run_of(c, i, kL);
      if (!(k[i] & (kNL | kL | kN)) && i + 1 < n && (k[i + 1] & kL)) return run_of(c, i + 1, kL);
      return kNone;
    case RegexAlt::LettersOptSpace:
      if (k[i] & kL) return run_of(c, i, kL);
      if ((k[i] & kSP) && i + 1 < n && (k[i + 1] & kL)) return run_of(c, i + 1, kL);
      return kNone;
    case RegexAlt::Letters:
      return (k[i] & kL) ? run_of(c, i, kL) : kNone;
    case RegexAlt::Number1:
      return (k[i] & kN) ? i + 1 : kNone;
    case RegexAlt::Number3: {
      size_t j = i;
      while (j < n && j < i + 3 && (k[j] & kN)) ++j;
      return j > i ? j : kNone;
    }
    case RegexAlt::Numbers:
      return (k[i] & kN) ? run_of(c, i, kN) : kNone;
    case RegexAlt::NumbersOptSpace:
      if (k[i] & kN) return run_of(c, i, kN);
      if ((k[i] & kSP) && i + 1 < n && (k[i + 1] & kN)) return run_of(c, i + 1, kN);
      return kNone;
    case RegexAlt::PunctOptSpace:
    case RegexAlt::PunctOptSpaceNewlines: {
      size_t j;
      if (is_punct(k[i])) {
        j = run_punct(c, i);
      } else if ((k[i] & kSP) && i + 1 < n && is_punct(k[i + 1])) {
        j = run_punct(c, i + 1);
      } else {
        return kNone;
      }
      if (a == RegexAlt::PunctOptSpaceNewlines) j = run_of(c, j, kNL);
      return j;
    }
    case RegexAlt::SpacesToLastNewline: {
      // \s* backtracks to the last \r or \n of the whitespace run; [\r\n]+ then takes it.
      size_t last = kNone;
      for (size_t j = i; j < n && (k[j] & kW); ++j) {
        if (k[j] & kNL) last = j;
      }
      return last == kNone ? kNone : last + 1;
    }
    case RegexAlt::SpacesNotBeforeNonSpace: {
      if (!(k[i] & kW)) return kNone;
      size_t e = run_of(c, i, kW);
      if (e == n) return e;
      return e - i >= 2 ? e - 1 : kNone;  // give back one space so that \S does not follow
    }
    case RegexAlt::Spaces:
      return (k[i] & kW) ? run_of(c, i, kW) : kNone;
  }
  return kNone;
}

// ---- Split behaviours ----

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Seg {
  size_t b, e;
  bool match;
};

// Cuts `text` around `matches` (sorted, non-overlapping) the way HF's NormalizedString::split
// does, and passes the non-empty pieces to `sink`.
void emit_split(std::string_view text, bool at_start,
                const std::vector<std::pair<size_t, size_t>>& matches, Behavior behavior,
                bool invert, PieceSink sink) {
  std::vector<Seg> segs;
  segs.reserve(matches.size() * 2 + 1);
  size_t prev = 0;
  for (const auto& m : matches) {
    if (m.first > prev) segs.push_back({prev, m.first, false});
    segs.push_back({m.first, m.second, true});
    prev = m.second;
  }
  if (prev < text.size()) segs.push_back({prev, text.size(), false});
  if (invert) {
    for (Seg& s : segs) s.match = !s.match;
  }
  std::vector<Seg> out;
  out.reserve(segs.size());
  switch (behavior) {
    case Behavior::Isolated:
      out = segs;
      break;
    case Behavior::Removed:
      for (const Seg& s : segs) {
        if (!s.match) out.push_back(s);
      }
      break;
    case Behavior::Contiguous: {
      bool previous = false;
      for (const Seg& s : segs) {
        if (s.match == previous && !out.empty()) {
          out.back().e = s.e;
        } else {
          out.push_back(s);
        }
        previous = s.match;
      }
      break;
    }
    case Behavior::MergedWithPrevious: {
      bool previous = false;
      for (const Seg& s : segs) {
        if (s.match && !previous && !out.empty()) {
          out.back().e = s.e;
        } else {
          out.push_back(s);
        }
        previous = s.match;
      }
      break;
    }
    case Behavior::MergedWithNext: {
      bool previous = false;
      for (size_t i = segs.size(); i-- > 0;) {
        const Seg& s = segs[i];
        if (s.match && !previous && !out.empty()) {
          out.back().b = s.b;
        } else {
          out.push_back(s);
        }
        previous = s.match;
      }
      std::vector<Seg> rev(out.rbegin(), out.rend());
      out.swap(rev);
      break;
    }
  }
  for (const Seg& s : out) {
    if (s.e > s.b) sink(text.substr(s.b, s.e - s.b), at_start && s.b == 0);
  }
}

// Every occurrence of a character for which `pred` holds is one match.
template <class Pred>
void char_matches(std::string_view text, Pred pred, std::vector<std::pair<size_t, size_t>>& out) {
  for (size_t i = 0; i < text.size();) {
    size_t len;
    uint32_t cp = unicode::decode_at(text, i, &len);
    if (pred(cp)) out.emplace_back(i, i + len);
    i += len;
  }
}

void literal_matches(std::string_view text, std::string_view lit,
                     std::vector<std::pair<size_t, size_t>>& out) {
  if (lit.empty()) return;
  for (size_t p = text.find(lit); p != std::string_view::npos; p = text.find(lit, p + lit.size())) {
    out.emplace_back(p, p + lit.size());
  }
}

// ---- The pre-tokenizers ----

class SplitPre : public PreTokenizer {
 public:
  std::vector<RegexAlt> alts;  // empty: literal
  std::string literal;
  Behavior behavior = Behavior::Isolated;
  bool invert = false;
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    std::vector<std::pair<size_t, size_t>> m;
    if (alts.empty()) {
      literal_matches(piece, literal, m);
    } else {
      find_regex_matches(alts, piece, m);
    }
    emit_split(piece, at_start, m, behavior, invert, sink);
  }
};

class ByteLevelPre : public PreTokenizer {
 public:
  bool add_prefix_space = true;
  bool use_regex = true;
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    if (piece.empty()) return;
    std::string prefixed;
    if (add_prefix_space && piece[0] != ' ') {
      prefixed.reserve(piece.size() + 1);
      prefixed += ' ';
      prefixed.append(piece);
      piece = prefixed;
    }
    if (!use_regex) {
      sink(piece, at_start);
      return;
    }
    std::vector<std::pair<size_t, size_t>> m;
    find_regex_matches(gpt2_regex(), piece, m);
    emit_split(piece, at_start, m, Behavior::Isolated, false, sink);
  }
  bool byte_level() const override { return true; }
};

enum class Prepend { Always, First, Never };

class MetaspacePre : public PreTokenizer {
 public:
  std::string rep;  // one character, UTF-8
  Prepend prepend = Prepend::Always;
  bool split_words = true;
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    std::string s;
    s.reserve(piece.size() + rep.size() * 4);
    for (char ch : piece) {
      if (ch == ' ') {
        s += rep;
      } else {
        s += ch;
      }
    }
    bool starts = s.compare(0, rep.size(), rep) == 0;
    if ((prepend == Prepend::Always && !starts) || (prepend == Prepend::First && !starts && at_start)) {
      s.insert(0, rep);
    }
    if (!split_words) {
      sink(s, at_start);
      return;
    }
    std::vector<std::pair<size_t, size_t>> m;
    literal_matches(s, rep, m);
    emit_split(s, at_start, m, Behavior::MergedWithNext, false, sink);
  }
};

class DigitsPre : public PreTokenizer {
 public:
  bool individual = false;
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    std::vector<std::pair<size_t, size_t>> m;
    char_matches(piece, [](uint32_t cp) { return unicode::is_number(cp); }, m);
    emit_split(piece, at_start, m, individual ? Behavior::Isolated : Behavior::Contiguous, false,
               sink);
  }
};

// HF Whitespace: the runs of \w+ and of [^\w\s]+, everything else dropped.
class WhitespacePre : public PreTokenizer {
 public:
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    std::vector<std::pair<size_t, size_t>> m;
    int kind_prev = 0;  // 1 word, 2 other, 0 space
    for (size_t i = 0; i < piece.size();) {
      size_t len;
      uint32_t cp = unicode::decode_at(piece, i, &len);
      int kind = unicode::is_word_char(cp) ? 1 : unicode::is_whitespace(cp) ? 0 : 2;
      if (kind != 0 && kind == kind_prev) {
        m.back().second = i + len;
      } else if (kind != 0) {
        m.emplace_back(i, i + len);
      }
      kind_prev = kind;
      i += len;
    }
    emit_split(piece, at_start, m, Behavior::Removed, true, sink);
  }
};

class WhitespaceSplitPre : public PreTokenizer {
 public:
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    std::vector<std::pair<size_t, size_t>> m;
    char_matches(piece, [](uint32_t cp) { return unicode::is_whitespace(cp); }, m);
    emit_split(piece, at_start, m, Behavior::Removed, false, sink);
  }
};

class SequencePre : public PreTokenizer {
 public:
  std::vector<std::unique_ptr<PreTokenizer>> steps;
  void split(std::string_view piece, bool at_start, PieceSink sink) const override {
    run(0, piece, at_start, sink);
  }
  bool byte_level() const override {
    for (const auto& s : steps) {
      if (s->byte_level()) return true;
    }
    return false;
  }

 private:
  void run(size_t k, std::string_view piece, bool at_start, PieceSink sink) const {
    if (k == steps.size()) {
      sink(piece, at_start);
      return;
    }
    steps[k]->split(piece, at_start,
                    [&](std::string_view p, bool a) { run(k + 1, p, a, sink); });
  }
};

// ---- JSON ----

Result<bool> get_bool(const Json& j, const char* key, bool def, const std::string& where) {
  const Json* v = j.find_non_null(key);
  if (!v) return def;
  if (!v->is_bool()) return err(where, ".", key, ": expected a boolean");
  return v->as_bool();
}

Result<Behavior> parse_behavior(const Json& j, const std::string& where) {
  const Json* v = j.find_non_null("behavior");
  if (!v) return Behavior::Isolated;
  if (!v->is_string()) return err(where, ".behavior: expected a string");
  const std::string& s = v->as_string();
  if (s == "Removed") return Behavior::Removed;
  if (s == "Isolated") return Behavior::Isolated;
  if (s == "MergedWithPrevious") return Behavior::MergedWithPrevious;
  if (s == "MergedWithNext") return Behavior::MergedWithNext;
  if (s == "Contiguous") return Behavior::Contiguous;
  return err(where, ".behavior: unknown split behavior '", s, "'");
}

bool has_regex_syntax(std::string_view p) {
  return p.find_first_of("\\^$.|?*+()[]{}") != std::string_view::npos;
}

// Metaspace's prepend_scheme (default "always"); the older add_prefix_space = false means never.
Result<Prepend> parse_prepend(const Json& j, const std::string& where) {
  Prepend p = Prepend::Always;
  if (const Json* s = j.find_non_null("prepend_scheme")) {
    if (!s->is_string()) return err(where, ".prepend_scheme: expected a string");
    if (s->as_string() == "always") {
      p = Prepend::Always;
    } else if (s->as_string() == "first") {
      p = Prepend::First;
    } else if (s->as_string() == "never") {
      p = Prepend::Never;
    } else {
      return err(where, ".prepend_scheme: unknown value '", s->as_string(), "'");
    }
  }
  HEARTH_ASSIGN(bool add_prefix_space, get_bool(j, "add_prefix_space", true, where));
  if (!add_prefix_space) p = Prepend::Never;
  return p;
}

}  // namespace

const std::vector<RegexAlt>& gpt2_regex() {
  static const std::vector<RegexAlt> alts = {
      RegexAlt::Contractions, RegexAlt::LettersOptSpace, RegexAlt::NumbersOptSpace,
      RegexAlt::PunctOptSpace, RegexAlt::SpacesNotBeforeNonSpace, RegexAlt::Spaces};
  return alts;
}

Result<std::vector<RegexAlt>> parse_split_regex(std::string_view pattern) {
  // Split at top-level '|' (outside groups and character classes).
  std::vector<std::string_view> parts;
  int depth = 0;
  bool in_class = false;
  size_t start = 0;
  for (size_t i = 0; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      if (c == ']') in_class = false;
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth == 0) {
      parts.push_back(pattern.substr(start, i - start));
      start = i + 1;
    }
  }
  parts.push_back(pattern.substr(start));

  static const std::pair<const char*, RegexAlt> kKnown[] = {
      {"(?i:'s|'t|'re|'ve|'m|'ll|'d)", RegexAlt::ContractionsNoCase},
      {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+", RegexAlt::LettersOptNonLetter},
      {" ?\\p{L}+", RegexAlt::LettersOptSpace},
      {"\\p{L}+", RegexAlt::Letters},
      {"\\p{N}", RegexAlt::Number1},
      {"\\p{N}{1,3}", RegexAlt::Number3},
      {"\\p{N}+", RegexAlt::Numbers},
      {" ?\\p{N}+", RegexAlt::NumbersOptSpace},
      {" ?[^\\s\\p{L}\\p{N}]+", RegexAlt::PunctOptSpace},
      {" ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*", RegexAlt::PunctOptSpaceNewlines},
      {"\\s*[\\r\\n]+", RegexAlt::SpacesToLastNewline},
      {"\\s+(?!\\S)", RegexAlt::SpacesNotBeforeNonSpace},
      {"\\s+", RegexAlt::Spaces},
  };
  static const char* kContractions[] = {"'s", "'t", "'re", "'ve", "'m", "'ll", "'d"};
  std::vector<RegexAlt> alts;
  for (size_t i = 0; i < parts.size();) {
    if (parts[i] == kContractions[0] && i + 7 <= parts.size()) {
      bool all = true;
      for (size_t k = 0; k < 7; ++k) all = all && parts[i + k] == kContractions[k];
      if (all) {
        alts.push_back(RegexAlt::Contractions);
        i += 7;
        continue;
      }
    }
    bool found = false;
    for (const auto& [text, alt] : kKnown) {
      if (parts[i] == text) {
        alts.push_back(alt);
        found = true;
        break;
      }
    }
    if (!found) {
      return err("unsupported part '", std::string(parts[i]), "' in split regex '",
                 std::string(pattern),
                 "' (supported: the GPT-2, Llama 3 and Qwen2 pre-tokenizer patterns)");
    }
    ++i;
  }
  return alts;
}

void find_regex_matches(const std::vector<RegexAlt>& alts, std::string_view text,
                        std::vector<std::pair<size_t, size_t>>& out) {
  Chars c = scan(text);
  size_t n = c.size();
  for (size_t i = 0; i < n;) {
    size_t e = kNone;
    for (RegexAlt a : alts) {
      e = match_alt(a, c, text, i);
      if (e != kNone) break;
    }
    if (e == kNone || e == i) {
      ++i;  // no alternative matches here: this character falls in a gap between matches
      continue;
    }
    out.emplace_back(c.off[i], c.off[e]);
    i = e;
  }
}

Result<std::unique_ptr<PreTokenizer>> parse_pre_tokenizer(const Json& j, const std::string& where) {
  if (!j.is_object()) return err(where, ": expected an object");
  const Json* type = j.find_non_null("type");
  if (!type || !type->is_string()) return err(where, ".type: missing or not a string");
  const std::string& t = type->as_string();
  if (t == "Sequence") {
    const Json* list = j.find_non_null("pretokenizers");
    if (!list || !list->is_array()) return err(where, ".pretokenizers: expected an array");
    auto seq = std::make_unique<SequencePre>();
    for (size_t i = 0; i < list->size(); ++i) {
      HEARTH_ASSIGN(auto step,
                    parse_pre_tokenizer((*list)[i], where + ".pretokenizers[" + std::to_string(i) + "]"));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<PreTokenizer>(std::move(seq));
  }
  if (t == "Split") {
    auto sp = std::make_unique<SplitPre>();
    const Json* pat = j.find_non_null("pattern");
    if (!pat || !pat->is_object()) return err(where, ".pattern: expected {\"Regex\": ...} or {\"String\": ...}");
    if (const Json* s = pat->find_non_null("String"); s && s->is_string()) {
      sp->literal = s->as_string();
    } else if (const Json* r = pat->find_non_null("Regex"); r && r->is_string()) {
      if (!has_regex_syntax(r->as_string())) {
        sp->literal = r->as_string();
      } else {
        auto alts = parse_split_regex(r->as_string());
        if (!alts.ok()) return err(where, ".pattern.Regex: ", alts.message());
        sp->alts = std::move(*alts);
      }
    } else {
      return err(where, ".pattern: expected {\"Regex\": string} or {\"String\": string}");
    }
    HEARTH_ASSIGN(sp->behavior, parse_behavior(j, where));
    HEARTH_ASSIGN(sp->invert, get_bool(j, "invert", false, where));
    return std::unique_ptr<PreTokenizer>(std::move(sp));
  }
  if (t == "ByteLevel") {
    auto bl = std::make_unique<ByteLevelPre>();
    HEARTH_ASSIGN(bl->add_prefix_space, get_bool(j, "add_prefix_space", true, where));
    HEARTH_ASSIGN(bl->use_regex, get_bool(j, "use_regex", true, where));
    return std::unique_ptr<PreTokenizer>(std::move(bl));
  }
  if (t == "Metaspace") {
    auto ms = std::make_unique<MetaspacePre>();
    ms->rep = "\xE2\x96\x81";  // U+2581
    if (const Json* r = j.find_non_null("replacement")) {
      if (!r->is_string() || r->as_string().empty() || !unicode::is_valid_utf8(r->as_string()) ||
          unicode::valid_sequence_length(r->as_string(), 0) != r->as_string().size()) {
        return err(where, ".replacement: expected a single character");
      }
      ms->rep = r->as_string();
    }
    HEARTH_ASSIGN(ms->prepend, parse_prepend(j, where));
    HEARTH_ASSIGN(ms->split_words, get_bool(j, "split", true, where));
    return std::unique_ptr<PreTokenizer>(std::move(ms));
  }
  if (t == "Digits") {
    auto d = std::make_unique<DigitsPre>();
    HEARTH_ASSIGN(d->individual, get_bool(j, "individual_digits", false, where));
    return std::unique_ptr<PreTokenizer>(std::move(d));
  }
  if (t == "Whitespace") return std::unique_ptr<PreTokenizer>(std::make_unique<WhitespacePre>());
  if (t == "WhitespaceSplit") {
    return std::unique_ptr<PreTokenizer>(std::make_unique<WhitespaceSplitPre>());
  }
  return err(where, ".type: unsupported pre-tokenizer '", t,
             "' (supported: Sequence, Split, ByteLevel, Metaspace, Digits, Whitespace, "
             "WhitespaceSplit)");
}

}  // namespace hearth::tok
