// GBNF text -> byte-level Grammar: a recursive-descent parser into a small tree, then lowering
// (literals to byte sequences, character classes to UTF-8 byte-range alternatives, repetitions
// and groups to generated rules) and the checks named in grammar.h.
#include <algorithm>
#include <functional>
#include <map>
#include <memory>

#include "grammar/grammar.h"

namespace hearth {

namespace {

constexpr int kMaxRepeat = 10000;
constexpr size_t kMaxSymbols = 200000;
constexpr uint32_t kMaxCodePoint = 0x10FFFF;

struct Node;
using Seq = std::vector<Node>;
using Alts = std::vector<Seq>;

struct Node {
  enum class Kind { Literal, Class, Ref, Group } kind = Kind::Literal;
  std::vector<uint32_t> chars;                    // Literal
  std::vector<std::pair<uint32_t, uint32_t>> ranges;  // Class (inclusive), after negation
  std::string ref;                                // Ref
  std::shared_ptr<Alts> group;                    // Group
  int min = 1, max = 1;                           // max -1 = unbounded
};

void append_utf8(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += char(cp);
  } else if (cp < 0x800) {
    out += char(0xC0 | (cp >> 6));
    out += char(0x80 | (cp & 63));
  } else if (cp < 0x10000) {
    out += char(0xE0 | (cp >> 12));
    out += char(0x80 | ((cp >> 6) & 63));
    out += char(0x80 | (cp & 63));
  } else {
    out += char(0xF0 | (cp >> 18));
    out += char(0x80 | ((cp >> 12) & 63));
    out += char(0x80 | ((cp >> 6) & 63));
    out += char(0x80 | (cp & 63));
  }
}

// Sorted, merged, without surrogates; negated within [0, 0x10FFFF].
std::vector<std::pair<uint32_t, uint32_t>> normalize_ranges(std::vector<std::pair<uint32_t, uint32_t>> r, bool negate) {
  std::sort(r.begin(), r.end());
  std::vector<std::pair<uint32_t, uint32_t>> merged;
  for (auto [lo, hi] : r) {
    if (!merged.empty() && lo <= merged.back().second + 1) merged.back().second = std::max(merged.back().second, hi);
    else merged.push_back({lo, hi});
  }
  if (negate) {
    std::vector<std::pair<uint32_t, uint32_t>> inv;
    uint32_t next = 0;
    for (auto [lo, hi] : merged) {
      if (lo > next) inv.push_back({next, lo - 1});
      next = hi + 1;
    }
    if (next <= kMaxCodePoint) inv.push_back({next, kMaxCodePoint});
    merged.swap(inv);
  }
  std::vector<std::pair<uint32_t, uint32_t>> out;
  for (auto [lo, hi] : merged) {  // cut out the surrogates, which UTF-8 cannot encode
    if (hi < 0xD800 || lo > 0xDFFF) { out.push_back({lo, hi}); continue; }
    if (lo < 0xD800) out.push_back({lo, 0xD7FF});
    if (hi > 0xDFFF) out.push_back({0xE000, hi});
  }
  return out;
}

using ByteRanges = std::vector<std::pair<uint8_t, uint8_t>>;

// The UTF-8 encodings of the code points lo..hi as sequences of byte ranges (each sequence
// matches a contiguous block of code points whose encodings differ only within the ranges).
void utf8_sequences(uint32_t lo, uint32_t hi, std::vector<ByteRanges>& out) {
  for (uint32_t b : {0x7Fu, 0x7FFu, 0xFFFFu}) {
    if (lo <= b && b < hi) {
      utf8_sequences(lo, b, out);
      utf8_sequences(b + 1, hi, out);
      return;
    }
  }
  std::string a, z;
  append_utf8(a, lo);
  append_utf8(z, hi);
  const size_t n = a.size();
  for (size_t i = 1; i < n; ++i) {
    const uint32_t m = (uint32_t(1) << (6 * i)) - 1;
    if ((lo & ~m) != (hi & ~m)) {
      if ((lo & m) != 0) {
        utf8_sequences(lo, lo | m, out);
        utf8_sequences((lo | m) + 1, hi, out);
        return;
      }
      if ((hi & m) != m) {
        utf8_sequences(lo, (hi & ~m) - 1, out);
        utf8_sequences(hi & ~m, hi, out);
        return;
      }
    }
  }
  ByteRanges seq;
  for (size_t i = 0; i < n; ++i) seq.push_back({uint8_t(a[i]), uint8_t(z[i])});
  out.push_back(seq);
}

class Parser {
 public:
  Parser(std::string_view text, const std::string& what) : s_(text), what_(what) {}

