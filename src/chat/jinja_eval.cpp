// Jinja evaluator: runs the statement tree with Jinja's scoping (a for-loop iteration and a
// macro call get their own frame; `set` writes to the innermost frame; namespaces carry values
// out of loops) and evaluates expressions with Python semantics. Every statement and expression
// is a step of the render's budget (Ctx); strings are counted as they are built or copied.
#include <cmath>
#include <unordered_map>

#include "chat/jinja.h"

namespace hearth::jinja {

namespace {

enum class Flow { Normal, Break, Continue };

constexpr int kMaxDepth = 200;

Error at(int line, const std::string& msg) { return err("chat template line ", line, ": ", msg); }

Error undefined_error(const Value& v, int line) {
  return at(line, "'" + (v.s.empty() ? std::string("value") : v.s) + "' is undefined");
}

Result<bool> contains(const Value& container, const Value& item, int line, Ctx& c) {
  if (container.is_list()) HEARTH_CHECK(c.step(int64_t(container.list->size())));
  switch (container.type) {
    case Value::Type::String:
      if (!item.is_string())
        return at(line, "'in <string>' requires string as left operand, not " + type_name(item));
      return container.s.find(item.s) != std::string::npos;
    case Value::Type::List:
      for (const auto& x : *container.list)
        if (equals(x, item)) return true;
      return false;
    case Value::Type::Dict: return item.is_string() && container.find(item.s) != nullptr;
    case Value::Type::Undefined: return false;
    default: return at(line, "argument of type '" + type_name(container) + "' is not iterable");
  }
}

class Renderer {
 public:
  Renderer(const Globals& globals, const RenderLimits& limits) : ctx_(limits) {
    frames_.emplace_back();
    for (const auto& kv : globals) frames_[0][kv.first] = kv.second;
    frames_.emplace_back();  // the template's own top level
  }

  Result<std::string> run(const Program& p) {
    std::string out;
    out_ = &out;
    Flow flow = Flow::Normal;
    HEARTH_CHECK(exec(p.nodes, flow));
    return out;
  }

  // Output (or a captured block) grew: check its size.
  Status wrote() {
    if (int64_t(out_->size()) > ctx_.limits().max_output_bytes)
      return ctx_.fail("the output exceeds the limit of " + std::to_string(ctx_.limits().max_output_bytes) + " bytes");
    return {};
  }

 private:
  using Frame = std::unordered_map<std::string, Value>;

  Value lookup(const std::string& name) const {
    for (size_t k = frames_.size(); k-- > 0;) {
      auto it = frames_[k].find(name);
      if (it != frames_[k].end()) return it->second;
    }
    return Value::undefined(name);
  }

  Status assign(const std::string& target, Value v, int line) {
    const size_t dot = target.find('.');
    if (dot == std::string::npos) {
      frames_.back()[target] = std::move(v);
      return {};
    }
    const Value ns = lookup(target.substr(0, dot));
    if (!ns.is_dict() || !ns.is_namespace)
      return at(line, "cannot assign attribute on non-namespace object '" + target.substr(0, dot) + "'");
    ctx_.line = line;
    HEARTH_CHECK(check_namespace_attribute(v, ctx_));
    const std::string attr = target.substr(dot + 1);
    for (auto& kv : *ns.dict) {
      if (kv.first == attr) {
        kv.second = std::move(v);
        return {};
      }
    }
    ns.dict->emplace_back(attr, std::move(v));
    return {};
  }

  Status assign_targets(const std::vector<std::string>& targets, const Value& v, int line) {
    if (targets.size() == 1) return assign(targets[0], v, line);
    if (!v.is_list()) return at(line, "cannot unpack a " + type_name(v) + " into " + std::to_string(targets.size()) + " names");
    if (v.list->size() != targets.size())
      return at(line, "expected " + std::to_string(targets.size()) + " values to unpack, got " +
                          std::to_string(v.list->size()));
    for (size_t k = 0; k < targets.size(); ++k) HEARTH_CHECK(assign(targets[k], (*v.list)[k], line));
    return {};
  }

  Result<std::string> capture(const std::vector<Node>& body) {
    std::string buf;
    std::string* saved = out_;
    out_ = &buf;
    Flow flow = Flow::Normal;
    Status st = exec(body, flow);
    out_ = saved;
    if (!st.ok()) return st.error();
    return buf;
  }

  Status exec(const std::vector<Node>& nodes, Flow& flow) {
    for (const Node& n : nodes) {
      HEARTH_CHECK(exec_one(n, flow));
      if (flow != Flow::Normal) return {};
    }
    return {};
  }

