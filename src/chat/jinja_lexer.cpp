// Jinja lexer: template text -> tokens, with the whitespace rules transformers sets
// (trim_blocks: drop the newline after a block or comment tag; lstrip_blocks: drop spaces and
// tabs before a block or comment tag that starts a line; "-" strips all whitespace on that
// side, "+" turns the block rules off; a single trailing newline of the source is dropped;
// \r\n and \r become \n).
#include <cerrno>
#include <cctype>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

class Lexer {
 public:
  explicit Lexer(std::string_view src) {
    // Jinja turns every \r\n and \r into \n (text and string literals alike).
    normalized_.reserve(src.size());
    for (size_t i = 0; i < src.size(); ++i) {
      if (src[i] == '\r') {
        normalized_ += '\n';
        if (i + 1 < src.size() && src[i + 1] == '\n') ++i;
      } else {
        normalized_ += src[i];
      }
    }
    src_ = normalized_;
  }

  Result<std::vector<Token>> run() {
    if (!src_.empty() && src_.back() == '\n') src_.remove_suffix(1);
    while (pos_ < src_.size()) {
      size_t p = find_tag(pos_);
      std::string text(src_.substr(pos_, p - pos_));
      if (p == src_.size()) {
        emit_text(std::move(text), pos_);
        break;
      }
      const char kind = src_[p + 1];
      const char mod = (p + 2 < src_.size() && (src_[p + 2] == '-' || src_[p + 2] == '+')) ? src_[p + 2] : 0;
      if (mod == '-') {
        size_t e = text.size();
        while (e > 0 && is_space(text[e - 1])) --e;
        text.resize(e);
      } else if (mod != '+' && kind != '{') {
        // lstrip_blocks: only spaces/tabs between the line start and the tag.
        const size_t nl = text.rfind('\n');
        const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
        if (l_pos > 0 || line_starting_) {
          bool blank = l_pos < text.size();
          for (size_t i = l_pos; i < text.size() && blank; ++i) blank = is_space(text[i]);
          if (blank) text.resize(l_pos);
        }
      }
      emit_text(std::move(text), pos_);
      line_ += count_lines(pos_, p);
      pos_ = p + 2 + (mod ? 1 : 0);
      if (kind == '#') {
        HEARTH_CHECK(comment());
      } else {
        HEARTH_CHECK(tag(kind == '{'));
      }
    }
    Token eof;
    eof.kind = TokKind::Eof;
    eof.line = line_;
    out_.push_back(eof);
    return std::move(out_);
  }

 private:
  size_t find_tag(size_t from) const {
    for (size_t i = from; i + 1 < src_.size(); ++i)
      if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#')) return i;
    return src_.size();
  }
  int count_lines(size_t a, size_t b) const {
    int n = 0;
    for (size_t i = a; i < b && i < src_.size(); ++i) n += src_[i] == '\n';
    return n;
  }
  void emit_text(std::string text, size_t at) {
    if (text.empty()) return;
    Token t;
    t.kind = TokKind::Text;
    t.text = std::move(text);
    t.line = line_;
    (void)at;
    out_.push_back(std::move(t));
  }
  // After a closing delimiter: '-' strips all following whitespace; a block/comment end
  // without '+' drops one newline (trim_blocks).
  void after_end(char mod, bool block_like) {
    const size_t start = pos_;
    if (mod == '-') {
      while (pos_ < src_.size() && is_space(src_[pos_])) ++pos_;
    } else if (mod != '+' && block_like) {
      if (pos_ < src_.size() && src_[pos_] == '\n') ++pos_;
    }
    line_ += count_lines(start, pos_);
    line_starting_ = pos_ > start && src_[pos_ - 1] == '\n';
  }

  Status comment() {
    const size_t e = src_.find("#}", pos_);
    if (e == std::string_view::npos) return err("chat template line ", line_, ": unclosed comment {# ... #}");
    const char mod = (e > pos_ && (src_[e - 1] == '-' || src_[e - 1] == '+')) ? src_[e - 1] : 0;
    line_ += count_lines(pos_, e);
    pos_ = e + 2;
    after_end(mod, true);
    return {};
  }

