// Json::dump: compact JSON text (engine info for front ends, config.json files written back).
#include <cmath>
#include <cstdio>

#include "formats/json.h"

namespace hearth {

namespace {

void write_string(const std::string& s, std::string& out) {
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", u);
      out += b;
    } else {
      out += c;
    }
  }
  out += '"';
}

void write_number(const Json& j, std::string& out) {
  const double d = j.as_double();
  char b[32];
  if (!std::isfinite(d)) {
    out += "null";  // JSON has no NaN or infinity
  } else if (j.is_integer() || (d == std::floor(d) && std::fabs(d) < 9.007199254740992e15)) {
    std::snprintf(b, sizeof b, "%lld", static_cast<long long>(d));
    out += b;
  } else {
    std::snprintf(b, sizeof b, "%.17g", d);
    out += b;
  }
}

void write(const Json& j, std::string& out) {
  switch (j.kind()) {
    case Json::Kind::Null: out += "null"; return;
    case Json::Kind::Bool: out += j.as_bool() ? "true" : "false"; return;
    case Json::Kind::Number: write_number(j, out); return;
    case Json::Kind::String: write_string(j.as_string(), out); return;
    case Json::Kind::Array: {
      out += '[';
      bool first = true;
      for (const Json& v : j.as_array()) {
        if (!first) out += ',';
        first = false;
        write(v, out);
      }
      out += ']';
      return;
    }
    case Json::Kind::Object: {
      out += '{';
      bool first = true;
      for (const auto& [k, v] : j.as_object()) {
        if (!first) out += ',';
        first = false;
        write_string(k, out);
        out += ':';
        write(v, out);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string Json::dump() const {
  std::string out;
  write(*this, out);
  return out;
}

}  // namespace hearth