  Status exec_one(const Node& n, Flow& flow) {
    ctx_.line = n.line;
    HEARTH_CHECK(ctx_.step());
    switch (n.kind) {
      case Node::Kind::Text:
        *out_ += n.text;
        return wrote();
      case Node::Kind::Output: {
        HEARTH_ASSIGN(Value v, eval(*n.expr));
        if (v.is_string()) {
          *out_ += v.s;
        } else {
          *out_ += to_str(v);
        }
        return wrote();
      }
      case Node::Kind::If:
        for (size_t k = 0; k < n.branches.size(); ++k) {
          if (k < n.conds.size()) {
            HEARTH_ASSIGN(Value c, eval(*n.conds[k]));
            if (!truthy(c)) continue;
          }
          return exec(n.branches[k], flow);
        }
        return {};
      case Node::Kind::For: return exec_for(n, flow);
      case Node::Kind::Set: {
        HEARTH_ASSIGN(Value v, eval(*n.expr));
        return assign_targets(n.targets, v, n.line);
      }
      case Node::Kind::SetBlock: {
        HEARTH_ASSIGN(std::string s, capture(n.body));
        Value v = Value::string(std::move(s));
        if (n.expr) {
          HEARTH_ASSIGN(v, eval_filters(*n.expr, v));
        }
        return assign(n.targets[0], std::move(v), n.line);
      }
      case Node::Kind::Macro: return define_macro(n);
      case Node::Kind::Break: flow = Flow::Break; return {};
      case Node::Kind::Continue: flow = Flow::Continue; return {};
      case Node::Kind::FilterBlock: {
        HEARTH_ASSIGN(std::string s, capture(n.body));
        HEARTH_ASSIGN(Value v, eval_filters(*n.expr, Value::string(std::move(s))));
        *out_ += to_str(v);
        return wrote();
      }
      case Node::Kind::Body: return exec(n.body, flow);
    }
    return {};
  }

  Status exec_for(const Node& n, Flow& outer_flow) {
    HEARTH_ASSIGN(Value seq, eval(*n.expr));
    if (seq.is_none()) return at(n.line, "'NoneType' object is not iterable");
    ctx_.line = n.line;
    HEARTH_ASSIGN(List items, as_sequence(seq, ctx_));
    if (n.cond) {
      List kept;
      for (const auto& item : items) {
        frames_.emplace_back();
        Status st = assign_targets(n.targets, item, n.line);
        Result<Value> c = st.ok() ? eval(*n.cond) : Result<Value>(st.error());
        frames_.pop_back();
        if (!c.ok()) return c.error();
        if (truthy(*c)) kept.push_back(item);
      }
      items = std::move(kept);
    }
    if (items.empty()) {
      Flow f = Flow::Normal;
      return exec(n.else_body, f);
    }
    const int64_t len = int64_t(items.size());
    for (int64_t k = 0; k < len; ++k) {
      frames_.emplace_back();
      Dict loop;
      loop.emplace_back("index", Value::integer(k + 1));
      loop.emplace_back("index0", Value::integer(k));
      loop.emplace_back("revindex", Value::integer(len - k));
      loop.emplace_back("revindex0", Value::integer(len - k - 1));
      loop.emplace_back("first", Value::boolean(k == 0));
      loop.emplace_back("last", Value::boolean(k == len - 1));
      loop.emplace_back("length", Value::integer(len));
      loop.emplace_back("depth", Value::integer(1));
      loop.emplace_back("depth0", Value::integer(0));
      loop.emplace_back("previtem", k > 0 ? items[size_t(k - 1)] : Value::undefined("previtem"));
      loop.emplace_back("nextitem", k + 1 < len ? items[size_t(k + 1)] : Value::undefined("nextitem"));
      loop.emplace_back("cycle", Value::function([k](Args& a, Ctx&) -> Result<Value> {
                          if (a.pos.empty()) return err("loop.cycle() needs at least one argument");
                          return a.pos[size_t(k) % a.pos.size()];
                        }));
      frames_.back()["loop"] = Value::dict_of(std::move(loop));
      Status st = assign_targets(n.targets, items[size_t(k)], n.line);
      Flow flow = Flow::Normal;
      if (st.ok()) st = exec(n.body, flow);
      frames_.pop_back();
      if (!st.ok()) return st;
      if (flow == Flow::Break) break;
    }
    (void)outer_flow;
    return {};
  }

