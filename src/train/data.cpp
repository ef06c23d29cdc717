// Training data (see data.h).
#include "train/data.h"

#include "formats/json.h"
#include "formats/safetensors.h"
#include "train/files.h"

namespace hearth::train {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

Result<std::vector<int32_t>> read_token_rows(const std::string& path, int64_t seq, int64_t vocab) {
  HEARTH_ASSIGN(SafetensorsFile st, SafetensorsFile::open(path));
  const TensorInfo* t = st.find("tokens");
  if (!t) return err(path, ": no tensor \"tokens\" (expected I32 [S, B, seq + 1] or [N, seq + 1])");
  if (t->dtype != DType::I32) return err(path, ": tensor tokens is ", dtype_name(t->dtype), ", expected I32");
  if (t->shape.size() != 2 && t->shape.size() != 3) return err(path, ": tensor tokens has shape ", t->shape_str(), ", expected [S, B, seq + 1] or [N, seq + 1]");
  if (t->shape.back() != seq + 1) {
    return err(path, ": tensor tokens has rows of ", t->shape.back(), " tokens (shape ", t->shape_str(), "), --seq ", seq,
               " needs ", seq + 1);
  }
  if (t->numel() == 0) return err(path, ": tensor tokens is empty");
  std::vector<int32_t> v(size_t(t->numel()));
  HEARTH_CHECK(t->read_bytes(0, v.size() * 4, v.data()));
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= vocab) {
      return err(path, ": token ", v[i], " at element ", i, " of tokens is outside the vocabulary [0, ", vocab, ")");
    }
  }
  return v;
}

}  // namespace

Result<TokenData> TokenData::open(const std::string& path, int64_t seq, int64_t vocab, const Tokenizer& tokenizer,
                                  std::optional<int32_t> eos, uint64_t seed) {
  if (seq < 1) return err("--seq must be at least 1, got ", seq);
  TokenData d;
  d.seq_ = seq;
  d.rng_ = Rng(seed);
  if (!is_dir(path) && ends_with(path, ".safetensors")) {
    HEARTH_ASSIGN(d.tokens_, read_token_rows(path, seq, vocab));
    d.n_rows_ = int64_t(d.tokens_.size()) / (seq + 1);
    d.description_ = std::to_string(d.n_rows_) + " rows of " + std::to_string(seq + 1) + " tokens from " + path;
    return d;
  }
  std::vector<std::string> files;
  if (is_dir(path)) {
    HEARTH_ASSIGN(files, list_files(path));
    if (files.empty()) return err("--data ", path, ": the folder holds no files");
  } else {
    if (!file_exists(path)) return err("--data ", path, ": no such file or folder");
    files.push_back(path);
  }
  if (!tokenizer.loaded()) return err("--data ", path, " is text, but the model folder has no tokenizer.json to tokenize it with");
  for (const std::string& f : files) {
    HEARTH_ASSIGN(std::string text, read_text_file(f));
    const std::vector<int32_t> ids = tokenizer.encode(text);
    if (ids.empty()) continue;
    if (!d.tokens_.empty() && eos) d.tokens_.push_back(*eos);
    d.tokens_.insert(d.tokens_.end(), ids.begin(), ids.end());
  }
  for (int32_t id : d.tokens_) {
    if (id < 0 || id >= vocab) return err("--data ", path, ": the tokenizer gives id ", id, ", outside the model's vocabulary [0, ", vocab, ")");
  }
  if (int64_t(d.tokens_.size()) < seq + 1) {
    return err("--data ", path, ": the text gives ", d.tokens_.size(), " tokens, fewer than --seq + 1 = ", seq + 1);
  }
  d.windows_ = true;
  d.n_rows_ = (int64_t(d.tokens_.size()) - 1) / seq;
  d.order_.resize(size_t(d.n_rows_));
  for (int64_t i = 0; i < d.n_rows_; ++i) d.order_[size_t(i)] = i;
  d.rng_.shuffle(d.order_);
  d.description_ = std::to_string(d.n_rows_) + " windows of " + std::to_string(seq + 1) + " tokens from " +
                   std::to_string(files.size()) + " text file(s) in " + path + " (" + std::to_string(d.tokens_.size()) + " tokens)";
  return d;
}

std::vector<int32_t> TokenData::row(int64_t i) const {
  const int64_t start = windows_ ? order_[size_t(i)] * seq_ : i * (seq_ + 1);
  return std::vector<int32_t>(tokens_.begin() + start, tokens_.begin() + start + seq_ + 1);
}

std::vector<int32_t> TokenData::next(int64_t n) {
  std::vector<int32_t> out;
  out.reserve(size_t(n * (seq_ + 1)));
  for (int64_t k = 0; k < n; ++k) {
    if (cursor_ == n_rows_) {
      cursor_ = 0;
      if (windows_) rng_.shuffle(order_);
    }
    const std::vector<int32_t> r = row(cursor_++);
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

}  // namespace hearth::train
