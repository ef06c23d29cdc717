// String helpers with Python semantics shared by the filters and methods (strip, split,
// replace, title, ...), argument access, and what a for loop iterates. Case mapping is
// ASCII-only; the rest follows Python on UTF-8 text.
#include <algorithm>
#include <cctype>

#include "chat/jinja.h"

namespace hearth::jinja {

Value get_arg(const Args& a, size_t idx, const char* name, Value dflt) {
  if (idx < a.pos.size()) return a.pos[idx];
  for (const auto& kv : a.kw)
    if (kv.first == name) return kv.second;
  return dflt;
}

Result<int64_t> int_arg(const Value& v, const char* what, Ctx& c) {
  if (!v.is_int()) return c.fail(std::string(what) + " must be an integer, not " + type_name(v));
  return v.as_int();
}

bool py_space(uint32_t c) {
  return c == ' ' || (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
         c == 0x205f || c == 0x3000;
}

std::string py_strip(const std::string& s, const Value& chars, bool left, bool right) {
  const auto cps = decode_utf8(s);
  std::vector<uint32_t> set;
  const bool ws = !chars.is_string();
  if (!ws) set = decode_utf8(chars.s);
  auto drop = [&](uint32_t c) { return ws ? py_space(c) : std::find(set.begin(), set.end(), c) != set.end(); };
  size_t b = 0, e = cps.size();
  if (left) while (b < e && drop(cps[b])) ++b;
  if (right) while (e > b && drop(cps[e - 1])) --e;
  return encode_utf8(cps, b, e);
}

std::string ascii_map(std::string s, int (*f)(int)) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x80) c = char(f(static_cast<unsigned char>(c)));
  return s;
}
std::string py_title(const std::string& s) {
  std::string out = s;
  bool prev_alpha = false;
  for (char& c : out) {
    const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (alpha) c = char(prev_alpha ? std::tolower(static_cast<unsigned char>(c)) : std::toupper(static_cast<unsigned char>(c)));
    prev_alpha = alpha || (static_cast<unsigned char>(c) >= 0x80);
  }
  return out;
}
std::string py_capitalize(const std::string& s) {
  std::string out = ascii_map(s, [](int c) { return std::tolower(c); });
  if (!out.empty()) out[0] = char(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

Result<List> py_split(const std::string& s, const Value& sep, int64_t maxsplit, bool from_right, Ctx& c) {
  List out;
  if (!sep.is_string()) {
    const auto cps = decode_utf8(s);
    std::vector<std::pair<size_t, size_t>> words;
    size_t i = 0;
    while (i < cps.size()) {
      while (i < cps.size() && py_space(cps[i])) ++i;
      if (i >= cps.size()) break;
      size_t j = i;
      while (j < cps.size() && !py_space(cps[j])) ++j;
      words.emplace_back(i, j);
      if (int64_t(words.size()) > c.limits().max_items) HEARTH_CHECK(c.fits_items(int64_t(words.size())));
      i = j;
    }
    if (maxsplit >= 0 && int64_t(words.size()) - 1 > maxsplit) {
      if (from_right) {
        const size_t keep = words.size() - size_t(maxsplit);
        size_t first_end = words[keep - 1].second;
        out.push_back(Value::string(encode_utf8(cps, words[0].first, first_end)));
        for (size_t k = keep; k < words.size(); ++k)
          out.push_back(Value::string(encode_utf8(cps, words[k].first, words[k].second)));
        return out;
      }
      for (size_t k = 0; k < size_t(maxsplit); ++k)
        out.push_back(Value::string(encode_utf8(cps, words[k].first, words[k].second)));
      size_t e = cps.size();
      while (e > 0 && py_space(cps[e - 1])) --e;
      out.push_back(Value::string(encode_utf8(cps, words[size_t(maxsplit)].first, e)));
      return out;
    }
    for (auto& w : words) out.push_back(Value::string(encode_utf8(cps, w.first, w.second)));
    return out;
  }
  const std::string& d = sep.s;
  if (d.empty()) return c.fail("split: empty separator");
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    const size_t p = s.find(d, start);
    if (p == std::string::npos) break;
    parts.push_back(s.substr(start, p - start));
    if (int64_t(parts.size()) > c.limits().max_items) HEARTH_CHECK(c.fits_items(int64_t(parts.size())));
    start = p + d.size();
  }
  parts.push_back(s.substr(start));
  if (maxsplit >= 0 && int64_t(parts.size()) - 1 > maxsplit) {
    std::vector<std::string> merged;
    if (from_right) {
      const size_t head = parts.size() - size_t(maxsplit);
      std::string first;
      for (size_t k = 0; k < head; ++k) first += (k ? d : "") + parts[k];
      merged.push_back(first);
      merged.insert(merged.end(), parts.begin() + ptrdiff_t(head), parts.end());
    } else {
      merged.assign(parts.begin(), parts.begin() + maxsplit);
      std::string rest;
      for (size_t k = size_t(maxsplit); k < parts.size(); ++k) rest += (k > size_t(maxsplit) ? d : "") + parts[k];
      merged.push_back(rest);
    }
    parts = merged;
  }
  for (auto& p : parts) out.push_back(Value::string(p));
  return out;
}

Result<std::string> py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count,
                               Ctx& c) {
  // The result's size, before building it.
  int64_t n_hits = 0;
  if (from.empty()) {
    n_hits = int64_t(utf8_length(s)) + 1;
  } else {
    for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + from.size())) ++n_hits;
  }
  if (count >= 0) n_hits = std::min(n_hits, count);
  const double size = double(s.size()) + double(n_hits) * (double(to.size()) - double(from.size()));
  HEARTH_CHECK(c.fits_string(size > 9e18 ? INT64_MAX : int64_t(size)));
  HEARTH_CHECK(c.charge(int64_t(size)));
  if (from.empty()) {
    // Python inserts `to` between every character (and at both ends).
    const auto cps = decode_utf8(s);
    std::string out;
    int64_t n = 0;
    for (size_t k = 0; k <= cps.size(); ++k) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      if (k < cps.size()) out += encode_utf8(cps, k, k + 1);
    }
    return out;
  }
  std::string out;
  size_t start = 0;
  int64_t n = 0;
  while (count < 0 || n < count) {
    const size_t p = s.find(from, start);
    if (p == std::string::npos) break;
    out += s.substr(start, p - start) + to;
    start = p + from.size();
    ++n;
  }
  return out + s.substr(start);
}

Result<List> as_sequence(const Value& v, Ctx& c) {
  switch (v.type) {
    case Value::Type::List:
      HEARTH_CHECK(c.step(int64_t(v.list->size())));
      return *v.list;
    case Value::Type::Dict: {
      HEARTH_CHECK(c.step(int64_t(v.dict->size())));
      List keys;
      for (const auto& kv : *v.dict) keys.push_back(Value::string(kv.first));
      return keys;
    }
    case Value::Type::String: {
      List out;
      const auto cps = decode_utf8(v.s);
      HEARTH_CHECK(c.fits_items(int64_t(cps.size())));
      HEARTH_CHECK(c.step(int64_t(cps.size())));
      for (size_t k = 0; k < cps.size(); ++k) out.push_back(Value::string(encode_utf8(cps, k, k + 1)));
      return out;
    }
    case Value::Type::Undefined: return List{};
    default: {
      std::string msg(1, '\'');
      msg += type_name(v);
      msg += "' object is not iterable";
      return c.fail(msg);
    }
  }
}

}  // namespace hearth::jinja
