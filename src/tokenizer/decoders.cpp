// Decoders, each a literal rendering of HF tokenizers' decode_chain for that type: ByteLevel maps
// characters back to bytes (lossy UTF-8 at the end), ByteFallback turns runs of <0xNN> tokens into
// bytes (U+FFFD per byte when a run is not valid UTF-8), Metaspace / Replace / Strip edit tokens,
// Fuse joins them.
#include "tokenizer/decoders.h"

#include <array>

#include "tokenizer/unicode.h"

namespace hearth::tok {
namespace {

struct ByteMap {
  std::array<uint32_t, 256> to_char{};
  std::array<int16_t, 324> to_byte{};
  ByteMap() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      to_char[size_t(b)] = printable ? uint32_t(b) : next++;
      to_byte[to_char[size_t(b)]] = int16_t(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

// Appends the code points of `s` (valid UTF-8) as characters.
std::vector<uint32_t> chars_of(const std::string& s) {
  std::vector<uint32_t> out;
  for (size_t i = 0; i < s.size();) {
    size_t len;
    out.push_back(unicode::decode_at(s, i, &len));
    i += len;
  }
  return out;
}

std::string replace_all(const std::string& s, const std::string& pat, const std::string& with) {
  if (pat.empty() || s.find(pat) == std::string::npos) return s;
  std::string out;
  size_t p = 0;
  for (size_t q = s.find(pat); q != std::string::npos; q = s.find(pat, p)) {
    out.append(s, p, q - p);
    out += with;
    p = q + pat.size();
  }
  out.append(s, p, std::string::npos);
  return out;
}

class ByteLevelDec : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    std::string bytes;
    for (const std::string& t : tokens) {
      size_t mark = bytes.size();
      bool all = true;
      for (size_t i = 0; i < t.size();) {
        size_t len;
        uint32_t cp = unicode::decode_at(t, i, &len);
        i += len;
        int b = char_byte(cp);
        if (b < 0) {
          all = false;
          break;
        }
        bytes += char(b);
      }
      if (!all) {  // a token with characters outside the byte map keeps its own UTF-8
        bytes.resize(mark);
        bytes += t;
      }
    }
    tokens.assign(1, raw ? bytes : unicode::utf8_lossy(bytes));
  }
};

class ReplaceDec : public Decoder {
 public:
  std::string pattern, content;
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    for (std::string& t : tokens) t = replace_all(t, pattern, content);
  }
};

class ByteFallbackDec : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    std::vector<std::string> out;
    out.reserve(tokens.size());
    std::string run;
    auto flush = [&] {
      if (run.empty()) return;
      if (raw || unicode::is_valid_utf8(run)) {
        out.push_back(run);
      } else {
        for (size_t i = 0; i < run.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
      }
      run.clear();
    };
    for (std::string& t : tokens) {
      int byte = parse_byte(t);
      if (byte >= 0) {
        run += char(byte);
      } else {
        flush();
        out.push_back(std::move(t));
      }
    }
    flush();
    tokens.swap(out);
  }

 private:
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // "<0xNN>" -> NN, else -1.
  static int parse_byte(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    int hi = hex(t[3]), lo = hex(t[4]);
    return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
  }
};

class FuseDec : public Decoder {
 public:
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    tokens.assign(1, std::move(all));
  }
};

class StripDec : public Decoder {
 public:
  uint32_t content = ' ';
  size_t start = 0, stop = 0;
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    for (std::string& t : tokens) {
      if (content < 0x80) {  // on bytes: the same for UTF-8 text, and keeps raw bytes intact
        size_t b = 0, e = t.size();
        while (b < start && b < t.size() && uint8_t(t[b]) == content) ++b;
        while (t.size() - e < stop && e > b && uint8_t(t[e - 1]) == content) --e;
        t = t.substr(b, e - b);
        continue;
      }
      std::vector<uint32_t> cs = chars_of(t);
      size_t b = 0, e = cs.size();
      for (size_t i = 0; i < start && i < cs.size(); ++i) {
        if (cs[i] != content) break;
        b = i + 1;
      }
      for (size_t i = 0; i < stop && i < cs.size(); ++i) {
        size_t idx = cs.size() - i - 1;
        if (cs[idx] != content) break;
        e = idx;
      }
      std::string out;
      for (size_t i = b; i < e; ++i) unicode::append_utf8(out, cs[i]);
      t.swap(out);
    }
  }
};

class MetaspaceDec : public Decoder {
 public:
  std::string rep = "\xE2\x96\x81";
  bool strip_first = true;  // prepend_scheme != never
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      tokens[i] = replace_all(tokens[i], rep, i == 0 && strip_first ? "" : " ");
    }
  }
};