  Status define_macro(const Node& n) {
    const Node* node = &n;
    Renderer* self = this;
    Value fn = Value::function([self, node](Args& a, Ctx&) -> Result<Value> { return self->call_macro(*node, a); });
    frames_.back()[n.targets[0]] = std::move(fn);
    return {};
  }

  Result<Value> call_macro(const Node& n, Args& a) {
    if (++depth_ > kMaxDepth) {
      --depth_;
      return at(n.line, "macro calls nest too deeply");
    }
    const size_t nparams = n.targets.size() - 1;
    if (a.pos.size() > nparams)
      return at(n.line, "macro '" + n.targets[0] + "' takes " + std::to_string(nparams) + " arguments, got " +
                            std::to_string(a.pos.size()));
    // A macro sees the globals and the template's top level, plus its parameters.
    std::vector<Frame> saved;
    saved.swap(frames_);
    frames_.push_back(saved[0]);
    frames_.push_back(saved[1]);
    frames_.emplace_back();
    Status st;
    for (size_t k = 0; k < nparams && st.ok(); ++k) {
      const std::string& p = n.targets[k + 1];
      Value v = Value::undefined(p);
      if (k < a.pos.size()) {
        v = a.pos[k];
      } else {
        bool found = false;
        for (auto& kv : a.kw)
          if (kv.first == p) {
            v = kv.second;
            found = true;
          }
        if (!found && n.defaults[k]) {
          auto d = eval(*n.defaults[k]);
          if (!d.ok()) st = d.status();
          else v = *d;
        }
      }
      frames_.back()[p] = v;
    }
    for (auto& kv : a.kw) {
      bool known = false;
      for (size_t k = 1; k < n.targets.size(); ++k) known |= n.targets[k] == kv.first;
      if (!known && st.ok()) st = at(n.line, "macro '" + n.targets[0] + "' has no parameter '" + kv.first + "'");
    }
    Result<std::string> body = st.ok() ? capture(n.body) : Result<std::string>(st.error());
    frames_.swap(saved);
    --depth_;
    if (!body.ok()) return body.error();
    return Value::string(std::move(*body));
  }

  Status eval_args(const Expr& e, size_t first, Args& a) {
    const size_t nkw = e.kw_names.size();
    const size_t npos = e.args.size() - first - nkw;
    for (size_t k = 0; k < npos; ++k) {
      HEARTH_ASSIGN(Value v, eval(*e.args[first + k]));
      a.pos.push_back(std::move(v));
    }
    for (size_t k = 0; k < nkw; ++k) {
      HEARTH_ASSIGN(Value v, eval(*e.args[first + npos + k]));
      a.kw.emplace_back(e.kw_names[k], std::move(v));
    }
    return {};
  }

  // A filter chain whose innermost operand is missing (block set / filter block): `subject`.
  Result<Value> eval_filters(const Expr& e, Value subject) {
    if (e.kind != Expr::Kind::Filter) return at(e.line, "expected a filter");
    Value inner = std::move(subject);
    if (e.args[0]) {
      HEARTH_ASSIGN(inner, eval_filters(*e.args[0], inner));
    }
    Args a;
    HEARTH_CHECK(eval_args(e, 1, a));
    ctx_.line = e.line;
    return apply_filter(e.name, std::move(inner), a, ctx_);
  }

  Result<Value> eval(const Expr& e) {
    if (++depth_ > kMaxDepth) {
      --depth_;
      return at(e.line, "expression nests too deeply");
    }
    ctx_.line = e.line;
    Status st = ctx_.step();
    Result<Value> r = st.ok() ? eval_inner(e) : Result<Value>(st.error());
    if (r.ok() && r->is_string()) st = ctx_.charge(int64_t(r->s.size()));  // the copy it was
    --depth_;
    if (!st.ok()) return st.error();
    return r;
  }

