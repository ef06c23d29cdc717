// Jinja parser: tokens -> statement tree, with Jinja's operator precedence
// (cond-expr < or < and < not < comparisons < + - < ~ < * / // % < ** < unary < postfix/filters).
// Tags outside the supported subset are rejected here, naming the tag.
#include <set>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

using ExprPtr = std::unique_ptr<Expr>;

ExprPtr make(Expr::Kind k, int line) {
  auto e = std::make_unique<Expr>();
  e->kind = k;
  e->line = line;
  return e;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> toks) : t_(std::move(toks)) {}

  Result<std::shared_ptr<const Program>> run() {
    auto prog = std::make_shared<Program>();
    std::string end;
    HEARTH_CHECK(body(prog->nodes, {}, end));
    return std::shared_ptr<const Program>(std::move(prog));
  }

 private:
  const Token& peek(size_t k = 0) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  const Token& next() { return t_[std::min(p_++, t_.size() - 1)]; }
  bool is_op(const char* op, size_t k = 0) const { return peek(k).kind == TokKind::Op && peek(k).text == op; }
  bool is_name(const char* n, size_t k = 0) const { return peek(k).kind == TokKind::Name && peek(k).text == n; }
  bool skip_op(const char* op) {
    if (!is_op(op)) return false;
    ++p_;
    return true;
  }
  bool skip_name(const char* n) {
    if (!is_name(n)) return false;
    ++p_;
    return true;
  }
  Error fail(const std::string& what) const {
    return err("chat template line ", peek().line, ": ", what);
  }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case TokKind::Eof: return "end of template";
      case TokKind::Text: return "text";
      case TokKind::VarEnd: return "'}}'";
      case TokKind::BlockEnd: return "'%}'";
      case TokKind::String: return "a string";
      default: return "'" + t.text + "'";
    }
  }
  Status expect_op(const char* op) {
    if (skip_op(op)) return {};
    return fail(std::string("expected '") + op + "', found " + describe(peek()));
  }
  Status expect_block_end() {
    if (peek().kind == TokKind::BlockEnd) {
      ++p_;
      return {};
    }
    return fail("expected '%}', found " + describe(peek()));
  }
  Result<std::string> expect_name() {
    if (peek().kind != TokKind::Name) return fail("expected a name, found " + describe(peek()));
    return next().text;
  }

  // Parses nodes until one of `ends` opens a block tag (left unconsumed after its name);
  // `found` receives that tag name ("" at the end of the template).
  Status body(std::vector<Node>& out, const std::set<std::string>& ends, std::string& found) {
    while (true) {
      const Token& tk = peek();
      if (tk.kind == TokKind::Eof) {
        if (!ends.empty()) {
          std::string closing = *ends.begin();
          for (const auto& e : ends)
            if (e.rfind("end", 0) == 0) closing = e;
          return fail("missing {% " + closing + " %}");
        }
        found.clear();
        return {};
      }
      if (tk.kind == TokKind::Text) {
        Node n;
        n.kind = Node::Kind::Text;
        n.line = tk.line;
        n.text = tk.text;
        out.push_back(std::move(n));
        ++p_;
        continue;
      }
      if (tk.kind == TokKind::VarBegin) {
        Node n;
        n.kind = Node::Kind::Output;
        n.line = tk.line;
        ++p_;
        HEARTH_ASSIGN(n.expr, tuple_expr(true));
        if (peek().kind != TokKind::VarEnd) return fail("expected '}}', found " + describe(peek()));
        ++p_;
        out.push_back(std::move(n));
        continue;
      }
      if (tk.kind != TokKind::BlockBegin) return fail("unexpected " + describe(tk));
      ++p_;
      if (peek().kind != TokKind::Name) return fail("expected a tag name after '{%'");
      const std::string tag = peek().text;
      if (ends.count(tag)) {
        ++p_;
        found = tag;
        return {};
      }
      HEARTH_CHECK(statement(out, tag));
    }
  }

  Status statement(std::vector<Node>& out, const std::string& tag) {
    Nest nest(depth_);
    if (depth_ > kMaxNesting) return fail("blocks nested too deeply");
    Node n;
    n.line = peek().line;
    ++p_;  // the tag name
    if (tag == "if") {
      n.kind = Node::Kind::If;
      HEARTH_ASSIGN(auto c, tuple_expr(true));
      n.conds.push_back(std::move(c));
      HEARTH_CHECK(expect_block_end());
      while (true) {
        std::vector<Node> b;
        std::string found;
        HEARTH_CHECK(body(b, {"elif", "else", "endif"}, found));
        n.branches.push_back(std::move(b));
        if (found == "elif") {
          HEARTH_ASSIGN(auto c2, tuple_expr(true));
          n.conds.push_back(std::move(c2));
          HEARTH_CHECK(expect_block_end());
        } else if (found == "else") {
          HEARTH_CHECK(expect_block_end());
          std::vector<Node> eb;
          HEARTH_CHECK(body(eb, {"endif"}, found));
          n.branches.push_back(std::move(eb));
          HEARTH_CHECK(expect_block_end());
          break;
        } else {
          HEARTH_CHECK(expect_block_end());
          break;
        }
      }
    } else if (tag == "for") {
      n.kind = Node::Kind::For;
      do {
        HEARTH_ASSIGN(auto name, expect_name());
        n.targets.push_back(name);
      } while (skip_op(","));
      if (!skip_name("in")) return fail("expected 'in' in the for loop, found " + describe(peek()));
      HEARTH_ASSIGN(n.expr, tuple_expr(false));
      if (skip_name("if")) {
        HEARTH_ASSIGN(n.cond, expression(true));
      }
      if (is_name("recursive")) return fail("unsupported Jinja construct: recursive for loops");
      HEARTH_CHECK(expect_block_end());
      std::string found;
      HEARTH_CHECK(body(n.body, {"else", "endfor"}, found));
      HEARTH_CHECK(expect_block_end());
      if (found == "else") {
        HEARTH_CHECK(body(n.else_body, {"endfor"}, found));
        HEARTH_CHECK(expect_block_end());
      }
    } else if (tag == "set") {
      do {
        HEARTH_ASSIGN(auto name, expect_name());
        if (skip_op(".")) {
          HEARTH_ASSIGN(auto attr, expect_name());
          name += "." + attr;
        }
        n.targets.push_back(name);
      } while (skip_op(","));
      if (skip_op("=")) {
        n.kind = Node::Kind::Set;
        HEARTH_ASSIGN(n.expr, tuple_expr(true));
        HEARTH_CHECK(expect_block_end());
      } else {
        n.kind = Node::Kind::SetBlock;
        if (n.targets.size() != 1) return fail("a block set takes one name");
        if (is_op("|")) {
          HEARTH_ASSIGN(n.expr, filter_chain(nullptr));
        }
        HEARTH_CHECK(expect_block_end());
        std::string found;
        HEARTH_CHECK(body(n.body, {"endset"}, found));
        HEARTH_CHECK(expect_block_end());
      }
    } else if (tag == "macro") {
      n.kind = Node::Kind::Macro;
      HEARTH_ASSIGN(auto name, expect_name());
      n.targets.push_back(name);
      HEARTH_CHECK(expect_op("("));
      while (!is_op(")")) {
        HEARTH_ASSIGN(auto param, expect_name());
        n.targets.push_back(param);
        ExprPtr def;
        if (skip_op("=")) {
          HEARTH_ASSIGN(def, expression(true));
        }
        n.defaults.push_back(std::move(def));
        if (!skip_op(",")) break;
      }
      HEARTH_CHECK(expect_op(")"));
      HEARTH_CHECK(expect_block_end());
      std::string found;
      HEARTH_CHECK(body(n.body, {"endmacro"}, found));
      if (peek().kind == TokKind::Name) ++p_;  // {% endmacro name %}
      HEARTH_CHECK(expect_block_end());
    } else if (tag == "break" || tag == "continue") {
      n.kind = tag == "break" ? Node::Kind::Break : Node::Kind::Continue;
      HEARTH_CHECK(expect_block_end());
    } else if (tag == "filter") {
      n.kind = Node::Kind::FilterBlock;
      HEARTH_ASSIGN(n.expr, filter_chain(nullptr, /*leading_bar=*/false));
      HEARTH_CHECK(expect_block_end());
      std::string found;
      HEARTH_CHECK(body(n.body, {"endfilter"}, found));
      HEARTH_CHECK(expect_block_end());
    } else if (tag == "generation") {  // transformers' assistant-mask marker: renders its body
      n.kind = Node::Kind::Body;
      HEARTH_CHECK(expect_block_end());
      std::string found;
      HEARTH_CHECK(body(n.body, {"endgeneration"}, found));
      HEARTH_CHECK(expect_block_end());
    } else {
      static const std::set<std::string> known = {"extends", "include", "import", "from", "block", "call",
                                                  "with", "autoescape", "trans", "do", "endblock"};
      if (known.count(tag))
        return err("chat template line ", n.line, ": unsupported Jinja construct '{% ", tag, " %}'");
      return err("chat template line ", n.line, ": unknown or misplaced tag '{% ", tag, " %}'");
    }
    out.push_back(std::move(n));
    return {};
  }

  // ---- expressions ----
  // A tuple if commas follow (`a, b`), else one expression.
  Result<ExprPtr> tuple_expr(bool with_cond) {
    const int line = peek().line;
    HEARTH_ASSIGN(auto first, expression(with_cond));
    if (!is_op(",")) return first;
    auto t = make(Expr::Kind::Tuple, line);
    t->args.push_back(std::move(first));
    while (skip_op(",")) {
      if (peek().kind == TokKind::BlockEnd || peek().kind == TokKind::VarEnd || is_op(")")) break;
      HEARTH_ASSIGN(auto e, expression(with_cond));
      t->args.push_back(std::move(e));
    }
    return t;
  }

  // Nesting guard: deeply nested input is an error, not a stack overflow.
  struct Nest {
    explicit Nest(int& d) : d_(d) { ++d_; }
    ~Nest() { --d_; }
    int& d_;
  };
  static constexpr int kMaxNesting = 100;
  // Operators (or postfix operations) in a row build a left-deep tree; its depth is bounded too.
  static constexpr int kMaxChain = 200;
  Status chain(int& n) const {
    if (++n > kMaxChain) return fail("expression too long (more than 200 operators in a row)");
    return {};
  }

  Result<ExprPtr> expression(bool with_cond) {
    Nest nest(depth_);
    if (depth_ > kMaxNesting) return fail("expression nested too deeply");
    if (!with_cond) return or_expr();
    HEARTH_ASSIGN(auto e, or_expr());
    int n = 0;
    while (is_name("if")) {
      HEARTH_CHECK(chain(n));
      const int line = next().line;
      HEARTH_ASSIGN(auto cond, or_expr());
      auto c = make(Expr::Kind::Cond, line);
      ExprPtr other;
      if (skip_name("else")) {
        HEARTH_ASSIGN(other, expression(true));
      }
      c->args.push_back(std::move(cond));
      c->args.push_back(std::move(e));
      c->args.push_back(std::move(other));  // may be null: undefined
      e = std::move(c);
    }
    return e;
  }

  Result<ExprPtr> or_expr() {
    HEARTH_ASSIGN(auto e, and_expr());
    int n = 0;
    while (is_name("or")) {
      HEARTH_CHECK(chain(n));
      auto o = make(Expr::Kind::Or, next().line);
      HEARTH_ASSIGN(auto r, and_expr());
      o->args.push_back(std::move(e));
      o->args.push_back(std::move(r));
      e = std::move(o);
    }
    return e;
  }

  Result<ExprPtr> and_expr() {
    HEARTH_ASSIGN(auto e, not_expr());
    int n = 0;
    while (is_name("and")) {
      HEARTH_CHECK(chain(n));
      auto o = make(Expr::Kind::And, next().line);
      HEARTH_ASSIGN(auto r, not_expr());
      o->args.push_back(std::move(e));
      o->args.push_back(std::move(r));
      e = std::move(o);
    }
    return e;
  }

  Result<ExprPtr> not_expr() {
    Nest nest(depth_);
    if (depth_ > kMaxNesting) return fail("expression nested too deeply");
    if (is_name("not")) {
      auto o = make(Expr::Kind::Not, next().line);
      HEARTH_ASSIGN(auto r, not_expr());
      o->args.push_back(std::move(r));
      return o;
    }
    return compare_expr();
  }

  Result<ExprPtr> compare_expr() {
    const int line = peek().line;
    HEARTH_ASSIGN(auto e, math1());
    ExprPtr cmp;
    while (true) {
      std::string op;
      if (peek().kind == TokKind::Op && (peek().text == "==" || peek().text == "!=" || peek().text == "<" ||
                                         peek().text == "<=" || peek().text == ">" || peek().text == ">=")) {
        op = next().text;
      } else if (is_name("in")) {
        ++p_;
        op = "in";
      } else if (is_name("not") && is_name("in", 1)) {
        p_ += 2;
        op = "not in";
      } else {
        break;
      }
      if (!cmp) {
        cmp = make(Expr::Kind::Compare, line);
        cmp->args.push_back(std::move(e));
      }
      HEARTH_ASSIGN(auto r, math1());
      cmp->ops.push_back(op);
      cmp->args.push_back(std::move(r));
    }
    if (cmp) return cmp;
    return e;
  }

  Result<ExprPtr> binary_chain(Result<ExprPtr> (Parser::*sub)(), std::initializer_list<const char*> ops) {
    HEARTH_ASSIGN(auto e, (this->*sub)());
    int n = 0;
    while (true) {
      const char* hit = nullptr;
      for (const char* op : ops)
        if (is_op(op)) hit = op;
      if (!hit) break;
      HEARTH_CHECK(chain(n));
      auto b = make(Expr::Kind::Binary, next().line);
      b->name = hit;
      HEARTH_ASSIGN(auto r, (this->*sub)());
      b->args.push_back(std::move(e));
      b->args.push_back(std::move(r));
      e = std::move(b);
    }
    return e;
  }
  Result<ExprPtr> math1() { return binary_chain(&Parser::concat, {"+", "-"}); }
  Result<ExprPtr> concat() { return binary_chain(&Parser::math2, {"~"}); }
  Result<ExprPtr> math2() { return binary_chain(&Parser::power, {"*", "/", "//", "%"}); }
  Result<ExprPtr> power() { return binary_chain(&Parser::unary_filtered, {"**"}); }
  Result<ExprPtr> unary_filtered() { return unary(true); }

  Result<ExprPtr> unary(bool with_filter) {
    Nest nest(depth_);
    if (depth_ > kMaxNesting) return fail("expression nested too deeply");
    ExprPtr e;
    if (is_op("-") || is_op("+")) {
      const bool neg = peek().text == "-";
      auto u = make(neg ? Expr::Kind::Neg : Expr::Kind::Pos, next().line);
      HEARTH_ASSIGN(auto r, unary(false));
      u->args.push_back(std::move(r));
      e = std::move(u);
    } else {
      HEARTH_ASSIGN(e, primary());
    }
    HEARTH_ASSIGN(e, postfix(std::move(e)));
    if (with_filter) {
      HEARTH_ASSIGN(e, filter_chain(std::move(e)));
    }
    return e;
  }

  Result<ExprPtr> primary() {
    const Token& tk = peek();
    const int line = tk.line;
    switch (tk.kind) {
      case TokKind::Name: {
        const std::string n = next().text;
        auto e = make(Expr::Kind::Literal, line);
        if (n == "true" || n == "True") e->literal = Value::boolean(true);
        else if (n == "false" || n == "False") e->literal = Value::boolean(false);
        else if (n == "none" || n == "None") e->literal = Value::none();
        else {
          e->kind = Expr::Kind::Name;
          e->name = n;
        }
        return e;
      }
      case TokKind::String: {
        std::string s;
        while (peek().kind == TokKind::String) s += next().text;  // adjacent literals join
        auto e = make(Expr::Kind::Literal, line);
        e->literal = Value::string(std::move(s));
        return e;
      }
      case TokKind::Int: {
        auto e = make(Expr::Kind::Literal, line);
        e->literal = Value::integer(next().i);
        return e;
      }
      case TokKind::Float: {
        auto e = make(Expr::Kind::Literal, line);
        e->literal = Value::number(next().f);
        return e;
      }
      case TokKind::Op:
        if (tk.text == "(") {
          ++p_;
          if (skip_op(")")) return make(Expr::Kind::Tuple, line);
          HEARTH_ASSIGN(auto e, tuple_expr(true));
          HEARTH_CHECK(expect_op(")"));
          return e;
        }
        if (tk.text == "[") {
          ++p_;
          auto e = make(Expr::Kind::List, line);
          while (!is_op("]")) {
            HEARTH_ASSIGN(auto item, expression(true));
            e->args.push_back(std::move(item));
            if (!skip_op(",")) break;
          }
          HEARTH_CHECK(expect_op("]"));
          return e;
        }
        if (tk.text == "{") {
          ++p_;
          auto e = make(Expr::Kind::Dict, line);
          while (!is_op("}")) {
            HEARTH_ASSIGN(auto k, expression(true));
            HEARTH_CHECK(expect_op(":"));
            HEARTH_ASSIGN(auto v, expression(true));
            e->args.push_back(std::move(k));
            e->args.push_back(std::move(v));
            if (!skip_op(",")) break;
          }
          HEARTH_CHECK(expect_op("}"));
          return e;
        }
        break;
      default: break;
    }
    return fail("unexpected " + describe(tk) + " in an expression");
  }

  // Positional then keyword arguments up to ')', after the '('.
  Status call_args(Expr& into) {
    while (!is_op(")")) {
      if (is_op("*") || is_op("**")) return fail("unsupported Jinja construct: *args / **kwargs in a call");
      if (peek().kind == TokKind::Name && is_op("=", 1)) {
        into.kw_names.push_back(next().text);
        ++p_;
        HEARTH_ASSIGN(auto v, expression(true));
        into.args.push_back(std::move(v));
      } else {
        if (!into.kw_names.empty()) return fail("positional argument after a keyword argument");
        HEARTH_ASSIGN(auto v, expression(true));
        into.args.push_back(std::move(v));
      }
      if (!skip_op(",")) break;
    }
    return expect_op(")");
  }

  Result<ExprPtr> postfix(ExprPtr e) {
    int n = 0;
    while (true) {
      HEARTH_CHECK(chain(n));
      if (is_op(".")) {
        const int line = next().line;
        auto a = make(Expr::Kind::Attr, line);
        if (peek().kind == TokKind::Name) {
          a->name = next().text;
        } else if (peek().kind == TokKind::Int) {
          a->kind = Expr::Kind::Item;
          auto idx = make(Expr::Kind::Literal, line);
          idx->literal = Value::integer(next().i);
          a->args.push_back(std::move(e));
          a->args.push_back(std::move(idx));
          e = std::move(a);
          continue;
        } else {
          return fail("expected an attribute name after '.'");
        }
        a->args.push_back(std::move(e));
        e = std::move(a);
      } else if (is_op("[")) {
        const int line = next().line;
        ExprPtr parts[3];
        int colons = 0;
        while (!is_op("]")) {
          if (skip_op(":")) {
            if (++colons > 2) return fail("too many ':' in a slice");
            continue;
          }
          HEARTH_ASSIGN(parts[colons], expression(true));
          if (!is_op(":") && !is_op("]")) return fail("expected ']' or ':' in a subscript");
        }
        ++p_;
        if (colons == 0) {
          if (!parts[0]) return fail("empty subscript");
          auto it = make(Expr::Kind::Item, line);
          it->args.push_back(std::move(e));
          it->args.push_back(std::move(parts[0]));
          e = std::move(it);
        } else {
          auto sl = make(Expr::Kind::Slice, line);
          sl->args.push_back(std::move(e));
          for (auto& part : parts) sl->args.push_back(std::move(part));
          e = std::move(sl);
        }
      } else if (is_op("(")) {
        auto c = make(Expr::Kind::Call, next().line);
        c->args.push_back(std::move(e));
        HEARTH_CHECK(call_args(*c));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  // `| name(args)` filters and `is [not] name args` tests following an operand (nullptr for a
  // filter block). With leading_bar false, the first filter has no '|' (the {% filter %} tag).
  Result<ExprPtr> filter_chain(ExprPtr e, bool leading_bar = true) {
    bool first = true;
    int n = 0;
    while (true) {
      HEARTH_CHECK(chain(n));
      const bool bare = first && !leading_bar;
      first = false;
      if (bare || is_op("|")) {
        const int line = peek().line;
        if (!bare) ++p_;
        auto f = make(Expr::Kind::Filter, line);
        HEARTH_ASSIGN(f->name, expect_name());
        while (skip_op(".")) {
          HEARTH_ASSIGN(auto more, expect_name());
          f->name += "." + more;
        }
        f->args.push_back(std::move(e));
        if (skip_op("(")) HEARTH_CHECK(call_args(*f));
        e = std::move(f);
      } else if (is_name("is")) {
        if (e && e->kind == Expr::Kind::Test) return fail("you cannot chain multiple tests with 'is'");
        auto t = make(Expr::Kind::Test, next().line);
        if (skip_name("not")) t->negated = true;
        if (peek().kind == TokKind::Name) {
          t->name = next().text;
        } else if (peek().kind == TokKind::Op &&
                   (peek().text == "==" || peek().text == "!=" || peek().text == "<" || peek().text == "<=" ||
                    peek().text == ">" || peek().text == ">=")) {
          t->name = next().text;
        } else {
          return fail("expected a test name after 'is'");
        }
        t->args.push_back(std::move(e));
        if (skip_op("(")) {
          HEARTH_CHECK(call_args(*t));
        } else {
          // One bare argument: `is divisibleby 3`, `is sameas false` (not before and/or/else...).
          const Token& nt = peek();
          const bool starts_arg =
              nt.kind == TokKind::String || nt.kind == TokKind::Int || nt.kind == TokKind::Float ||
              (nt.kind == TokKind::Op && (nt.text == "[" || nt.text == "{")) ||
              (nt.kind == TokKind::Name && nt.text != "else" && nt.text != "or" && nt.text != "and");
          if (starts_arg) {
            HEARTH_ASSIGN(auto a, primary());
            HEARTH_ASSIGN(a, postfix(std::move(a)));
            t->args.push_back(std::move(a));
          }
        }
        e = std::move(t);
      } else if (e && is_op("(")) {
        auto c = make(Expr::Kind::Call, next().line);
        c->args.push_back(std::move(e));
        HEARTH_CHECK(call_args(*c));
        e = std::move(c);
      } else {
        return e;
      }
    }
  }

  std::vector<Token> t_;
  size_t p_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<std::shared_ptr<const Program>> parse_template(std::string_view source) {
  HEARTH_ASSIGN(auto toks, lex_template(source));
  return Parser(std::move(toks)).run();
}

}  // namespace hearth::jinja