  // A {{ ... }} or {% ... %}: expression tokens up to the closing delimiter (a delimiter inside
  // open brackets does not close, as in Jinja).
  Status tag(bool variable) {
    push(variable ? TokKind::VarBegin : TokKind::BlockBegin, "");
    const size_t tag_start_index = out_.size();
    int depth = 0;
    while (true) {
      while (pos_ < src_.size() && is_space(src_[pos_])) {
        line_ += src_[pos_] == '\n';
        ++pos_;
      }
      if (pos_ >= src_.size())
        return err("chat template line ", line_, ": unclosed ", variable ? "{{ ... }}" : "{% ... %}");
      if (depth == 0) {
        const std::string_view rest = src_.substr(pos_);
        const char* close = variable ? "}}" : "%}";
        char mod = 0;
        size_t len = 0;
        if ((rest[0] == '-' || rest[0] == '+') && rest.substr(1, 2) == close) {
          mod = rest[0];
          len = 3;
        } else if (rest.substr(0, 2) == close) {
          len = 2;
        }
        if (len) {
          pos_ += len;
          push(variable ? TokKind::VarEnd : TokKind::BlockEnd, "");
          // {% raw %}: the text up to {% endraw %} is literal.
          if (!variable && out_.size() == tag_start_index + 2 && out_[tag_start_index].kind == TokKind::Name &&
              out_[tag_start_index].text == "raw") {
            out_.resize(tag_start_index - 1);
            return raw(mod);
          }
          after_end(mod, !variable);
          return {};
        }
      }
      const char c = src_[pos_];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        size_t e = pos_;
        while (e < src_.size() && (std::isalnum(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
        push(TokKind::Name, std::string(src_.substr(pos_, e - pos_)));
        pos_ = e;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        HEARTH_CHECK(number());
      } else if (c == '\'' || c == '"') {
        HEARTH_CHECK(string(c));
      } else {
        static const char* const two[] = {"//", "**", "==", "!=", "<=", ">="};
        std::string op(1, c);
        for (const char* t : two)
          if (src_.substr(pos_, 2) == t) op = t;
        if (std::string("+-*/%~<>=.,:|()[]{}!").find(c) == std::string::npos)
          return err("chat template line ", line_, ": unexpected character '", std::string(1, c), "'");
        if (op == "!") return err("chat template line ", line_, ": unexpected character '!'");
        if (op == "(" || op == "[" || op == "{") ++depth;
        if ((op == ")" || op == "]" || op == "}") && depth > 0) --depth;
        push(TokKind::Op, op);
        pos_ += op.size();
      }
    }
  }

  Status raw(char open_mod) {
    after_end(open_mod, true);
    // Find {% endraw %} (with optional whitespace control).
    size_t search = pos_;
    while (true) {
      const size_t p = src_.find("{%", search);
      if (p == std::string_view::npos) return err("chat template line ", line_, ": {% raw %} without {% endraw %}");
      size_t q = p + 2;
      char mod_in = 0;
      if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) mod_in = src_[q++];
      while (q < src_.size() && is_space(src_[q])) ++q;
      if (src_.substr(q, 6) == "endraw") {
        q += 6;
        while (q < src_.size() && is_space(src_[q])) ++q;
        char mod_out = 0;
        if (q < src_.size() && (src_[q] == '-' || src_[q] == '+')) mod_out = src_[q++];
        if (src_.substr(q, 2) != "%}") return err("chat template line ", line_, ": malformed {% endraw %}");
        std::string text(src_.substr(pos_, p - pos_));
        if (mod_in == '-') {
          size_t e = text.size();
          while (e > 0 && is_space(text[e - 1])) --e;
          text.resize(e);
        }
        emit_text(std::move(text), pos_);
        line_ += count_lines(pos_, q + 2);
        pos_ = q + 2;
        after_end(mod_out, true);
        return {};
      }
      search = p + 2;
    }
  }

  Status number() {
    size_t e = pos_;
    bool is_float = false;
    auto digits = [&]() {
      while (e < src_.size() && (std::isdigit(static_cast<unsigned char>(src_[e])) || src_[e] == '_')) ++e;
    };
    digits();
    if (e + 1 < src_.size() && src_[e] == '.' && std::isdigit(static_cast<unsigned char>(src_[e + 1]))) {
      is_float = true;
      ++e;
      digits();
    }
    if (e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
      size_t k = e + 1;
      if (k < src_.size() && (src_[k] == '+' || src_[k] == '-')) ++k;
      if (k < src_.size() && std::isdigit(static_cast<unsigned char>(src_[k]))) {
        is_float = true;
        e = k;
        digits();
      }
    }
    std::string lit;
    for (size_t i = pos_; i < e; ++i)
      if (src_[i] != '_') lit += src_[i];
    Token t;
    t.kind = is_float ? TokKind::Float : TokKind::Int;
    t.text = lit;
    t.line = line_;
    if (is_float) {
      t.f = std::strtod(lit.c_str(), nullptr);
    } else {
      errno = 0;
      t.i = std::strtoll(lit.c_str(), nullptr, 10);
      if (errno == ERANGE) return err("chat template line ", line_, ": integer literal ", lit, " is too large (limit 2^63 - 1)");
    }
    out_.push_back(std::move(t));
    pos_ = e;
    return {};
  }

  // A string literal with Python's escapes (\n \t \\ \' \" \xhh \uXXXX \UXXXXXXXX, octal);
  // unknown escapes stay as written.
  Status string(char quote) {
    std::string v;
    size_t i = pos_ + 1;
    const int start_line = line_;
    while (true) {
      if (i >= src_.size()) return err("chat template line ", start_line, ": unterminated string literal");
      const char c = src_[i];
      if (c == quote) break;
      if (c == '\n') ++line_;
      if (c != '\\' || i + 1 >= src_.size()) {
        v += c;
        ++i;
        continue;
      }
      const char e = src_[i + 1];
      i += 2;
      auto hex = [&](size_t n) -> bool {
        if (i + n > src_.size()) return false;
        uint32_t cp = 0;
        for (size_t k = 0; k < n; ++k) {
          const char h = src_[i + k];
          if (!std::isxdigit(static_cast<unsigned char>(h))) return false;
          cp = cp * 16 + uint32_t(std::isdigit(static_cast<unsigned char>(h)) ? h - '0' : (std::tolower(h) - 'a' + 10));
        }
        append_utf8(v, cp);
        i += n;
        return true;
      };
      switch (e) {
        case 'n': v += '\n'; break;
        case 't': v += '\t'; break;
        case 'r': v += '\r'; break;
        case '\\': v += '\\'; break;
        case '\'': v += '\''; break;
        case '"': v += '"'; break;
        case 'a': v += '\a'; break;
        case 'b': v += '\b'; break;
        case 'f': v += '\f'; break;
        case 'v': v += '\v'; break;
        case '\n': ++line_; break;  // line continuation
        case 'x':
          if (!hex(2)) v += "\\x";
          break;
        case 'u':
          if (!hex(4)) v += "\\u";
          break;
        case 'U':
          if (!hex(8)) v += "\\U";
          break;
        default:
          if (e >= '0' && e <= '7') {
            uint32_t cp = uint32_t(e - '0');
            for (int k = 0; k < 2 && i < src_.size() && src_[i] >= '0' && src_[i] <= '7'; ++k)
              cp = cp * 8 + uint32_t(src_[i++] - '0');
            append_utf8(v, cp);
          } else {
            v += '\\';
            v += e;
          }
      }
    }
    Token t;
    t.kind = TokKind::String;
    t.text = std::move(v);
    t.line = start_line;
    out_.push_back(std::move(t));
    pos_ = i + 1;
    return {};
  }

  void push(TokKind k, std::string text) {
    Token t;
    t.kind = k;
    t.text = std::move(text);
    t.line = line_;
    out_.push_back(std::move(t));
  }

  std::string normalized_;
  std::string_view src_;
  size_t pos_ = 0;
  int line_ = 1;
  bool line_starting_ = true;
  std::vector<Token> out_;
};

}  // namespace

Result<std::vector<Token>> lex_template(std::string_view source) { return Lexer(source).run(); }

}  // namespace hearth::jinja
