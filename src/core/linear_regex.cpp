// LinearRegex: pattern -> syntax tree -> NFA program; full_match steps a set of NFA states
// over the text, adding each state at most once per position (so O(text x program)).
#include "core/linear_regex.h"

#include <memory>

namespace hearth {

namespace {

constexpr int kMaxNesting = 100;       // groups inside groups
constexpr size_t kMaxProgram = 20000;  // instructions after expanding {n,m}
constexpr int kMaxRepeat = 1000;       // n and m of {n,m}

struct Node {
  enum class Kind { Empty, Byte, Class, Concat, Alt, Repeat, Start, End };
  Kind kind = Kind::Empty;
  uint8_t byte = 0;
  std::vector<bool> cls;  // Class: 256 flags
  std::vector<std::unique_ptr<Node>> kids;
  int min = 0, max = 0;   // Repeat: max -1 = unbounded
};
using NodePtr = std::unique_ptr<Node>;

class Parser {
 public:
  explicit Parser(std::string_view p) : p_(p) {}

  Result<NodePtr> run() {
    HEARTH_ASSIGN(NodePtr n, alternation(0));
    if (pos_ < p_.size()) return fail("unbalanced ')'");
    return n;
  }

 private:
  std::string_view p_;
  size_t pos_ = 0;

  Error fail(const std::string& what) const {
    return err("regular expression \"", std::string(p_), "\": ", what, " at position ", pos_);
  }
  bool at(char c) const { return pos_ < p_.size() && p_[pos_] == c; }

  Result<NodePtr> alternation(int depth) {
    if (depth > kMaxNesting) return fail("groups nested too deeply");
    auto alt = std::make_unique<Node>();
    alt->kind = Node::Kind::Alt;
    while (true) {
      HEARTH_ASSIGN(NodePtr c, concat(depth));
      alt->kids.push_back(std::move(c));
      if (!at('|')) break;
      ++pos_;
    }
    if (alt->kids.size() == 1) return std::move(alt->kids[0]);
    return alt;
  }

  Result<NodePtr> concat(int depth) {
    auto cat = std::make_unique<Node>();
    cat->kind = Node::Kind::Concat;
    while (pos_ < p_.size() && !at('|') && !at(')')) {
      HEARTH_ASSIGN(NodePtr atom_node, atom(depth));
      HEARTH_ASSIGN(atom_node, quantified(std::move(atom_node)));
      cat->kids.push_back(std::move(atom_node));
    }
    return cat;
  }

  // An optional quantifier after an atom (a lazy '?' after it changes nothing here). Another
  // quantifier right after is an error, as in Python ("multiple repeat").
  Result<NodePtr> quantified(NodePtr a) {
    if (pos_ >= p_.size()) return a;
    int mn = 0, mx = -1;
    const char c = p_[pos_];
    if (c == '*') { mn = 0; mx = -1; ++pos_; }
    else if (c == '+') { mn = 1; mx = -1; ++pos_; }
    else if (c == '?') { mn = 0; mx = 1; ++pos_; }
    else if (c == '{' && brace_counts(&mn, &mx)) {}
    else return a;
    if (at('?')) ++pos_;
    if (a->kind == Node::Kind::Start || a->kind == Node::Kind::End) return fail("nothing to repeat");
    if (mx >= 0 && mx < mn) return fail("min repeat greater than max repeat");
    if (pos_ < p_.size() && (at('*') || at('+') || at('?') || at('{'))) {
      int m1, m2;
      const size_t save = pos_;
      if (!at('{') || brace_counts(&m1, &m2)) return fail("multiple repeat");
      pos_ = save;
    }
    auto r = std::make_unique<Node>();
    r->kind = Node::Kind::Repeat;
    r->min = mn;
    r->max = mx;
    r->kids.push_back(std::move(a));
    return r;
  }

  // {n}, {n,}, {n,m}; false (nothing consumed) when the brace is a literal, as in Python.
  bool brace_counts(int* mn, int* mx) {
    size_t q = pos_ + 1;
    auto number = [&](int* out) {
      const size_t s = q;
      long v = 0;
      while (q < p_.size() && p_[q] >= '0' && p_[q] <= '9' && v <= kMaxRepeat) v = v * 10 + (p_[q++] - '0');
      *out = int(std::min<long>(v, kMaxRepeat + 1));
      return q > s;
    };
    int a = 0, b = -1;
    const bool has_a = number(&a);
    if (q < p_.size() && p_[q] == '}') {
      if (!has_a) return false;
      b = a;
    } else if (q < p_.size() && p_[q] == ',') {
      ++q;
      if (!number(&b)) b = -1;
      if (q >= p_.size() || p_[q] != '}') return false;
    } else {
      return false;
    }
    pos_ = q + 1;
    *mn = has_a ? a : 0;
    *mx = b;
    return true;
  }

