// Internal to the chat-template code: a Jinja2 subset that renders Hugging Face chat templates
// the way transformers does (sandboxed Jinja with trim_blocks, lstrip_blocks, loop controls,
// its own tojson, raise_exception and strftime_now). Values follow Python semantics (str(),
// repr(), truthiness, int/float arithmetic). Constructs outside the subset are rejected at
// parse time with an error naming them (e.g. "unsupported Jinja construct '{% include %}'"), or
// at render time for names only known then (unsupported filter, test or method).
//
// Supported: text with {{ }}, {% %}, {# #} and -/+ whitespace control; if/elif/else, for
// (tuple targets, `if` filter, else, loop.index/index0/revindex/revindex0/first/last/length/
// previtem/nextitem/cycle), break/continue, set (name, ns.attr, tuple, block set), namespace(),
// macro (with defaults, called as functions), filter blocks, generation blocks, raw; literals
// (strings with Python escapes, ints, floats, lists, tuples, dicts, true/false/none);
// operators + - * / // % ** ~, comparisons (chained), in / not in, and/or/not, a if c else b,
// attribute/subscript/slice access, calls with keyword arguments, and the filters, tests,
// methods and globals of the tables in jinja_filters.cpp, jinja_tests.cpp, jinja_methods.cpp
// and jinja_globals.cpp.
// Not supported (clear errors): extends/include/import/block/call/with tags, recursive loops,
// *args/**kwargs, and filters/tests/methods not in the tables. Sandboxed like transformers:
// lists and dicts are immutable (only namespace attributes can be set).
//
// A template is code from a downloaded file, so a render is bounded (RenderLimits): evaluation
// steps, bytes built or copied, the size of any one string or list, the output, and nesting.
// Integer arithmetic is checked: where Python would grow a big integer, the render fails.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth::jinja {

struct Value;
class Ctx;
using List = std::vector<Value>;
using Dict = std::vector<std::pair<std::string, Value>>;  // string keys, insertion order
struct Args {
  std::vector<Value> pos;
  std::vector<std::pair<std::string, Value>> kw;
};
// A callable value (macro, method, global): gets the call's arguments and the render context.
using Function = std::function<Result<Value>(Args&, Ctx&)>;

// Lists and dicts nest at most this deep (deeper values are refused where they are built, so
// printing, comparing and freeing them never recurse further).
constexpr int kMaxValueDepth = 600;

struct Value {
  enum class Type : uint8_t { Undefined, None, Bool, Int, Float, String, List, Dict, Function };
  Type type = Type::Undefined;
  bool is_namespace = false;  // a Dict made by namespace(): its attributes can be set
  bool is_tuple = false;      // a List written as a tuple (prints with parentheses)
  bool b = false;
  uint16_t depth = 0;         // List/Dict: 1 + the deepest item's depth (capped)
  int64_t i = 0;
  double f = 0;
  std::string s;  // String; for Undefined: the name, for error messages
  std::shared_ptr<List> list;
  std::shared_ptr<Dict> dict;
  std::shared_ptr<Function> fn;

  static Value undefined(std::string name = {}) { Value v; v.s = std::move(name); return v; }
  static Value none() { Value v; v.type = Type::None; return v; }
  static Value boolean(bool x) { Value v; v.type = Type::Bool; v.b = x; return v; }
  static Value integer(int64_t x) { Value v; v.type = Type::Int; v.i = x; return v; }
  static Value number(double x) { Value v; v.type = Type::Float; v.f = x; return v; }
  static Value string(std::string x) { Value v; v.type = Type::String; v.s = std::move(x); return v; }
  static Value list_of(List x, bool tuple = false);
  static Value dict_of(Dict x);
  static Value function(Function f) { Value v; v.type = Type::Function; v.fn = std::make_shared<Function>(std::move(f)); return v; }

  bool is_undefined() const { return type == Type::Undefined; }
  bool is_none() const { return type == Type::None; }
  bool is_string() const { return type == Type::String; }
  bool is_list() const { return type == Type::List; }
  bool is_dict() const { return type == Type::Dict; }
  bool is_int() const { return type == Type::Int || type == Type::Bool; }
  bool is_number() const { return type == Type::Int || type == Type::Float || type == Type::Bool; }
  double as_double() const { return type == Type::Float ? f : type == Type::Bool ? double(b) : double(i); }
  int64_t as_int() const { return type == Type::Bool ? int64_t(b) : i; }  // Int and Bool
  // Dict lookup (nullptr if absent or not a dict).
  const Value* find(std::string_view key) const;
};