  Result<Value> eval_inner(const Expr& e) {
    switch (e.kind) {
      case Expr::Kind::Literal: return e.literal;
      case Expr::Kind::Name: return lookup(e.name);
      case Expr::Kind::List:
      case Expr::Kind::Tuple: {
        List l;
        for (const auto& x : e.args) {
          HEARTH_ASSIGN(Value v, eval(*x));
          l.push_back(std::move(v));
        }
        Value v = Value::list_of(std::move(l), e.kind == Expr::Kind::Tuple);
        HEARTH_CHECK(ctx_.fits_depth(v.depth));
        return v;
      }
      case Expr::Kind::Dict: {
        Dict d;
        for (size_t k = 0; k + 1 < e.args.size(); k += 2) {
          HEARTH_ASSIGN(Value key, eval(*e.args[k]));
          HEARTH_ASSIGN(Value val, eval(*e.args[k + 1]));
          if (!key.is_string()) return at(e.line, "dict keys must be strings here, got " + type_name(key));
          HEARTH_CHECK(ctx_.step(int64_t(d.size())));
          bool replaced = false;
          for (auto& kv : d)
            if (kv.first == key.s) {
              kv.second = val;
              replaced = true;
            }
          if (!replaced) d.emplace_back(key.s, std::move(val));
        }
        Value v = Value::dict_of(std::move(d));
        HEARTH_CHECK(ctx_.fits_depth(v.depth));
        return v;
      }
      case Expr::Kind::Attr: {
        HEARTH_ASSIGN(Value obj, eval(*e.args[0]));
        if (obj.is_undefined()) return undefined_error(obj, e.line);
        Value v = get_attr(obj, e.name);
        if (v.is_undefined() && v.s.empty()) v.s = e.name;
        return v;
      }
      case Expr::Kind::Item: {
        HEARTH_ASSIGN(Value obj, eval(*e.args[0]));
        HEARTH_ASSIGN(Value key, eval(*e.args[1]));
        if (obj.is_undefined()) return undefined_error(obj, e.line);
        Value v = get_item(obj, key);
        if (v.is_undefined() && v.s.empty()) v.s = to_str(key);
        return v;
      }
      case Expr::Kind::Slice: return eval_slice(e);
      case Expr::Kind::Call: {
        HEARTH_ASSIGN(Value fn, eval(*e.args[0]));
        if (fn.is_undefined() && e.args[0]->kind == Expr::Kind::Attr)
          return at(e.line, "unknown or unsupported method '." + e.args[0]->name + "()'");
        if (fn.is_undefined()) return undefined_error(fn, e.line);
        if (fn.type != Value::Type::Function) return at(e.line, "'" + type_name(fn) + "' object is not callable");
        Args a;
        HEARTH_CHECK(eval_args(e, 1, a));
        ctx_.line = e.line;
        Result<Value> r = (*fn.fn)(a, ctx_);
        if (!r.ok() && r.message().rfind("chat template", 0) != 0) return at(e.line, r.message());
        return r;
      }
      case Expr::Kind::Filter: {
        Value subject;
        if (e.args[0]) {
          HEARTH_ASSIGN(subject, eval(*e.args[0]));
        }
        Args a;
        HEARTH_CHECK(eval_args(e, 1, a));
        ctx_.line = e.line;
        return apply_filter(e.name, std::move(subject), a, ctx_);
      }
      case Expr::Kind::Test: {
        HEARTH_ASSIGN(Value subject, eval(*e.args[0]));
        Args a;
        HEARTH_CHECK(eval_args(e, 1, a));
        ctx_.line = e.line;
        HEARTH_ASSIGN(bool r, apply_test(e.name, subject, a, ctx_));
        return Value::boolean(r != e.negated);
      }
      case Expr::Kind::Neg:
      case Expr::Kind::Pos: {
        HEARTH_ASSIGN(Value v, eval(*e.args[0]));
        if (!v.is_number()) return at(e.line, "bad operand type for unary " + std::string(e.kind == Expr::Kind::Neg ? "-" : "+") + ": '" + type_name(v) + "'");
        if (e.kind == Expr::Kind::Pos) return v.is_int() ? Value::integer(v.as_int()) : v;
        if (!v.is_int()) return Value::number(-v.f);
        ctx_.line = e.line;
        HEARTH_ASSIGN(int64_t neg, checked_sub(0, v.as_int(), ctx_));
        return Value::integer(neg);
      }
      case Expr::Kind::Not: {
        HEARTH_ASSIGN(Value v, eval(*e.args[0]));
        return Value::boolean(!truthy(v));
      }
      case Expr::Kind::Binary: {
        HEARTH_ASSIGN(Value a, eval(*e.args[0]));
        HEARTH_ASSIGN(Value b, eval(*e.args[1]));
        ctx_.line = e.line;
        if (e.name != "~") return binary_op(e.name, a, b, ctx_);
        std::string joined = to_str(a);
        const std::string right = to_str(b);
        HEARTH_CHECK(ctx_.fits_string(int64_t(joined.size() + right.size())));
        HEARTH_CHECK(ctx_.charge(int64_t(joined.size() + right.size())));
        joined += right;
        return Value::string(std::move(joined));
      }
      case Expr::Kind::Compare: {
        HEARTH_ASSIGN(Value left, eval(*e.args[0]));
        for (size_t k = 0; k < e.ops.size(); ++k) {
          HEARTH_ASSIGN(Value right, eval(*e.args[k + 1]));
          const std::string& op = e.ops[k];
          bool r = false;
          if (op == "==") r = equals(left, right);
          else if (op == "!=") r = !equals(left, right);
          else if (op == "in" || op == "not in") {
            HEARTH_ASSIGN(bool c, contains(right, left, e.line, ctx_));
            r = (op == "in") == c;
          } else {
            Result<bool> lt = (op == "<" || op == ">=") ? less(left, right) : less(right, left);
            if (!lt.ok()) return at(e.line, lt.message());
            r = (op == "<" || op == ">") ? *lt : !*lt;
          }
          if (!r) return Value::boolean(false);
          left = std::move(right);
        }
        return Value::boolean(true);
      }
      case Expr::Kind::And: {
        HEARTH_ASSIGN(Value a, eval(*e.args[0]));
        if (!truthy(a)) return a;
        return eval(*e.args[1]);
      }
      case Expr::Kind::Or: {
        HEARTH_ASSIGN(Value a, eval(*e.args[0]));
        if (truthy(a)) return a;
        return eval(*e.args[1]);
      }
      case Expr::Kind::Cond: {
        HEARTH_ASSIGN(Value c, eval(*e.args[0]));
        if (truthy(c)) return eval(*e.args[1]);
        if (e.args[2]) return eval(*e.args[2]);
        return Value::undefined();
      }
    }
    return at(e.line, "unsupported expression");
  }

