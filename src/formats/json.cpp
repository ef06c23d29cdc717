// Recursive-descent JSON parser (RFC 8259) with a depth limit and positioned error messages.
#include "formats/json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hearth {

const Json* Json::find(std::string_view key) const {
  if (!is_object()) return nullptr;
  // The last duplicate wins, as with Python's json module.
  for (auto it = obj_->rbegin(); it != obj_->rend(); ++it) {
    if (it->first == key) return &it->second;
  }
  return nullptr;
}

const char* Json::kind_name(Kind k) {
  switch (k) {
    case Kind::Null: return "null";
    case Kind::Bool: return "a boolean";
    case Kind::Number: return "a number";
    case Kind::String: return "a string";
    case Kind::Array: return "an array";
    case Kind::Object: return "an object";
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 512;

class Parser {
 public:
  Parser(std::string_view t, const std::string& what) : t_(t), what_(what) {}

  Result<Json> parse_document() {
    skip_ws();
    Json v;
    if (!value(v, 0)) return fail_error();
    skip_ws();
    if (p_ != t_.size()) {
      fail("unexpected text after the JSON value");
      return fail_error();
    }
    return v;
  }

 private:
  std::string_view t_;
  const std::string& what_;
  size_t p_ = 0;
  std::string msg_;

  Error fail_error() const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p_ && i < t_.size(); ++i) {
      if (t_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return err(what_, ": invalid JSON at line ", line, ", column ", col, ": ", msg_);
  }
  bool fail(const char* m) {
    if (msg_.empty()) msg_ = m;
    return false;
  }
  void skip_ws() {
    while (p_ < t_.size() && (t_[p_] == ' ' || t_[p_] == '\t' || t_[p_] == '\n' || t_[p_] == '\r')) ++p_;
  }
  bool lit(const char* s) {
    size_t n = std::char_traits<char>::length(s);
    if (t_.substr(p_, n) != s) return false;
    p_ += n;
    return true;
  }

  bool value(Json& out, int depth) {
    if (depth > kMaxDepth) return fail("nesting deeper than 512 levels");
    if (p_ >= t_.size()) return fail("unexpected end of input");
    char c = t_[p_];
    if (c == '{') return object(out, depth);
    if (c == '[') return array(out, depth);
    if (c == '"') {
      std::string s;
      if (!string(s)) return false;
      out = Json::string(std::move(s));
      return true;
    }
    if (c == 't') { if (lit("true")) { out = Json::boolean(true); return true; } return fail("invalid literal"); }
    if (c == 'f') { if (lit("false")) { out = Json::boolean(false); return true; } return fail("invalid literal"); }
    if (c == 'n') { if (lit("null")) { out = Json(); return true; } return fail("invalid literal"); }
    if (c == '-' || (c >= '0' && c <= '9')) return number(out);
    // Python's json writes these; accept them as numbers.
    if (lit("NaN")) { out = Json::number(NAN, false); return true; }
    if (lit("Infinity")) { out = Json::number(INFINITY, false); return true; }
    return fail("expected a value");
  }

  bool number(Json& out) {
    size_t s = p_;
    bool is_int = true;
    if (t_[p_] == '-') {
      ++p_;
      if (lit("Infinity")) { out = Json::number(-INFINITY, false); return true; }
    }
    if (p_ >= t_.size() || !(t_[p_] >= '0' && t_[p_] <= '9')) return fail("invalid number");
    if (t_[p_] == '0') {
      ++p_;
    } else {
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    }
    if (p_ < t_.size() && t_[p_] == '.') {
      is_int = false;
      ++p_;
      if (p_ >= t_.size() || !(t_[p_] >= '0' && t_[p_] <= '9')) return fail("invalid number");
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    }
    if (p_ < t_.size() && (t_[p_] == 'e' || t_[p_] == 'E')) {
      is_int = false;
      ++p_;
      if (p_ < t_.size() && (t_[p_] == '+' || t_[p_] == '-')) ++p_;
      if (p_ >= t_.size() || !(t_[p_] >= '0' && t_[p_] <= '9')) return fail("invalid number");
      while (p_ < t_.size() && t_[p_] >= '0' && t_[p_] <= '9') ++p_;
    }
    std::string buf(t_.substr(s, p_ - s));
    double d = std::strtod(buf.c_str(), nullptr);
    if (is_int && std::fabs(d) > 9.2e18) is_int = false;
    out = Json::number(d, is_int);
    return true;
  }

  bool hex4(uint32_t& v) {
    if (p_ + 4 > t_.size()) return fail("truncated \\u escape");
    v = 0;
    for (int i = 0; i < 4; ++i) {
      char c = t_[p_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f') v |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= uint32_t(c - 'A' + 10);
      else return fail("invalid \\u escape");
    }
    return true;
  }

  bool string(std::string& out) {
    ++p_;  // opening quote
    while (true) {
      size_t run = p_;
      while (p_ < t_.size() && t_[p_] != '"' && t_[p_] != '\\' && uint8_t(t_[p_]) >= 0x20) ++p_;
      out.append(t_.data() + run, p_ - run);
      if (p_ >= t_.size()) return fail("unterminated string");
      char c = t_[p_];
      if (c == '"') { ++p_; return true; }
      if (uint8_t(c) < 0x20) return fail("control character in string");
      ++p_;  // backslash
      if (p_ >= t_.size()) return fail("unterminated string");
      char e = t_[p_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp < 0xdc00) {
            const size_t save = p_;
            uint32_t lo;
            if (p_ + 1 < t_.size() && t_[p_] == '\\' && t_[p_ + 1] == 'u') {
              p_ += 2;
              if (!hex4(lo)) return false;
              if (lo >= 0xdc00 && lo < 0xe000) {
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
              } else {
                p_ = save;  // a lone high surrogate; the next escape is parsed on its own
                cp = 0xfffd;
              }
            } else {
              cp = 0xfffd;  // lone high surrogate
            }
          } else if (cp >= 0xdc00 && cp < 0xe000) {
            cp = 0xfffd;  // lone low surrogate
          }
          append_utf8(out, cp);
          break;
        }
        default: return fail("invalid escape in string");
      }
    }
  }

  bool array(Json& out, int depth) {
    ++p_;
    Json::Array a;
    skip_ws();
    if (p_ < t_.size() && t_[p_] == ']') { ++p_; out = Json::array(std::move(a)); return true; }
    while (true) {
      skip_ws();
      Json v;
      if (!value(v, depth + 1)) return false;
      a.push_back(std::move(v));
      skip_ws();
      if (p_ >= t_.size()) return fail("unterminated array");
      if (t_[p_] == ',') { ++p_; continue; }
      if (t_[p_] == ']') { ++p_; break; }
      return fail("expected ',' or ']' in array");
    }
    out = Json::array(std::move(a));
    return true;
  }

  bool object(Json& out, int depth) {
    ++p_;
    Json::Object o;
    skip_ws();
    if (p_ < t_.size() && t_[p_] == '}') { ++p_; out = Json::object(std::move(o)); return true; }
    while (true) {
      skip_ws();
      if (p_ >= t_.size() || t_[p_] != '"') return fail("expected a string key in object");
      std::string key;
      if (!string(key)) return false;
      skip_ws();
      if (p_ >= t_.size() || t_[p_] != ':') return fail("expected ':' after object key");
      ++p_;
      skip_ws();
      Json v;
      if (!value(v, depth + 1)) return false;
      o.emplace_back(std::move(key), std::move(v));
      skip_ws();
      if (p_ >= t_.size()) return fail("unterminated object");
      if (t_[p_] == ',') { ++p_; continue; }
      if (t_[p_] == '}') { ++p_; break; }
      return fail("expected ',' or '}' in object");
    }
    out = Json::object(std::move(o));
    return true;
  }
};

}  // namespace

Result<Json> parse_json(std::string_view text, const std::string& what) {
  Parser p(text, what);
  return p.parse_document();
}

Result<std::string> read_text_file(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return err(path, ": cannot open file");
  std::string s;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  bool bad = std::ferror(f);
  std::fclose(f);
  if (bad) return err(path, ": read error");
  return s;
}

Result<Json> read_json_file(const std::string& path) {
  HEARTH_ASSIGN(std::string text, read_text_file(path));
  return parse_json(text, path);
}

}  // namespace hearth