  Status parse(std::vector<std::pair<std::string, Alts>>* rules) {
    skip();
    while (p_ < s_.size()) {
      const size_t at = p_;
      std::string name = name_at(p_);
      if (name.empty()) return fail("expected a rule name");
      p_ += name.size();
      skip();
      if (s_.substr(p_, 3) != "::=") return fail("expected ::= after rule name " + name);
      p_ += 3;
      HEARTH_ASSIGN(Alts alts, alternatives(false));
      for (const auto& r : *rules) {
        if (r.first == name) {
          p_ = at;
          return fail("rule " + name + " is defined twice");
        }
      }
      rules->push_back({name, std::move(alts)});
    }
    return {};
  }

 private:
  std::string_view s_;
  const std::string& what_;
  size_t p_ = 0;

  Error fail(const std::string& msg) const {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < p_ && i < s_.size(); ++i) {
      if (s_[i] == '\n') { ++line; col = 1; } else { ++col; }
    }
    return err(what_, ":", line, ":", col, ": ", msg);
  }
  static bool name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  }
  std::string name_at(size_t i) const {
    size_t j = i;
    while (j < s_.size() && name_char(s_[j])) ++j;
    return std::string(s_.substr(i, j - i));
  }
  void skip() {
    while (p_ < s_.size()) {
      const char c = s_[p_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { ++p_; continue; }
      if (c == '#') {
        while (p_ < s_.size() && s_[p_] != '\n') ++p_;
        continue;
      }
      break;
    }
  }
  // Whether a new rule starts at p_ ("name ::=").
  bool at_rule_start() const {
    std::string n = name_at(p_);
    if (n.empty()) return false;
    size_t j = p_ + n.size();
    while (j < s_.size() && (s_[j] == ' ' || s_[j] == '\t' || s_[j] == '\n' || s_[j] == '\r')) ++j;
    return s_.substr(j, 3) == "::=";
  }

  Result<Alts> alternatives(bool nested) {
    Alts alts;
    while (true) {
      Seq seq;
      skip();
      while (p_ < s_.size() && s_[p_] != '|' && s_[p_] != ')' && !at_rule_start()) {
        HEARTH_ASSIGN(Node n, element(nested));
        seq.push_back(std::move(n));
        skip();
      }
      alts.push_back(std::move(seq));
      if (p_ < s_.size() && s_[p_] == '|') {
        ++p_;
        continue;
      }
      return alts;
    }
  }

  Result<uint32_t> utf8_char() {
    const uint8_t c = uint8_t(s_[p_]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || p_ + n > s_.size()) return fail("invalid UTF-8");
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 31) : n == 3 ? (c & 15) : (c & 7);
    for (size_t i = 1; i < n; ++i) {
      const uint8_t d = uint8_t(s_[p_ + i]);
      if ((d >> 6) != 2) return fail("invalid UTF-8");
      cp = (cp << 6) | (d & 63);
    }
    p_ += n;
    return cp;
  }

  Result<uint32_t> hex(int digits) {
    uint32_t v = 0;
    for (int i = 0; i < digits; ++i, ++p_) {
      if (p_ >= s_.size()) return fail("unfinished escape");
      const char c = s_[p_];
      const int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return fail("expected a hex digit in an escape");
      v = v * 16 + uint32_t(d);
    }
    if (v > kMaxCodePoint) return fail("escape beyond U+10FFFF");
    return v;
  }

  // One character of a literal or class, escapes decoded.
  Result<uint32_t> char_or_escape() {
    if (p_ >= s_.size()) return fail("unterminated literal or class");
    if (s_[p_] != '\\') return utf8_char();
    if (++p_ >= s_.size()) return fail("unfinished escape");
    const char e = s_[p_++];
    switch (e) {
      case 'n': return uint32_t('\n');
      case 'r': return uint32_t('\r');
      case 't': return uint32_t('\t');
      case 'x': return hex(2);
      case 'u': return hex(4);
      case 'U': return hex(8);
      case '\\': case '"': case '\'': case '[': case ']': case '-': case '^': case '/': return uint32_t(uint8_t(e));
      default: --p_; return fail(std::string("unknown escape \\") + e);
    }
  }

  Result<Node> element(bool nested) {
    Node n;
    const char c = s_[p_];
    if (c == '"') {
      ++p_;
      n.kind = Node::Kind::Literal;
      while (true) {
        if (p_ >= s_.size() || s_[p_] == '\n') return fail("unterminated string literal");
        if (s_[p_] == '"') { ++p_; break; }
        HEARTH_ASSIGN(uint32_t cp, char_or_escape());
        n.chars.push_back(cp);
      }
    } else if (c == '[') {
      ++p_;
      n.kind = Node::Kind::Class;
      bool negate = false;
      if (p_ < s_.size() && s_[p_] == '^') { negate = true; ++p_; }
      std::vector<std::pair<uint32_t, uint32_t>> r;
      while (true) {
        if (p_ >= s_.size()) return fail("unterminated character class");
        if (s_[p_] == ']') { ++p_; break; }
        HEARTH_ASSIGN(uint32_t lo, char_or_escape());
        uint32_t hi = lo;
        if (p_ + 1 < s_.size() && s_[p_] == '-' && s_[p_ + 1] != ']') {
          ++p_;
          HEARTH_ASSIGN(hi, char_or_escape());
          if (hi < lo) return fail("character range is backwards");
        }
        r.push_back({lo, hi});
      }
      n.ranges = normalize_ranges(std::move(r), negate);
      if (n.ranges.empty()) return fail("character class matches nothing");
    } else if (c == '.') {
      ++p_;
      n.kind = Node::Kind::Class;
      n.ranges = normalize_ranges({{0, kMaxCodePoint}}, false);
    } else if (c == '(') {
      ++p_;
      n.kind = Node::Kind::Group;
      HEARTH_ASSIGN(Alts a, alternatives(true));
      if (p_ >= s_.size() || s_[p_] != ')') return fail("expected )");
      ++p_;
      n.group = std::make_shared<Alts>(std::move(a));
    } else if (name_char(c)) {
      n.kind = Node::Kind::Ref;
      n.ref = name_at(p_);
      p_ += n.ref.size();
    } else {
      return fail(std::string("unexpected character '") + c + "'");
    }
    HEARTH_CHECK(postfix(&n));
    return n;
  }

  Result<int> count() {
    size_t j = p_;
    int64_t v = 0;
    while (j < s_.size() && s_[j] >= '0' && s_[j] <= '9' && v <= kMaxRepeat) v = v * 10 + (s_[j++] - '0');
    if (j == p_) return fail("expected a repetition count");
    if (v > kMaxRepeat) return fail("repetition count above 10000");
    p_ = j;
    return int(v);
  }

  Status postfix(Node* n) {
    if (p_ >= s_.size()) return {};
    const char c = s_[p_];
    if (c == '*') { n->min = 0; n->max = -1; ++p_; }
    else if (c == '+') { n->min = 1; n->max = -1; ++p_; }
    else if (c == '?') { n->min = 0; n->max = 1; ++p_; }
    else if (c == '{') {
      ++p_;
      skip();
      HEARTH_ASSIGN(n->min, count());
      skip();
      n->max = n->min;
      if (p_ < s_.size() && s_[p_] == ',') {
        ++p_;
        skip();
        if (p_ < s_.size() && s_[p_] == '}') n->max = -1;
        else {
          HEARTH_ASSIGN(n->max, count());
          if (n->max < n->min) return fail("repetition {m,n} with n < m");
        }
        skip();
      }
      if (p_ >= s_.size() || s_[p_] != '}') return fail("expected } after a repetition count");
      ++p_;
    }
    return {};
  }
};