  Result<NodePtr> atom(int depth) {
    auto n = std::make_unique<Node>();
    const char c = p_[pos_++];
    switch (c) {
      case '(': {
        if (at('?')) {
          ++pos_;
          if (at(':')) {
            ++pos_;
          } else if (at('P') && pos_ + 1 < p_.size() && p_[pos_ + 1] == '<') {
            const size_t close = p_.find('>', pos_);
            if (close == std::string_view::npos) return fail("unterminated group name");
            pos_ = close + 1;
          } else {
            return fail("unsupported group construct (?...)");
          }
        }
        HEARTH_ASSIGN(NodePtr inner, alternation(depth + 1));
        if (!at(')')) return fail("missing ')'");
        ++pos_;
        return inner;
      }
      case ')': return fail("unbalanced ')'");
      case '*': case '+': case '?': return fail("nothing to repeat");
      case '^': n->kind = Node::Kind::Start; return n;
      case '$': n->kind = Node::Kind::End; return n;
      case '.':
        n->kind = Node::Kind::Class;
        n->cls.assign(256, true);
        n->cls['\n'] = false;
        return n;
      case '[': return char_class();
      case '\\': return escape(false);
      default:
        n->kind = Node::Kind::Byte;
        n->byte = uint8_t(c);
        return n;
    }
  }

  // After a backslash: a class (\d \w \s and negations) or an escaped literal.
  Result<NodePtr> escape(bool in_class) {
    if (pos_ >= p_.size()) return fail("trailing backslash");
    const char c = p_[pos_++];
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::Class;
    n->cls.assign(256, false);
    auto set_if = [&](auto pred, bool negate) {
      for (int b = 0; b < 256; ++b) n->cls[size_t(b)] = pred(b) != negate;
    };
    auto digit = [](int b) { return b >= '0' && b <= '9'; };
    auto word = [](int b) { return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || b == '_'; };
    auto space = [](int b) { return b == ' ' || (b >= '\t' && b <= '\r'); };
    switch (c) {
      case 'd': set_if(digit, false); return n;
      case 'D': set_if(digit, true); return n;
      case 'w': set_if(word, false); return n;
      case 'W': set_if(word, true); return n;
      case 's': set_if(space, false); return n;
      case 'S': set_if(space, true); return n;
      case 'n': n->kind = Node::Kind::Byte; n->byte = '\n'; return n;
      case 't': n->kind = Node::Kind::Byte; n->byte = '\t'; return n;
      case 'r': n->kind = Node::Kind::Byte; n->byte = '\r'; return n;
      default: break;
    }
    if ((c >= '0' && c <= '9') || (!in_class && (c == 'b' || c == 'B' || c == 'A' || c == 'Z')) ||
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      return fail(std::string("unsupported escape \\") + c);
    n->kind = Node::Kind::Byte;
    n->byte = uint8_t(c);
    return n;
  }

  Result<NodePtr> char_class() {
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::Class;
    n->cls.assign(256, false);
    bool negate = false;
    if (at('^')) {
      negate = true;
      ++pos_;
    }
    bool first = true;
    while (true) {
      if (pos_ >= p_.size()) return fail("unterminated character class");
      if (at(']') && !first) {
        ++pos_;
        break;
      }
      first = false;
      int lo;
      if (at('\\')) {
        ++pos_;
        HEARTH_ASSIGN(NodePtr e, escape(true));
        if (e->kind == Node::Kind::Class) {
          for (int b = 0; b < 256; ++b) n->cls[size_t(b)] = n->cls[size_t(b)] || e->cls[size_t(b)];
          continue;
        }
        lo = e->byte;
      } else {
        lo = uint8_t(p_[pos_++]);
      }
      int hi = lo;
      if (at('-') && pos_ + 1 < p_.size() && p_[pos_ + 1] != ']') {
        ++pos_;
        if (at('\\')) {
          ++pos_;
          HEARTH_ASSIGN(NodePtr e, escape(true));
          if (e->kind != Node::Kind::Byte) return fail("bad character range");
          hi = e->byte;
        } else {
          hi = uint8_t(p_[pos_++]);
        }
        if (hi < lo) return fail("bad character range");
      }
      for (int b = lo; b <= hi; ++b) n->cls[size_t(b)] = true;
    }
    if (negate)
      for (int b = 0; b < 256; ++b) n->cls[size_t(b)] = !n->cls[size_t(b)];
    return n;
  }
};

}  // namespace

// Syntax tree -> program (Thompson's construction).
class RegexCompiler {
 public:
  explicit RegexCompiler(LinearRegex& re) : re_(re) {}

  Status emit(const Node& n, int depth) {
    if (re_.prog_.size() > kMaxProgram) return err("regular expression too large (over ", kMaxProgram, " states)");
    if (depth > 4 * kMaxNesting) return err("regular expression nested too deeply");
    using Op = LinearRegex::Inst::Op;
    switch (n.kind) {
      case Node::Kind::Empty: return {};
      case Node::Kind::Byte: add({Op::Byte, n.byte, 0, 0}); return {};
      case Node::Kind::Class:
        re_.classes_.push_back(n.cls);
        add({Op::Class, 0, int32_t(re_.classes_.size() - 1), 0});
        return {};
      case Node::Kind::Start: add({Op::AssertStart, 0, 0, 0}); return {};
      case Node::Kind::End: add({Op::AssertEnd, 0, 0, 0}); return {};
      case Node::Kind::Concat:
        for (const auto& k : n.kids) HEARTH_CHECK(emit(*k, depth + 1));
        return {};
      case Node::Kind::Alt: return emit_alt(n, depth);
      case Node::Kind::Repeat: return emit_repeat(n, depth);
    }
    return {};
  }

