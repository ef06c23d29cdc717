// Normalizers: Unicode NFC / NFD, Prepend (only to non-empty text, as HF does), Replace of a
// literal string, Strip of surrounding whitespace, and Sequence.
#include "tokenizer/normalize.h"

#include <vector>

#include "tokenizer/unicode.h"

namespace hearth::tok {
namespace {

class NfcNorm : public Normalizer {
 public:
  void apply(std::string& s) const override {
    if (!unicode::is_nfc_quick(s)) s = unicode::nfc(s);
  }
};

class NfdNorm : public Normalizer {
 public:
  void apply(std::string& s) const override { s = unicode::nfd(s); }
};

class PrependNorm : public Normalizer {
 public:
  std::string prefix;
  void apply(std::string& s) const override {
    if (!s.empty()) s.insert(0, prefix);
  }
};

class ReplaceNorm : public Normalizer {
 public:
  std::string pattern, content;
  void apply(std::string& s) const override {
    if (pattern.empty() || s.find(pattern) == std::string::npos) return;
    std::string out;
    out.reserve(s.size() + s.size() / 4);
    size_t p = 0;
    for (size_t q = s.find(pattern); q != std::string::npos; q = s.find(pattern, p)) {
      out.append(s, p, q - p);
      out += content;
      p = q + pattern.size();
    }
    out.append(s, p, std::string::npos);
    s.swap(out);
  }
};

class StripNorm : public Normalizer {
 public:
  bool left = true, right = true;
  void apply(std::string& s) const override {
    size_t b = 0, e = s.size();
    if (left) {
      while (b < e) {
        size_t len;
        uint32_t cp = unicode::decode_at(s, b, &len);
        if (!unicode::is_whitespace(cp)) break;
        b += len;
      }
    }
    if (right) {
      while (e > b) {
        size_t start = e - 1;
        while (start > b && (uint8_t(s[start]) & 0xC0) == 0x80) --start;
        size_t len;
        uint32_t cp = unicode::decode_at(s, start, &len);
        if (!unicode::is_whitespace(cp)) break;
        e = start;
      }
    }
    s = s.substr(b, e - b);
  }
};

class SequenceNorm : public Normalizer {
 public:
  std::vector<std::unique_ptr<Normalizer>> steps;
  void apply(std::string& s) const override {
    for (const auto& n : steps) n->apply(s);
  }
};

Result<std::string> get_string(const Json& j, const char* key, const std::string& where) {
  const Json* v = j.find_non_null(key);
  if (!v || !v->is_string()) return err(where, ".", key, ": missing or not a string");
  return v->as_string();
}

Result<bool> get_bool(const Json& j, const char* key, bool def, const std::string& where) {
  const Json* v = j.find_non_null(key);
  if (!v) return def;
  if (!v->is_bool()) return err(where, ".", key, ": expected a boolean");
  return v->as_bool();
}

}  // namespace

Result<std::unique_ptr<Normalizer>> parse_normalizer(const Json& j, const std::string& where) {
  if (!j.is_object()) return err(where, ": expected an object");
  const Json* type = j.find_non_null("type");
  if (!type || !type->is_string()) return err(where, ".type: missing or not a string");
  const std::string& t = type->as_string();
  if (t == "NFC") return std::unique_ptr<Normalizer>(std::make_unique<NfcNorm>());
  if (t == "NFD") return std::unique_ptr<Normalizer>(std::make_unique<NfdNorm>());
  if (t == "Sequence") {
    const Json* list = j.find_non_null("normalizers");
    if (!list || !list->is_array()) return err(where, ".normalizers: expected an array");
    auto seq = std::make_unique<SequenceNorm>();
    for (size_t i = 0; i < list->size(); ++i) {
      HEARTH_ASSIGN(auto step,
                    parse_normalizer((*list)[i], where + ".normalizers[" + std::to_string(i) + "]"));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<Normalizer>(std::move(seq));
  }
  if (t == "Prepend") {
    auto p = std::make_unique<PrependNorm>();
    HEARTH_ASSIGN(p->prefix, get_string(j, "prepend", where));
    return std::unique_ptr<Normalizer>(std::move(p));
  }
  if (t == "Replace") {
    auto r = std::make_unique<ReplaceNorm>();
    const Json* pat = j.find_non_null("pattern");
    const Json* lit = pat ? pat->find_non_null("String") : nullptr;
    if (!lit || !lit->is_string()) {
      return err(where, ".pattern: only {\"String\": ...} patterns are supported in Replace");
    }
    r->pattern = lit->as_string();
    HEARTH_ASSIGN(r->content, get_string(j, "content", where));
    return std::unique_ptr<Normalizer>(std::move(r));
  }
  if (t == "Strip") {
    auto s = std::make_unique<StripNorm>();
    HEARTH_ASSIGN(s->left, get_bool(j, "strip_left", true, where));
    HEARTH_ASSIGN(s->right, get_bool(j, "strip_right", true, where));
    return std::unique_ptr<Normalizer>(std::move(s));
  }
  return err(where, ".type: unsupported normalizer '", t,
             "' (supported: NFC, NFD, Sequence, Prepend, Replace, Strip)");
}

}  // namespace hearth::tok
