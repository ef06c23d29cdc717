// Shared by the C API files of the wasm engine module (hearth_web.cpp, hearth_web_train.cpp):
// the reader of JS option objects, the model folders loaded by hearth_load, and the last error
// (hearth_last_error).
#pragma once
#include <cmath>
#include <string>
#include <vector>

#include "core/error.h"
#include "engine/model_folder.h"
#include "formats/json.h"

namespace hearth::web {

// Reads the members of a JS options object, each checked for type and range; errors name the
// option as JS spells it.
class Options {
 public:
  static Result<Options> parse(const char* text, const char* what) {
    HEARTH_ASSIGN(Json j, parse_json(text ? text : "{}", what));
    if (!j.is_object()) return err(what, ": expected an object");
    Options o;
    o.j_ = std::move(j);
    return o;
  }
  const Json* get(const char* key) const { return j_.find_non_null(key); }
  Result<double> number(const char* key, double dflt, double lo, double hi) const {
    const Json* v = get(key);
    if (!v) return dflt;
    if (!v->is_number()) return err(key, ": expected a number");
    const double d = v->as_double();
    if (!(d >= lo && d <= hi)) return err(key, ": ", d, " is outside [", lo, ", ", hi, "]");
    return d;
  }
  Result<int64_t> integer(const char* key, int64_t dflt, int64_t lo, int64_t hi) const {
    const Json* v = get(key);
    if (!v) return dflt;
    if (!v->is_number() || v->as_double() != std::floor(v->as_double())) return err(key, ": expected a whole number");
    const double d = v->as_double();
    if (!(d >= double(lo) && d <= double(hi))) return err(key, ": ", d, " is outside [", lo, ", ", hi, "]");
    return int64_t(d);
  }
  Result<bool> boolean(const char* key, bool dflt) const {
    const Json* v = get(key);
    if (!v) return dflt;
    if (!v->is_bool()) return err(key, ": expected true or false");
    return v->as_bool();
  }
  Result<std::string> string(const char* key, const std::string& dflt) const {
    const Json* v = get(key);
    if (!v) return dflt;
    if (!v->is_string()) return err(key, ": expected a string");
    return v->as_string();
  }
  // An array of token ids, each a whole number in [lo, 2^31).
  Result<std::vector<int32_t>> ids(const char* key, double lo = 0) const {
    std::vector<int32_t> out;
    const Json* v = get(key);
    if (!v) return out;
    if (!v->is_array()) return err(key, ": expected an array of token ids");
    for (const Json& x : v->as_array()) {
      if (!x.is_number() || x.as_double() != std::floor(x.as_double()) || x.as_double() < lo ||
          x.as_double() > 2147483647.0) {
        return err(key, ": every id must be a whole number in [", lo, ", 2^31)");
      }
      out.push_back(int32_t(x.as_double()));
    }
    return out;
  }
  Result<std::vector<std::string>> strings(const char* key) const {
    std::vector<std::string> out;
    const Json* v = get(key);
    if (!v) return out;
    if (!v->is_array()) return err(key, ": expected an array of strings");
    for (const Json& x : v->as_array()) {
      if (!x.is_string()) return err(key, ": expected an array of strings");
      out.push_back(x.as_string());
    }
    return out;
  }

 private:
  Json j_;
};

// The folder behind a hearth_load handle; nullptr (and the last error set) for an invalid one.
ModelFolder* folder(int handle);
// Sets what hearth_last_error() returns.
void set_error(const std::string& message);

}  // namespace hearth::web