  Result<Value> eval_slice(const Expr& e) {
    HEARTH_ASSIGN(Value obj, eval(*e.args[0]));
    if (obj.is_undefined()) return undefined_error(obj, e.line);
    int64_t bound[3] = {0, 0, 0};
    bool given[3] = {false, false, false};
    for (int k = 0; k < 3; ++k) {
      if (!e.args[size_t(k) + 1]) continue;
      HEARTH_ASSIGN(Value v, eval(*e.args[size_t(k) + 1]));
      if (v.is_none()) continue;
      if (!v.is_int()) return at(e.line, "slice indices must be integers or None");
      bound[k] = v.as_int();
      given[k] = true;
    }
    const int64_t step = given[2] ? bound[2] : 1;
    if (step == 0) return at(e.line, "slice step cannot be zero");
    std::vector<uint32_t> cps;
    int64_t len = 0;
    if (obj.is_string()) {
      cps = decode_utf8(obj.s);
      len = int64_t(cps.size());
    } else if (obj.is_list()) {
      len = int64_t(obj.list->size());
    } else {
      return at(e.line, "'" + type_name(obj) + "' object is not subscriptable");
    }
    // Python's slice.indices().
    auto clamp = [&](int64_t v, bool is_given, int64_t dflt) {
      if (!is_given) return dflt;
      if (v < 0) v += len;
      if (step > 0) return std::min(std::max<int64_t>(v, 0), len);
      return std::min(std::max<int64_t>(v, -1), len - 1);
    };
    const int64_t start = clamp(bound[0], given[0], step > 0 ? 0 : len - 1);
    const int64_t stop = clamp(bound[1], given[1], step > 0 ? len : -1);
    std::vector<int64_t> picks;
    for (int64_t k = start; step > 0 ? k < stop : k > stop;) {
      picks.push_back(k);
      if (__builtin_add_overflow(k, step, &k)) break;
    }
    ctx_.line = e.line;
    HEARTH_CHECK(ctx_.step(int64_t(picks.size())));
    if (obj.is_string()) {
      std::vector<uint32_t> out;
      for (int64_t k : picks) out.push_back(cps[size_t(k)]);
      return Value::string(encode_utf8(out));
    }
    List out;
    for (int64_t k : picks) out.push_back((*obj.list)[size_t(k)]);
    return Value::list_of(std::move(out), obj.is_tuple);
  }

  std::vector<Frame> frames_;
  std::string* out_ = nullptr;
  int depth_ = 0;
  Ctx ctx_;
};

}  // namespace

Result<std::string> render(const Program& program, const Globals& globals, const RenderLimits& limits) {
  Renderer r(globals, limits);
  return r.run(program);
}

}  // namespace hearth::jinja
