// A small command-line option parser: "--name value" / "-n value" pairs and boolean flags,
// with errors that name the option and what was expected. An option given several times keeps
// every value (all()); str() and the typed getters read the last one.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/error.h"

namespace hearth::cli {

class Args {
 public:
  // `with_value` lists options that take a value, `flags` those that do not. Aliases map a
  // short name to its long one ("-m" -> "--model").
  static Result<Args> parse(int argc, char** argv, const std::set<std::string>& with_value,
                            const std::set<std::string>& flags,
                            const std::map<std::string, std::string>& aliases = {});

  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::optional<std::string> str(const std::string& name) const;
  std::vector<std::string> all(const std::string& name) const;
  Result<int64_t> integer(const std::string& name, int64_t def, int64_t lo, int64_t hi) const;
  Result<double> number(const std::string& name, double def, double lo, double hi) const;
  Result<std::string> required(const std::string& name) const;

 private:
  std::map<std::string, std::vector<std::string>> values_;
};

// "1,2,3" or "1 2 3" -> ids; errors name the option.
Result<std::vector<int32_t>> parse_id_list(const std::string& text, const std::string& option);

// Prints "hearth: <message>" to stderr and returns exit code 2.
int fail(const std::string& message);

}  // namespace hearth::cli