// What one render may use. The defaults leave real chat templates (also over long
// conversations and tool lists) far inside them and stop a hostile one in about a second.
struct RenderLimits {
  int64_t max_steps = 2'000'000;                // expression evaluations and statements
  int64_t max_work_bytes = int64_t(256) << 20;  // bytes of strings built or copied in all
  int64_t max_string_bytes = int64_t(16) << 20; // any one string
  int64_t max_items = int64_t(1) << 20;         // any one list, range or dict
  int64_t max_output_bytes = int64_t(32) << 20; // the rendered text
};

// The context of a render that builtins see: the line being evaluated (for messages) and the
// budget every step and every built string draws from.
class Ctx {
 public:
  explicit Ctx(const RenderLimits& limits) : limits_(limits) {}
  int line = 0;

  // "chat template line N: <msg>"
  Error fail(const std::string& msg) const;
  // n evaluation steps (a builtin that loops over items counts them).
  Status step(int64_t n = 1);
  // Work proportional to `bytes` (a string built or copied).
  Status charge(int64_t bytes);
  // Before building: a string of `bytes`, a list (or dict) of `n` items, a value `depth` deep.
  Status fits_string(int64_t bytes) const;
  Status fits_items(int64_t n) const;
  Status fits_depth(int depth) const;
  const RenderLimits& limits() const { return limits_; }

 private:
  RenderLimits limits_;
  int64_t steps_ = 0, work_ = 0;
};

// Checked integer arithmetic (Python ints do not overflow; here an overflow fails the render).
Result<int64_t> checked_add(int64_t a, int64_t b, Ctx& c);
Result<int64_t> checked_sub(int64_t a, int64_t b, Ctx& c);
Result<int64_t> checked_mul(int64_t a, int64_t b, Ctx& c);

// Python semantics.
bool truthy(const Value& v);
std::string to_str(const Value& v);   // str(v); Undefined -> ""
std::string repr(const Value& v);     // repr(v)
std::string type_name(const Value& v);  // Python's name ("str", "int", "dict", ...)
bool equals(const Value& a, const Value& b);
// <, for numbers, strings and lists; error for other types.
Result<bool> less(const Value& a, const Value& b);
// json.dumps(v, ensure_ascii=False, indent=indent (<0: none), separators, sort_keys).
Result<std::string> to_json(const Value& v, int indent, const std::string& item_sep,
                            const std::string& key_sep, bool sort_keys);
Value from_json(const Json& j);
std::string format_float(double d);  // Python repr of a float
// Code points of a UTF-8 string (invalid bytes map to themselves) and back.
std::vector<uint32_t> decode_utf8(std::string_view s);
std::string encode_utf8(const std::vector<uint32_t>& cps, size_t from = 0, size_t to = SIZE_MAX);
size_t utf8_length(std::string_view s);

// ---- Template source -> tokens -> tree ----
struct Expr {
  enum class Kind {
    Literal, Name, List, Tuple, Dict, Attr, Item, Slice, Call, Filter, Test,
    Neg, Pos, Not, Binary, Compare, And, Or, Cond
  };
  Kind kind = Kind::Literal;
  int line = 0;
  Value literal;                            // Literal
  std::string name;                         // Name, Attr, Filter, Test; Binary operator
  std::vector<std::unique_ptr<Expr>> args;  // children; see the parser for their order
  std::vector<std::string> kw_names;        // Call/Filter/Test: names of the trailing kw args
  std::vector<std::string> ops;             // Compare: operators between args
  bool negated = false;                     // Test: `is not`
};

struct Node {
  enum class Kind { Text, Output, If, For, Set, SetBlock, Macro, Break, Continue, FilterBlock, Body };
  Kind kind = Kind::Text;
  int line = 0;
  std::string text;                          // Text
  std::unique_ptr<Expr> expr;                // Output, Set value, For iterable, FilterBlock chain
  std::unique_ptr<Expr> cond;                // For `if` filter
  std::vector<std::string> targets;          // For/Set names ("ns.attr" for attributes); Macro: name, params
  std::vector<std::unique_ptr<Expr>> defaults;  // Macro parameter defaults (nullptr: none)
  std::vector<std::unique_ptr<Expr>> conds;  // If: one per branch (elif...), else has none
  std::vector<std::vector<Node>> branches;   // If: bodies (conds.size() or +1 with else)
  std::vector<Node> body, else_body;         // For, SetBlock, Macro, FilterBlock, Body
};