// Lowers parsed rules into the byte-level Grammar.
class Lowering {
 public:
  using Sym = Grammar::Symbol;
  using K = Grammar::Kind;

  Status run(const std::vector<std::pair<std::string, Alts>>& rules, Grammar* g) {
    g_ = g;
    for (const auto& r : rules) {
      ids_[r.first] = uint32_t(alts_.size());
      alts_.emplace_back();
      g->rule_names.push_back(r.first);
    }
    auto root = ids_.find("root");
    if (root == ids_.end()) return err("the grammar has no rule named root");
    g->root = root->second;
    for (size_t i = 0; i < rules.size(); ++i) {
      current_ = rules[i].first;
      for (const Seq& s : rules[i].second) {
        HEARTH_ASSIGN(std::vector<Sym> seq, lower_seq(s));
        alts_[i].push_back(std::move(seq));
      }
    }
    g->rule_alts.resize(alts_.size());
    for (size_t r = 0; r < alts_.size(); ++r) {
      for (auto& alt : alts_[r]) {
        g->rule_alts[r].push_back(uint32_t(g->symbols.size()));
        g->symbols.insert(g->symbols.end(), alt.begin(), alt.end());
        g->symbols.push_back(Sym{K::End, 0});
        if (g->symbols.size() > kMaxSymbols) return err("the grammar is too large (over ", kMaxSymbols, " symbols)");
      }
    }
    return {};
  }

