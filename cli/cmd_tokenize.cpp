// `hearth tokenize`: encodes text to token ids (or decodes ids to text) with a tokenizer.json.
//   hearth tokenize -t PATH (--text TEXT | --file F) [--decode "1 2 3"] [--skip-special]
// PATH is a tokenizer.json or a folder containing one. Ids are printed on one line, separated by
// single spaces, without BOS/EOS. Errors: one line on stderr, exit code 2.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <iterator>
#include <string>
#include <vector>

#include "commands.h"
#include "formats/json.h"
#include "formats/gguf.h"
#include "tokenizer/tokenizer.h"

namespace hearth::cli {

const char kTokenizeUsage[] =
    "usage: hearth tokenize -t PATH (--text TEXT | --file F) [--decode \"1 2 3\"] [--skip-special]\n"
    "  -t, --tokenizer PATH  tokenizer.json, a model folder containing one, or a .gguf file\n"
    "  --text TEXT           text to encode\n"
    "  --file F              file whose contents to encode ('-' reads standard input)\n"
    "  --decode IDS          decode these ids (separated by spaces or commas) instead\n"
    "  --skip-special        with --decode: leave special tokens out\n"
    "Prints the ids on one line separated by spaces (no BOS/EOS added), or the decoded text.\n";

namespace {


int fail(const std::string& message) {
  std::fprintf(stderr, "hearth tokenize: %s\n", message.c_str());
  return 2;
}

// Parses "1 2 3" or "1,2,3" into ids; false with a message on a bad entry.
bool parse_ids(const std::string& s, std::vector<int32_t>& ids, std::string& error) {
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == ',' || c == '\t' || c == '\n' || c == '\r' || c == '[' || c == ']') {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9') ++j;
    bool ends_ok = j == s.size() || s[j] == ' ' || s[j] == ',' || s[j] == '\t' || s[j] == '\n' ||
                   s[j] == '\r' || s[j] == ']';
    if (j == i || !ends_ok || j - i > 10) {
      size_t e = s.find_first_of(" ,\t\n", i);
      error = "--decode: '" + s.substr(i, e == std::string::npos ? std::string::npos : e - i) +
              "' is not a token id";
      return false;
    }
    long long v = std::atoll(s.substr(i, j - i).c_str());
    if (v > 0x7FFFFFFF) {
      error = "--decode: id " + s.substr(i, j - i) + " is out of range";
      return false;
    }
    ids.push_back(int32_t(v));
    i = j;
  }
  return true;
}

}  // namespace

int cmd_tokenize(int argc, char** argv) {
  std::string path, text, file, decode_arg;
  bool have_text = false, have_file = false, have_decode = false, skip_special = false;
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](std::string& out) -> bool {
      if (i + 1 >= argc) return false;
      out = argv[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      std::fputs(kTokenizeUsage, stdout);
      return 0;
    } else if (a == "-t" || a == "--tokenizer") {
      if (!value(path)) return fail(a + " needs a path");
    } else if (a == "--text") {
      if (!value(text)) return fail("--text needs a value");
      have_text = true;
    } else if (a == "--file") {
      if (!value(file)) return fail("--file needs a path");
      have_file = true;
    } else if (a == "--decode") {
      if (!value(decode_arg)) return fail("--decode needs ids");
      have_decode = true;
    } else if (a == "--skip-special") {
      skip_special = true;
    } else {
      return fail("unknown argument '" + a + "' (see hearth tokenize --help)");
    }
  }
  if (path.empty()) return fail("missing -t PATH (a tokenizer.json or a model folder)");
  if (have_text && have_file) return fail("give either --text or --file, not both");
  if (!have_decode && !have_text && !have_file) return fail("missing --text TEXT, --file F or --decode IDS");

  std::vector<int32_t> ids;
  std::string error;
  if (have_decode && !parse_ids(decode_arg, ids, error)) return fail(error);

  auto tok = is_gguf_file(path) ? Tokenizer::load_for_model(path) : Tokenizer::load_file(path);
  if (!tok.ok()) return fail(tok.message());

  if (have_decode) {
    for (int32_t id : ids) {
      if (id >= tok->vocab_size() || tok->token_text(id).empty()) {
        return fail("--decode: id " + std::to_string(id) + " is not in the vocabulary (size " +
                    std::to_string(tok->vocab_size()) + ")");
      }
    }
    std::string out = tok->decode(ids, skip_special);
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  if (have_file) {
    if (file == "-") {
      text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    } else {
      auto contents = read_text_file(file);
      if (!contents.ok()) return fail(contents.message());
      text = std::move(*contents);
    }
  }
  std::vector<int32_t> out = tok->encode(text);
  std::string line;
  line.reserve(out.size() * 7);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(out[i]);
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stdout);
  return 0;
}

}  // namespace hearth::cli
