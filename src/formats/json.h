// A small JSON reader and writer: parses UTF-8 text into a tree of Json values, with errors that
// give the line and column, and writes values back as text. Used for config.json, safetensors headers, tokenizer.json and adapters.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/utf8.h"

namespace hearth {

class Json {
 public:
  enum class Kind { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  // Objects keep keys in file order (tokenizer vocabularies are large; lookups go through find).
  using Object = std::vector<std::pair<std::string, Json>>;

  Json() = default;
  static Json boolean(bool b) { Json j; j.kind_ = Kind::Bool; j.b_ = b; return j; }
  static Json number(double d, bool is_int) { Json j; j.kind_ = Kind::Number; j.num_ = d; j.is_int_ = is_int; return j; }
  static Json string(std::string s) { Json j; j.kind_ = Kind::String; j.str_ = std::move(s); return j; }
  static Json array(Array a) { Json j; j.kind_ = Kind::Array; j.arr_ = std::make_shared<Array>(std::move(a)); return j; }
  static Json object(Object o) { Json j; j.kind_ = Kind::Object; j.obj_ = std::make_shared<Object>(std::move(o)); return j; }

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::Null; }
  bool is_bool() const { return kind_ == Kind::Bool; }
  bool is_number() const { return kind_ == Kind::Number; }
  // A number written without fraction or exponent (and within int64).
  bool is_integer() const { return kind_ == Kind::Number && is_int_; }
  bool is_string() const { return kind_ == Kind::String; }
  bool is_array() const { return kind_ == Kind::Array; }
  bool is_object() const { return kind_ == Kind::Object; }

  bool as_bool() const { return b_; }
  double as_double() const { return num_; }
  // The number as an integer, saturated at the int64 range (NaN gives 0): never the undefined
  // conversion of an out-of-range double. Check fits_int64() where the range matters.
  int64_t as_int() const {
    if (!(num_ == num_)) return 0;
    if (num_ >= 9223372036854775807.0) return INT64_MAX;
    if (num_ <= -9223372036854775808.0) return INT64_MIN;
    return int64_t(num_);
  }
  // A number with no fractional part inside [-2^63, 2^63).
  bool fits_int64() const {
    return kind_ == Kind::Number && num_ == num_ && num_ >= -9223372036854775808.0 && num_ < 9223372036854775808.0 &&
           num_ == double(int64_t(num_));
  }
  const std::string& as_string() const { return str_; }
  const Array& as_array() const { static const Array e; return arr_ ? *arr_ : e; }
  const Object& as_object() const { static const Object e; return obj_ ? *obj_ : e; }
  size_t size() const { return is_array() ? arr_->size() : is_object() ? obj_->size() : 0; }
  const Json& operator[](size_t i) const { return (*arr_)[i]; }

  // Member lookup (linear; objects here are small or iterated). nullptr if absent or not an object.
  const Json* find(std::string_view key) const;
  // find() that treats an explicit null like a missing key.
  const Json* find_non_null(std::string_view key) const {
    const Json* j = find(key);
    return (j && !j->is_null()) ? j : nullptr;
  }

  static const char* kind_name(Kind k);
  // Compact JSON text of this value (json_write.cpp); numbers round-trip (%.17g, integers as
  // integers), strings are escaped, object keys keep their order.
  std::string dump() const;

 private:
  Kind kind_ = Kind::Null;
  bool b_ = false;
  bool is_int_ = false;
  double num_ = 0;
  std::string str_;
  std::shared_ptr<Array> arr_;
  std::shared_ptr<Object> obj_;
};

// Parses a whole document; `what` names the source in errors ("config.json").
Result<Json> parse_json(std::string_view text, const std::string& what);
// Reads and parses a file.
Result<Json> read_json_file(const std::string& path);
// Reads a whole file into a string.
Result<std::string> read_text_file(const std::string& path);


}  // namespace hearth