class SequenceDec : public Decoder {
 public:
  std::vector<std::unique_ptr<Decoder>> steps;
  void decode_chain(std::vector<std::string>& tokens, bool raw) const override {
    for (const auto& d : steps) d->decode_chain(tokens, raw);
  }
};

Result<std::string> get_string(const Json& j, const char* key, const std::string& where) {
  const Json* v = j.find_non_null(key);
  if (!v || !v->is_string()) return err(where, ".", key, ": missing or not a string");
  return v->as_string();
}

bool is_one_char(const std::string& s) {
  return !s.empty() && unicode::valid_sequence_length(s, 0) == s.size();
}

Result<size_t> get_count(const Json& j, const char* key, const std::string& where) {
  const Json* v = j.find_non_null(key);
  if (!v) return size_t(0);
  if (!v->is_integer() || v->as_int() < 0) return err(where, ".", key, ": expected a count");
  return size_t(v->as_int());
}

}  // namespace

uint32_t byte_char(uint8_t b) { return byte_map().to_char[b]; }

int char_byte(uint32_t cp) { return cp < 324 ? byte_map().to_byte[cp] : -1; }

Result<std::unique_ptr<Decoder>> parse_decoder(const Json& j, const std::string& where) {
  if (!j.is_object()) return err(where, ": expected an object");
  const Json* type = j.find_non_null("type");
  if (!type || !type->is_string()) return err(where, ".type: missing or not a string");
  const std::string& t = type->as_string();
  if (t == "ByteLevel") return std::unique_ptr<Decoder>(std::make_unique<ByteLevelDec>());
  if (t == "ByteFallback") return std::unique_ptr<Decoder>(std::make_unique<ByteFallbackDec>());
  if (t == "Fuse") return std::unique_ptr<Decoder>(std::make_unique<FuseDec>());
  if (t == "Sequence") {
    const Json* list = j.find_non_null("decoders");
    if (!list || !list->is_array()) return err(where, ".decoders: expected an array");
    auto seq = std::make_unique<SequenceDec>();
    for (size_t i = 0; i < list->size(); ++i) {
      HEARTH_ASSIGN(auto step,
                    parse_decoder((*list)[i], where + ".decoders[" + std::to_string(i) + "]"));
      seq->steps.push_back(std::move(step));
    }
    return std::unique_ptr<Decoder>(std::move(seq));
  }
  if (t == "Replace") {
    auto r = std::make_unique<ReplaceDec>();
    const Json* pat = j.find_non_null("pattern");
    const Json* lit = pat ? pat->find_non_null("String") : nullptr;
    if (!lit || !lit->is_string()) {
      return err(where, ".pattern: only {\"String\": ...} patterns are supported in Replace");
    }
    r->pattern = lit->as_string();
    HEARTH_ASSIGN(r->content, get_string(j, "content", where));
    return std::unique_ptr<Decoder>(std::move(r));
  }
  if (t == "Strip") {
    auto s = std::make_unique<StripDec>();
    HEARTH_ASSIGN(std::string content, get_string(j, "content", where));
    if (!is_one_char(content)) return err(where, ".content: expected a single character");
    size_t len;
    s->content = unicode::decode_at(content, 0, &len);
    HEARTH_ASSIGN(s->start, get_count(j, "start", where));
    HEARTH_ASSIGN(s->stop, get_count(j, "stop", where));
    return std::unique_ptr<Decoder>(std::move(s));
  }
  if (t == "Metaspace") {
    auto m = std::make_unique<MetaspaceDec>();
    if (const Json* r = j.find_non_null("replacement")) {
      if (!r->is_string() || !is_one_char(r->as_string())) {
        return err(where, ".replacement: expected a single character");
      }
      m->rep = r->as_string();
    }
    bool never = false;
    if (const Json* s = j.find_non_null("prepend_scheme")) {
      if (!s->is_string() || (s->as_string() != "always" && s->as_string() != "first" &&
                              s->as_string() != "never")) {
        return err(where, ".prepend_scheme: expected \"always\", \"first\" or \"never\"");
      }
      never = s->as_string() == "never";
    }
    if (const Json* a = j.find_non_null("add_prefix_space")) {
      if (!a->is_bool()) return err(where, ".add_prefix_space: expected a boolean");
      if (!a->as_bool()) never = true;
    }
    m->strip_first = !never;
    return std::unique_ptr<Decoder>(std::move(m));
  }
  return err(where, ".type: unsupported decoder '", t,
             "' (supported: ByteLevel, ByteFallback, Fuse, Replace, Strip, Metaspace, Sequence)");
}

}  // namespace hearth::tok