struct Program {
  std::vector<Node> nodes;
};

enum class TokKind { Text, VarBegin, VarEnd, BlockBegin, BlockEnd, Name, String, Int, Float, Op, Eof };
struct Token {
  TokKind kind = TokKind::Eof;
  std::string text;  // Text: the text; String: decoded value; Name/Op: as written
  int line = 1;
  int64_t i = 0;
  double f = 0;
};

// Splits a template into tokens with transformers' whitespace settings (trim_blocks,
// lstrip_blocks, one trailing newline dropped).
Result<std::vector<Token>> lex_template(std::string_view source);
Result<std::shared_ptr<const Program>> parse_template(std::string_view source);

// Renders with the given global variables, within `limits`.
using Globals = std::vector<std::pair<std::string, Value>>;
Result<std::string> render(const Program& program, const Globals& globals, const RenderLimits& limits = {});

// a <op> b for + - * / // % ** (jinja_arith.cpp).
Result<Value> binary_op(const std::string& op, const Value& a, const Value& b, Ctx& c);
// fmt % args (Python's printf-style formatting; jinja_filters.cpp).
Result<std::string> percent_format(const std::string& fmt, const Value& args, Ctx& c);

// Builtins, each a name -> function table. A name that is not in its table is an error
// ("unsupported Jinja filter 'x'").
using FilterFn = Result<Value> (*)(Value& subject, Args& args, Ctx& c);
using TestFn = Result<bool> (*)(const Value& subject, Args& args, Ctx& c);
struct FilterDef {
  FilterFn fn = nullptr;
  bool undefined_is_error = false;  // an undefined subject fails (else the filter sees it)
};
const FilterDef* find_filter(std::string_view name);  // jinja_filters.cpp
TestFn find_test(std::string_view name);              // jinja_tests.cpp
Result<Value> apply_filter(const std::string& name, Value subject, Args& args, Ctx& c);
Result<bool> apply_test(const std::string& name, const Value& subject, Args& args, Ctx& c);
// Attribute `name` of `obj` as Jinja resolves `obj.name` (methods of str/dict included, from
// the tables in jinja_methods.cpp); Undefined if there is none.
Value get_attr(const Value& obj, const std::string& name);
// obj[key] as Jinja resolves it; Undefined if there is none.
Value get_item(const Value& obj, const Value& key);
// The globals every template sees (range, namespace, dict, raise_exception, strftime_now).
void add_builtin_globals(Globals& g);
// Whether `v` may become a namespace attribute: namespaces hold no namespaces (at any depth),
// so the mutable values form no cycles or unbounded chains.
Status check_namespace_attribute(const Value& v, Ctx& c);

// ---- Helpers shared by the builtins (jinja_strings.cpp) ----
// Positional argument `idx`, else keyword `name`, else `dflt`.
Value get_arg(const Args& a, size_t idx, const char* name, Value dflt = Value::undefined());
// An integer argument (ints and bools), else an error naming `what`.
Result<int64_t> int_arg(const Value& v, const char* what, Ctx& c);
bool py_space(uint32_t cp);  // Python's str.isspace() for one code point
// str.strip/lstrip/rstrip: whitespace, or the code points in `chars` when it is a string.
std::string py_strip(const std::string& s, const Value& chars, bool left, bool right);
std::string ascii_map(std::string s, int (*f)(int));  // toupper/tolower on ASCII bytes only
std::string py_title(const std::string& s);
std::string py_capitalize(const std::string& s);
// str.split(sep=None, maxsplit=-1) / rsplit.
Result<List> py_split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right, Ctx& c);
// str.replace; fails when the result would exceed the string limit.
Result<std::string> py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                               Ctx& c);
// What a for loop iterates: list items, dict keys, string characters; Undefined -> empty. Counts
// the items as steps.
Result<List> as_sequence(const Value& v, Ctx& c);

}  // namespace hearth::jinja
