// Command-line option parsing.
#include "cli/args.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace hearth::cli {

Result<Args> Args::parse(int argc, char** argv, const std::set<std::string>& with_value,
                         const std::set<std::string>& flags, const std::map<std::string, std::string>& aliases) {
  Args a;
  for (int i = 0; i < argc; ++i) {
    std::string name = argv[i];
    auto al = aliases.find(name);
    if (al != aliases.end()) name = al->second;
    if (with_value.count(name)) {
      if (i + 1 >= argc) return err(name, ": expected a value after it");
      a.values_[name].push_back(argv[++i]);
    } else if (flags.count(name)) {
      a.values_[name].push_back("");
    } else {
      return err("unknown option \"", argv[i], "\" (--help lists the options)");
    }
  }
  return a;
}

std::optional<std::string> Args::str(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second.back();
}

std::vector<std::string> Args::all(const std::string& name) const {
  auto it = values_.find(name);
  return it == values_.end() ? std::vector<std::string>() : it->second;
}

Result<std::string> Args::required(const std::string& name) const {
  auto v = str(name);
  if (!v) return err("missing required option ", name);
  return *v;
}

Result<int64_t> Args::integer(const std::string& name, int64_t def, int64_t lo, int64_t hi) const {
  auto v = str(name);
  if (!v) return def;
  char* end = nullptr;
  errno = 0;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE) return err(name, ": expected an integer, got \"", *v, "\"");
  if (x < lo || x > hi) return err(name, ": ", *v, " is out of range [", std::to_string(lo), ", ", std::to_string(hi), "]");
  return int64_t(x);
}

Result<double> Args::number(const std::string& name, double def, double lo, double hi) const {
  auto v = str(name);
  if (!v) return def;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(x)) return err(name, ": expected a number, got \"", *v, "\"");
  if (x < lo || x > hi) return err(name, ": ", *v, " is out of range");
  return x;
}

Result<std::vector<int32_t>> parse_id_list(const std::string& text, const std::string& option) {
  std::vector<int32_t> ids;
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] == ',' || text[i] == ' ' || text[i] == '\t' || text[i] == '\n') { ++i; continue; }
    size_t j = i;
    while (j < text.size() && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || (j < text.size() && text[j] != ',' && text[j] != ' ' && text[j] != '\t' && text[j] != '\n')) {
      return err(option, ": expected token ids separated by commas or spaces, got \"", text, "\"");
    }
    if (j - i > 9) return err(option, ": token id ", text.substr(i, j - i), " is too large");
    ids.push_back(int32_t(std::strtol(text.substr(i, j - i).c_str(), nullptr, 10)));
    i = j;
  }
  if (ids.empty()) return err(option, ": no token ids given");
  return ids;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "hearth: %s\n", message.c_str());
  return 2;
}

}  // namespace hearth::cli
