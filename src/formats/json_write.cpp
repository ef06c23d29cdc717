// JSON text output (see json_write.h).
#include "formats/json_write.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hearth {

namespace {

void put_string(std::string& out, const std::string& s) {
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += char(c);
        }
    }
  }
  out += '"';
}

void put_number(std::string& out, const Json& j) {
  const double d = j.as_double();
  char buf[40];
  if (j.is_integer()) {
    std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(j.as_int()));
  } else if (!std::isfinite(d)) {
    std::snprintf(buf, sizeof buf, "null");  // JSON has no inf / nan
  } else {
    for (int prec = 6; prec <= 17; ++prec) {
      std::snprintf(buf, sizeof buf, "%.*g", prec, d);
      if (std::strtod(buf, nullptr) == d) break;
    }
  }
  out += buf;
}

void put(std::string& out, const Json& j, int indent, bool compact_arrays, int depth) {
  auto newline = [&](int d) {
    if (indent <= 0) return;
    out += '\n';
    out.append(size_t(indent * d), ' ');
  };
  switch (j.kind()) {
    case Json::Kind::Null: out += "null"; return;
    case Json::Kind::Bool: out += j.as_bool() ? "true" : "false"; return;
    case Json::Kind::Number: put_number(out, j); return;
    case Json::Kind::String: put_string(out, j.as_string()); return;
    case Json::Kind::Array: {
      out += '[';
      const bool flat = compact_arrays || j.size() == 0;
      for (size_t i = 0; i < j.size(); ++i) {
        if (i) out += flat && indent > 0 ? ", " : ",";
        if (!flat) newline(depth + 1);
        put(out, j[i], flat ? 0 : indent, compact_arrays, depth + 1);
      }
      if (!flat) newline(depth);
      out += ']';
      return;
    }
    case Json::Kind::Object: {
      out += '{';
      const auto& o = j.as_object();
      for (size_t i = 0; i < o.size(); ++i) {
        if (i) out += ',';
        newline(depth + 1);
        put_string(out, o[i].first);
        out += indent > 0 ? ": " : ":";
        put(out, o[i].second, indent, compact_arrays, depth + 1);
      }
      if (!o.empty()) newline(depth);
      out += '}';
      return;
    }
  }
}

}  // namespace

std::string json_text(const Json& j, int indent, bool compact_arrays) {
  std::string out;
  put(out, j, indent, compact_arrays, 0);
  if (indent > 0) out += '\n';
  return out;
}

Status write_json_file(const std::string& path, const Json& j, int indent, bool compact_arrays) {
  const std::string text = json_text(j, indent, compact_arrays);
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return err(path, ": cannot create file");
  const bool ok = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  if (std::fclose(f) != 0 || !ok) return err(path, ": write failed (disk full?)");
  return {};
}

}  // namespace hearth

namespace hearth {

std::string Json::dump() const { return json_text(*this, 0); }

}  // namespace hearth