 private:
  Grammar* g_ = nullptr;
  std::map<std::string, uint32_t> ids_;
  std::vector<std::vector<std::vector<Sym>>> alts_;
  std::map<std::array<uint64_t, 4>, uint32_t> set_ids_;
  std::string current_;
  size_t generated_ = 0;

  uint32_t new_rule() {
    alts_.emplace_back();
    g_->rule_names.push_back(current_ + "-" + std::to_string(++generated_));
    return uint32_t(alts_.size() - 1);
  }
  Sym bytes(const ByteSet& s) {
    auto [it, fresh] = set_ids_.try_emplace(s.bits, uint32_t(g_->sets.size()));
    if (fresh) g_->sets.push_back(s);
    return Sym{K::Bytes, it->second};
  }
  Sym byte(uint8_t b) {
    ByteSet s;
    s.add(b);
    return bytes(s);
  }

  // The node without its repetition, appended to `out`.
  Status lower_once(const Node& n, std::vector<Sym>& out) {
    switch (n.kind) {
      case Node::Kind::Literal: {
        std::string text;
        for (uint32_t cp : n.chars) append_utf8(text, cp);
        for (char c : text) out.push_back(byte(uint8_t(c)));
        return {};
      }
      case Node::Kind::Class: {
        std::vector<ByteRanges> seqs;
        for (auto [lo, hi] : n.ranges) utf8_sequences(lo, hi, seqs);
        ByteSet single;
        bool any_single = false;
        std::vector<std::vector<Sym>> multi;
        for (const ByteRanges& s : seqs) {
          if (s.size() == 1) {
            single.add_range(s[0].first, s[0].second);
            any_single = true;
            continue;
          }
          std::vector<Sym> alt;
          for (auto [a, b] : s) {
            ByteSet bs;
            bs.add_range(a, b);
            alt.push_back(bytes(bs));
          }
          multi.push_back(std::move(alt));
        }
        if (multi.empty()) {
          out.push_back(bytes(single));
          return {};
        }
        const uint32_t r = new_rule();
        if (any_single) alts_[r].push_back({bytes(single)});
        for (auto& a : multi) alts_[r].push_back(std::move(a));
        out.push_back(Sym{K::Ref, r});
        return {};
      }
      case Node::Kind::Ref: {
        auto it = ids_.find(n.ref);
        if (it == ids_.end()) return err("rule ", current_, " refers to undefined rule ", n.ref);
        out.push_back(Sym{K::Ref, it->second});
        return {};
      }
      case Node::Kind::Group: {
        const uint32_t r = new_rule();
        for (const Seq& s : *n.group) {
          HEARTH_ASSIGN(std::vector<Sym> seq, lower_seq(s));
          alts_[r].push_back(std::move(seq));
        }
        out.push_back(Sym{K::Ref, r});
        return {};
      }
    }
    return {};
  }