 private:
  LinearRegex& re_;

  size_t add(LinearRegex::Inst i) {
    re_.prog_.push_back(i);
    return re_.prog_.size() - 1;
  }
  int32_t here() const { return int32_t(re_.prog_.size()); }

  Status emit_alt(const Node& n, int depth) {
    using Op = LinearRegex::Inst::Op;
    std::vector<size_t> jumps;
    for (size_t k = 0; k < n.kids.size(); ++k) {
      if (k + 1 < n.kids.size()) {
        const size_t split = add({Op::Split, 0, 0, 0});
        re_.prog_[split].x = here();
        HEARTH_CHECK(emit(*n.kids[k], depth + 1));
        jumps.push_back(add({Op::Jump, 0, 0, 0}));
        re_.prog_[split].y = here();
      } else {
        HEARTH_CHECK(emit(*n.kids[k], depth + 1));
      }
    }
    for (size_t j : jumps) re_.prog_[j].x = here();
    return {};
  }

  // e{min,max}: min copies, then (max - min) optional copies, or a loop when unbounded.
  Status emit_repeat(const Node& n, int depth) {
    using Op = LinearRegex::Inst::Op;
    if (n.min > kMaxRepeat || n.max > kMaxRepeat) return err("regular expression repeat count over ", kMaxRepeat);
    const Node& e = *n.kids[0];
    for (int k = 0; k < n.min; ++k) HEARTH_CHECK(emit(e, depth + 1));
    if (n.max < 0) {
      const size_t split = add({Op::Split, 0, 0, 0});
      re_.prog_[split].x = here();
      HEARTH_CHECK(emit(e, depth + 1));
      add({Op::Jump, 0, int32_t(split), 0});
      re_.prog_[split].y = here();
      return {};
    }
    std::vector<size_t> splits;
    for (int k = n.min; k < n.max; ++k) {
      const size_t split = add({Op::Split, 0, 0, 0});
      re_.prog_[split].x = here();
      splits.push_back(split);
      HEARTH_CHECK(emit(e, depth + 1));
    }
    for (size_t s : splits) re_.prog_[s].y = here();
    return {};
  }
};

Result<LinearRegex> LinearRegex::compile(std::string_view pattern) {
  Parser parser(pattern);
  HEARTH_ASSIGN(NodePtr tree, parser.run());
  LinearRegex re;
  RegexCompiler compiler(re);
  Status st = compiler.emit(*tree, 0);
  if (!st.ok()) return err("regular expression \"", std::string(pattern), "\": ", st.message());
  re.prog_.push_back({Inst::Op::Match, 0, 0, 0});
  return re;
}

bool LinearRegex::full_match(std::string_view text) const {
  // Two sets of states (sparse: a list plus a position-stamped mark per state).
  const size_t n_states = prog_.size();
  std::vector<int32_t> cur, next, stack;
  std::vector<size_t> mark(n_states, SIZE_MAX);
  cur.reserve(n_states);
  next.reserve(n_states);
  // Adds state pc and what it reaches without reading a byte, at text position `pos`.
  auto add = [&](std::vector<int32_t>& list, int32_t pc0, size_t pos) {
    stack.assign(1, pc0);
    while (!stack.empty()) {
      const int32_t pc = stack.back();
      stack.pop_back();
      if (mark[size_t(pc)] == pos) continue;
      mark[size_t(pc)] = pos;
      const Inst& in = prog_[size_t(pc)];
      switch (in.op) {
        case Inst::Op::Jump: stack.push_back(in.x); break;
        case Inst::Op::Split: stack.push_back(in.y); stack.push_back(in.x); break;
        case Inst::Op::AssertStart: if (pos == 0) stack.push_back(pc + 1); break;
        case Inst::Op::AssertEnd: if (pos == text.size()) stack.push_back(pc + 1); break;
        default: list.push_back(pc);
      }
    }
  };
  add(cur, 0, 0);
  for (size_t i = 0; i < text.size() && !cur.empty(); ++i) {
    const uint8_t b = uint8_t(text[i]);
    next.clear();
    for (int32_t pc : cur) {
      const Inst& in = prog_[size_t(pc)];
      const bool hit = (in.op == Inst::Op::Byte && in.byte == b) ||
                       (in.op == Inst::Op::Class && classes_[size_t(in.x)][b]);
      if (hit) add(next, pc + 1, i + 1);
    }
    std::swap(cur, next);
  }
  for (int32_t pc : cur)
    if (prog_[size_t(pc)].op == Inst::Op::Match) return true;
  return false;
}

}  // namespace hearth
