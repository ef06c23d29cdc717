// The BPE model of tokenizer.json: vocabulary, merge ranks, and the merge loop that turns one
// pre-token into ids. Byte-level vocabularies (GPT-2 / Llama 3 / Qwen) are stored with their keys
// decoded to raw bytes, so words are merged as bytes; sentencepiece-style vocabularies (Llama 2)
// are merged as characters with <0xNN> byte fallback.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "formats/json.h"

namespace hearth::tok {

// Open-addressing hash map from byte strings to ids; owns a copy of its keys.
class StringIndex {
 public:
  void reserve(size_t n);
  // Adds `key` -> `id` unless the key is present (the first id wins).
  void insert(std::string_view key, int32_t id);
  // The id of `key`, or -1.
  int32_t find(std::string_view key) const;
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint32_t off = 0, len = 0;
    int32_t id = -1;
    uint32_t hash = 0;
  };
  void grow();
  std::string arena_;
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

// (left id, right id) -> (rank, merged id).
class MergeTable {
 public:
  struct Entry {
    uint64_t key = ~uint64_t(0);
    uint32_t rank = 0;
    int32_t result = -1;
  };
  void reserve(size_t n);
  // Inserts or overwrites (a later duplicate of a pair wins, as in HF's hash map).
  void insert(int32_t a, int32_t b, uint32_t rank, int32_t result);
  const Entry* find(int32_t a, int32_t b) const;
  size_t size() const { return count_; }

 private:
  static uint64_t key_of(int32_t a, int32_t b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
  void grow();
  std::vector<Entry> slots_;
  size_t count_ = 0;
};

// Reusable buffers for BpeModel::encode (one per encode call; the model itself is immutable).
struct BpeScratch {
  std::vector<int32_t> ids, prev, next;
  std::vector<uint64_t> heap;  // (rank << 32 | position) of candidate merges
  std::vector<int32_t> out;
};

class BpeModel {
 public:
  // `model` is the "model" object of tokenizer.json; `byte_level` when a ByteLevel pre-tokenizer
  // feeds it (keys are then stored as the bytes they stand for).
  static Result<BpeModel> parse(const Json& model, bool byte_level, const std::string& where);

  // Appends the ids of one pre-token.
  void encode(std::string_view word, std::vector<int32_t>& out, BpeScratch& scratch) const;

  // One past the largest id of the vocabulary.
  int32_t id_count() const { return int32_t(text_off_.size()) - 1; }
  // The token string as written in tokenizer.json ("Ġhello", "▁the", "<0x0A>"); empty if none.
  std::string_view token(int32_t id) const;
  bool has_token(int32_t id) const;
  // The id of a token string as written in tokenizer.json, or -1.
  int32_t find(std::string_view token) const { return by_text_.find(token); }
  // Number of distinct token strings in the vocabulary (HF's get_vocab_size for the model).
  size_t entry_count() const { return by_text_.size(); }
  size_t merge_count() const { return merges_.size(); }

 private:
  void merge_small(int32_t* ids, size_t& n) const;
  void merge_large(BpeScratch& s) const;
  void encode_symbols(std::string_view word, std::vector<int32_t>& out, BpeScratch& s) const;
  void add_symbols_for_char(std::string_view ch, std::vector<int32_t>& syms, int32_t& pending_unk,
                            bool& has_pending) const;

  bool byte_level_ = false;
  bool byte_fallback_ = false;
  bool fuse_unk_ = false;
  bool ignore_merges_ = false;
  int32_t unk_id_ = -1;
  // No token has U+2581 after another character (sentencepiece vocabularies): a long word can be
  // cut before each U+2581 that follows another character without changing the result.
  bool cut_before_metaspace_ = false;
  std::string texts_;               // token strings, concatenated
  std::vector<uint32_t> text_off_;  // id -> offset in texts_ (size id_count + 1)
  std::vector<uint8_t> present_;    // id -> 1 if the vocabulary has it
  StringIndex by_text_;             // token string -> id
  StringIndex by_key_;              // byte-level: decoded bytes -> id (else unused)
  MergeTable merges_;
  int32_t byte_ids_[256];           // byte-level: id of each single byte (-1: none)
  int32_t fallback_ids_[256];       // <0xNN> tokens (-1: none)
  int32_t ascii_ids_[128];          // char-level: id of each ASCII character (-1: none)
};

}  // namespace hearth::tok
