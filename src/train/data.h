// Training data (--data): rows of seq + 1 token ids, consumed a micro-batch at a time.
//  - a safetensors file with an I32 tensor "tokens" of shape [S, B, seq + 1] or [N, seq + 1]:
//    rows are taken in file order (inputs row[:-1], targets row[1:]), starting over at the end;
//  - a text file, or a folder of text files (all files below it, in path order): each file is
//    tokenized with the model's tokenizer.json, files joined with the end-of-sequence token,
//    and cut into windows of seq + 1 tokens (consecutive windows share one token, so every
//    token after the first is a target once); the windows are shuffled with the seed and
//    reshuffled at the end of every pass.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "train/rng.h"

namespace hearth::train {

class TokenData {
 public:
  // tokenizer: needed for text (may be unloaded otherwise); eos: the separator between files.
  static Result<TokenData> open(const std::string& path, int64_t seq, int64_t vocab, const Tokenizer& tokenizer,
                                std::optional<int32_t> eos, uint64_t seed);
  // The next n rows: [n, seq + 1].
  std::vector<int32_t> next(int64_t n);
  int64_t rows() const { return n_rows_; }
  int64_t seq() const { return seq_; }
  // "12 rows of 65 tokens from FILE" / "... windows of ... tokens of text from ...".
  const std::string& description() const { return description_; }

 private:
  TokenData() : rng_(0) {}
  std::vector<int32_t> row(int64_t i) const;
  std::vector<int32_t> tokens_;  // safetensors: rows back to back; text: the token stream
  bool windows_ = false;         // text: row i starts at order_[i] * seq_
  int64_t seq_ = 0, n_rows_ = 0, cursor_ = 0;
  std::vector<int64_t> order_;
  Rng rng_;
  std::string description_;
};

}  // namespace hearth::train