  // The node as one symbol (a rule around it when it takes several).
  Result<Sym> one_symbol(const Node& n) {
    std::vector<Sym> seq;
    HEARTH_CHECK(lower_once(n, seq));
    if (seq.size() == 1) return seq[0];
    const uint32_t r = new_rule();
    alts_[r].push_back(std::move(seq));
    return Sym{K::Ref, r};
  }

  Result<std::vector<Sym>> lower_seq(const Seq& s) {
    std::vector<Sym> out;
    for (const Node& n : s) {
      if (n.min == 1 && n.max == 1) {
        HEARTH_CHECK(lower_once(n, out));
        continue;
      }
      HEARTH_ASSIGN(Sym x, one_symbol(n));
      for (int i = 0; i < n.min; ++i) out.push_back(x);
      if (n.max < 0) {  // star ::= x star | (empty)
        const uint32_t star = new_rule();
        alts_[star].push_back({x, Sym{K::Ref, star}});
        alts_[star].push_back({});
        out.push_back(Sym{K::Ref, star});
      } else if (n.max > n.min) {  // opt_k ::= x opt_{k-1} | (empty)
        uint32_t prev = 0;
        for (int k = 1; k <= n.max - n.min; ++k) {
          const uint32_t opt = new_rule();
          if (k == 1) alts_[opt].push_back({x});
          else alts_[opt].push_back({x, Sym{K::Ref, prev}});
          alts_[opt].push_back({});
          prev = opt;
        }
        out.push_back(Sym{K::Ref, prev});
      }
      if (out.size() > kMaxSymbols) return err("the grammar is too large (over ", kMaxSymbols, " symbols)");
    }
    return out;
  }
};

// Left recursion, also through rules that can match nothing: the matcher would loop on it.
Status check_left_recursion(const Grammar& g) {
  const size_t n = g.rule_alts.size();
  std::vector<char> nullable(n, 0);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t r = 0; r < n; ++r) {
      if (nullable[r]) continue;
      for (uint32_t a : g.rule_alts[r]) {
        bool all = true;
        for (uint32_t i = a; g.symbols[i].kind != Grammar::Kind::End; ++i) {
          const auto& s = g.symbols[i];
          if (s.kind == Grammar::Kind::Bytes || !nullable[s.arg]) { all = false; break; }
        }
        if (all) { nullable[r] = 1; changed = true; break; }
      }
    }
  }
  std::vector<std::vector<uint32_t>> edges(n);
  for (size_t r = 0; r < n; ++r) {
    for (uint32_t a : g.rule_alts[r]) {
      for (uint32_t i = a; g.symbols[i].kind == Grammar::Kind::Ref; ++i) {
        edges[r].push_back(g.symbols[i].arg);
        if (!nullable[g.symbols[i].arg]) break;
      }
    }
  }
  std::vector<char> color(n, 0);  // 0 new, 1 on the path, 2 done
  std::vector<std::pair<uint32_t, size_t>> stack;
  for (uint32_t start = 0; start < n; ++start) {
    if (color[start]) continue;
    stack.push_back({start, 0});
    color[start] = 1;
    while (!stack.empty()) {
      auto& [r, next] = stack.back();
      if (next == edges[r].size()) {
        color[r] = 2;
        stack.pop_back();
        continue;
      }
      const uint32_t s = edges[r][next++];
      if (color[s] == 1) {
        return err("rule ", g.rule_names[s], " is left-recursive: it can reach itself before matching any "
                   "character (also through a repetition of something that can match nothing)");
      }
      if (color[s] == 0) {
        color[s] = 1;
        stack.push_back({s, 0});
      }
    }
  }
  return {};
}

}  // namespace

Result<Grammar> parse_gbnf(std::string_view text, const std::string& what) {
  std::vector<std::pair<std::string, Alts>> rules;
  Parser p(text, what);
  HEARTH_CHECK(p.parse(&rules));
  Grammar g;
  Lowering low;
  Status s = low.run(rules, &g);
  if (!s.ok()) return err(what, ": ", s.message());
  s = check_left_recursion(g);
  if (!s.ok()) return err(what, ": ", s.message());
  return g;
}

}  // namespace hearth
