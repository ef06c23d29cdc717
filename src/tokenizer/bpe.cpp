// BPE: vocabulary / merge tables and the merge loop. The loop applies the lowest-ranked merge
// first and the leftmost one among equal ranks, like HF tokenizers; short words use a flat array
// with cached pair ranks, long ones a binary heap over a linked list (O(n log n)), so a 1 MB word
// (Llama 2 has no pre-tokenizer split) stays fast.
#include "tokenizer/bpe.h"

#include "core/warning.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "tokenizer/decoders.h"
#include "tokenizer/unicode.h"

namespace hearth::tok {
namespace {

constexpr size_t kSmallWord = 64;   // symbols; above this the heap loop runs
constexpr int64_t kMaxId = 1 << 24;  // guards allocations against absurd ids

uint32_t hash_bytes(std::string_view s) {
  uint64_t h = 0x9E3779B97F4A7C15ull ^ s.size();
  size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t v;
    std::memcpy(&v, s.data() + i, 8);
    h = (h ^ v) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
  }
  uint64_t tail = 0;
  for (size_t k = 0; i < s.size(); ++i, ++k) tail |= uint64_t(uint8_t(s[i])) << (8 * k);
  h = (h ^ tail) * 0x94D049BB133111EBull;
  h ^= h >> 31;
  return uint32_t(h) ^ uint32_t(h >> 32);
}

uint64_t mix64(uint64_t x) {
  x ^= x >> 33;
  x *= 0xFF51AFD7ED558CCDull;
  x ^= x >> 33;
  x *= 0xC4CEB9FE1A85EC53ull;
  x ^= x >> 33;
  return x;
}

size_t pow2_at_least(size_t n) {
  size_t c = 16;
  while (c < n) c <<= 1;
  return c;
}

// Decodes a byte-level token string ("Ġhello") into the bytes it stands for; false if a character
// is outside the GPT-2 byte map.
bool byte_level_decode(std::string_view s, std::string& out) {
  out.clear();
  for (size_t i = 0; i < s.size();) {
    size_t n = unicode::valid_sequence_length(s, i);
    if (n == 0) return false;
    size_t len;
    uint32_t cp = unicode::decode_at(s, i, &len);
    int b = char_byte(cp);
    if (b < 0) return false;
    out += char(b);
    i += len;
  }
  return true;
}

}  // namespace

// ---- StringIndex ----

void StringIndex::reserve(size_t n) {
  if (pow2_at_least(n * 2) > slots_.size()) {
    std::vector<Slot> old;
    old.swap(slots_);
    slots_.assign(pow2_at_least(n * 2), Slot{});
    for (const Slot& s : old) {
      if (s.id < 0) continue;
      size_t i = s.hash & (slots_.size() - 1);
      while (slots_[i].id >= 0) i = (i + 1) & (slots_.size() - 1);
      slots_[i] = s;
    }
  }
}

void StringIndex::grow() { reserve(std::max<size_t>(count_ * 2, 16)); }

void StringIndex::insert(std::string_view key, int32_t id) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  uint32_t h = hash_bytes(key);
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    Slot& s = slots_[i];
    if (s.id < 0) {
      s.off = uint32_t(arena_.size());
      s.len = uint32_t(key.size());
      s.id = id;
      s.hash = h;
      arena_.append(key);
      ++count_;
      return;
    }
    if (s.hash == h && std::string_view(arena_).substr(s.off, s.len) == key) return;
  }
}

int32_t StringIndex::find(std::string_view key) const {
  if (slots_.empty()) return -1;
  uint32_t h = hash_bytes(key);
  size_t mask = slots_.size() - 1;
  for (size_t i = h & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.id < 0) return -1;
    if (s.hash == h && s.len == key.size() &&
        std::memcmp(arena_.data() + s.off, key.data(), key.size()) == 0) {
      return s.id;
    }
  }
}

// ---- MergeTable ----

void MergeTable::reserve(size_t n) {
  if (pow2_at_least(n * 2) <= slots_.size()) return;
  std::vector<Entry> old;
  old.swap(slots_);
  slots_.assign(pow2_at_least(n * 2), Entry{});
  for (const Entry& e : old) {
    if (e.key == ~uint64_t(0)) continue;
    size_t i = mix64(e.key) & (slots_.size() - 1);
    while (slots_[i].key != ~uint64_t(0)) i = (i + 1) & (slots_.size() - 1);
    slots_[i] = e;
  }
}

void MergeTable::grow() { reserve(std::max<size_t>(count_ * 2, 16)); }

void MergeTable::insert(int32_t a, int32_t b, uint32_t rank, int32_t result) {
  if ((count_ + 1) * 2 > slots_.size()) grow();
  uint64_t k = key_of(a, b);
  size_t mask = slots_.size() - 1;
  for (size_t i = mix64(k) & mask;; i = (i + 1) & mask) {
    Entry& e = slots_[i];
    if (e.key == ~uint64_t(0)) {
      e = Entry{k, rank, result};
      ++count_;
      return;
    }
    if (e.key == k) {
      e.rank = rank;
      e.result = result;
      return;
    }
  }
}

const MergeTable::Entry* MergeTable::find(int32_t a, int32_t b) const {
  if (slots_.empty()) return nullptr;
  uint64_t k = key_of(a, b);
  size_t mask = slots_.size() - 1;
  for (size_t i = mix64(k) & mask;; i = (i + 1) & mask) {
    const Entry& e = slots_[i];
    if (e.key == k) return &e;
    if (e.key == ~uint64_t(0)) return nullptr;
  }
}

// ---- BpeModel: loading ----

std::string_view BpeModel::token(int32_t id) const {
  if (!has_token(id)) return {};
  return std::string_view(texts_).substr(text_off_[size_t(id)], text_off_[size_t(id) + 1] - text_off_[size_t(id)]);
}

bool BpeModel::has_token(int32_t id) const {
  return id >= 0 && id < id_count() && present_[size_t(id)];
}

Result<BpeModel> BpeModel::parse(const Json& model, bool byte_level, const std::string& where) {
  BpeModel m;
  m.byte_level_ = byte_level;
  auto flag = [&](const char* key, bool& out) -> Status {
    const Json* v = model.find_non_null(key);
    if (!v) return Status();
    if (!v->is_bool()) return err(where, ".", key, ": expected a boolean");
    out = v->as_bool();
    return Status();
  };
  HEARTH_CHECK(flag("byte_fallback", m.byte_fallback_));
  HEARTH_CHECK(flag("fuse_unk", m.fuse_unk_));
  HEARTH_CHECK(flag("ignore_merges", m.ignore_merges_));
  if (const Json* d = model.find_non_null("dropout")) {
    if (!d->is_number()) return err(where, ".dropout: expected a number");
    if (d->as_double() > 0) return err(where, ".dropout: BPE dropout is not supported (inference needs 0 or null)");
  }
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (const Json* v = model.find_non_null(key)) {
      if (!v->is_string()) return err(where, ".", key, ": expected a string");
      if (!v->as_string().empty()) {
        return err(where, ".", key, ": a non-empty value ('", v->as_string(), "') is not supported");
      }
    }
  }

  // Vocabulary.
  const Json* vocab = model.find("vocab");
  if (!vocab || !vocab->is_object()) return err(where, ".vocab: missing or not an object");
  const Json::Object& entries = vocab->as_object();
  int64_t max_id = -1;
  for (const auto& [key, val] : entries) {
    if (!val.is_integer() || val.as_int() < 0 || val.as_int() >= kMaxId) {
      return err(where, ".vocab[\"", key, "\"]: expected an id in [0, ", kMaxId, ")");
    }
    max_id = std::max(max_id, val.as_int());
  }
  std::vector<const std::string*> by_id(size_t(max_id + 1), nullptr);
  size_t duplicates = 0;
  std::string first_duplicate;
  for (const auto& [key, val] : entries) {
    const std::string*& slot = by_id[size_t(val.as_int())];
    if (slot && duplicates++ == 0)
      first_duplicate = "'" + *slot + "' and '" + key + "' both have id " + std::to_string(val.as_int());
    slot = &key;  // the last one wins (decoding), as in HF tokenizers
  }
  if (duplicates > 0)
    warn_of(where, ".vocab: ", duplicates, " token(s) share an id with another (", first_duplicate,
            "): decoding gives the last one");
  m.text_off_.resize(by_id.size() + 1);
  m.present_.assign(by_id.size(), 0);
  size_t total = 0;
  for (const std::string* s : by_id) total += s ? s->size() : 0;
  m.texts_.reserve(total);
  for (size_t id = 0; id < by_id.size(); ++id) {
    m.text_off_[id] = uint32_t(m.texts_.size());
    if (by_id[id]) {
      m.texts_ += *by_id[id];
      m.present_[id] = 1;
    }
  }
  m.text_off_[by_id.size()] = uint32_t(m.texts_.size());
  m.by_text_.reserve(entries.size());
  for (const auto& [key, val] : entries) m.by_text_.insert(key, int32_t(val.as_int()));
  if (byte_level) {
    m.by_key_.reserve(entries.size());
    std::string bytes;
    for (const auto& [key, val] : entries) {
      if (byte_level_decode(key, bytes)) m.by_key_.insert(bytes, int32_t(val.as_int()));
    }
  }

  // Sentencepiece vocabularies: U+2581 only ever starts a token (possibly as a run).
  if (!byte_level) {
    static const std::string_view kMeta = "\xE2\x96\x81";
    bool ok = m.by_text_.find(kMeta) >= 0;
    for (size_t i = 0; ok && i < entries.size(); ++i) {
      std::string_view t = entries[i].first;
      size_t k = 0;
      while (t.compare(k, 3, kMeta) == 0) k += 3;
      ok = t.find(kMeta, k) == std::string_view::npos;
    }
    m.cut_before_metaspace_ = ok;
  }

  // Single-symbol lookups.
  for (int b = 0; b < 256; ++b) {
    std::string ch;
    unicode::append_utf8(ch, byte_char(uint8_t(b)));
    m.byte_ids_[b] = byte_level ? m.by_text_.find(ch) : -1;
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    m.fallback_ids_[b] = m.by_text_.find(name);
    if (b < 128) m.ascii_ids_[b] = m.by_text_.find(std::string(1, char(b)));
  }
  if (const Json* unk = model.find_non_null("unk_token")) {
    if (!unk->is_string()) return err(where, ".unk_token: expected a string");
    m.unk_id_ = m.by_text_.find(unk->as_string());
    if (m.unk_id_ < 0) {
      return err(where, ".unk_token: '", unk->as_string(), "' is not in the vocabulary");
    }
  }

  // Merges: "a b" strings or [a, b] pairs; the rank is the position in the list.
  const Json* merges = model.find_non_null("merges");
  if (!merges) return err(where, ".merges: missing (a BPE model needs its merge list; [] for none)");
  if (!merges->is_array()) return err(where, ".merges: expected an array");
  size_t n_merges = merges ? merges->size() : 0;
  m.merges_.reserve(n_merges);
  uint32_t rank = 0;
  std::string joined;
  for (size_t i = 0; i < n_merges; ++i) {
    const Json& e = (*merges)[i];
    std::string_view a, b;
    if (e.is_string()) {
      const std::string& s = e.as_string();
      if (s.rfind("#version", 0) == 0) continue;
      size_t sp = s.find(' ');
      if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos) {
        return err(where, ".merges[", i, "]: expected two tokens separated by one space, got '", s, "'");
      }
      a = std::string_view(s).substr(0, sp);
      b = std::string_view(s).substr(sp + 1);
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      a = e[0].as_string();
      b = e[1].as_string();
    } else {
      return err(where, ".merges[", i, "]: expected \"a b\" or [\"a\", \"b\"]");
    }
    int32_t ia = m.by_text_.find(a), ib = m.by_text_.find(b);
    if (ia < 0) return err(where, ".merges[", i, "]: token '", std::string(a), "' is not in the vocabulary");
    if (ib < 0) return err(where, ".merges[", i, "]: token '", std::string(b), "' is not in the vocabulary");
    joined.assign(a);
    joined.append(b);
    int32_t r = m.by_text_.find(joined);
    if (r < 0) {
      return err(where, ".merges[", i, "]: the merged token '", joined, "' is not in the vocabulary");
    }
    m.merges_.insert(ia, ib, rank++, r);
  }
  return m;
}

// ---- BpeModel: encoding ----

void BpeModel::add_symbols_for_char(std::string_view ch, std::vector<int32_t>& syms,
                                    int32_t& pending_unk, bool& has_pending) const {
  int32_t id;
  if (byte_level_) {
    id = byte_ids_[uint8_t(ch[0])];
  } else if (ch.size() == 1 && uint8_t(ch[0]) < 128) {
    id = ascii_ids_[uint8_t(ch[0])];
  } else {
    id = by_text_.find(ch);
  }
  if (id >= 0) {
    if (has_pending) {
      syms.push_back(pending_unk);
      has_pending = false;
    }
    syms.push_back(id);
    return;
  }
  if (byte_fallback_) {
    // The bytes of the character as the model sees it (for byte-level: its GPT-2 character).
    std::string mapped;
    std::string_view bytes = ch;
    if (byte_level_) {
      unicode::append_utf8(mapped, byte_char(uint8_t(ch[0])));
      bytes = mapped;
    }
    bool all = true;
    for (char c : bytes) all = all && fallback_ids_[uint8_t(c)] >= 0;
    if (all) {  // (HF adds the bytes without flushing a pending unknown first)
      for (char c : bytes) syms.push_back(fallback_ids_[uint8_t(c)]);
      return;
    }
  }
  if (unk_id_ < 0) return;  // no unknown token: the character is dropped
  if (has_pending && !fuse_unk_) syms.push_back(pending_unk);
  pending_unk = unk_id_;
  has_pending = true;
}

void BpeModel::merge_small(int32_t* ids, size_t& n) const {
  uint32_t ranks[kSmallWord];
  int32_t results[kSmallWord];
  auto pair_at = [&](size_t i) {
    const MergeTable::Entry* e = merges_.find(ids[i], ids[i + 1]);
    ranks[i] = e ? e->rank : UINT32_MAX;
    results[i] = e ? e->result : -1;
  };
  for (size_t i = 0; i + 1 < n; ++i) pair_at(i);
  while (n > 1) {
    size_t best = 0;
    for (size_t i = 1; i + 1 < n; ++i) {
      if (ranks[i] < ranks[best]) best = i;
    }
    if (ranks[best] == UINT32_MAX) break;
    ids[best] = results[best];
    for (size_t i = best + 1; i + 1 < n; ++i) {
      ids[i] = ids[i + 1];
      ranks[i] = ranks[i + 1];
      results[i] = results[i + 1];
    }
    --n;
    if (best > 0) pair_at(best - 1);
    if (best + 1 < n) pair_at(best);
  }
}

void BpeModel::merge_large(BpeScratch& s) const {
  size_t n = s.ids.size();
  s.prev.resize(n);
  s.next.resize(n);
  for (size_t i = 0; i < n; ++i) {
    s.prev[i] = int32_t(i) - 1;
    s.next[i] = i + 1 < n ? int32_t(i + 1) : -1;
  }
  // Min-heap of (rank, position): the lowest rank first, the leftmost among equal ranks. An entry
  // is stale when the pair at its position no longer has that rank (ranks identify pairs).
  auto later = [](uint64_t x, uint64_t y) { return x > y; };
  s.heap.clear();
  auto push = [&](size_t pos) {
    const MergeTable::Entry* e = merges_.find(s.ids[pos], s.ids[size_t(s.next[pos])]);
    if (!e) return;
    s.heap.push_back((uint64_t(e->rank) << 32) | pos);
    std::push_heap(s.heap.begin(), s.heap.end(), later);
  };
  for (size_t i = 0; i + 1 < n; ++i) {
    const MergeTable::Entry* e = merges_.find(s.ids[i], s.ids[i + 1]);
    if (e) s.heap.push_back((uint64_t(e->rank) << 32) | i);
  }
  std::make_heap(s.heap.begin(), s.heap.end(), later);
  const int32_t kDead = -2;
  while (!s.heap.empty()) {
    std::pop_heap(s.heap.begin(), s.heap.end(), later);
    uint64_t top = s.heap.back();
    s.heap.pop_back();
    size_t pos = size_t(uint32_t(top));
    int32_t r = s.next[pos];
    if (s.prev[pos] == kDead || r < 0) continue;
    const MergeTable::Entry* e = merges_.find(s.ids[pos], s.ids[size_t(r)]);
    if (!e || e->rank != uint32_t(top >> 32)) continue;
    s.ids[pos] = e->result;
    int32_t rn = s.next[size_t(r)];
    s.next[pos] = rn;
    if (rn >= 0) s.prev[size_t(rn)] = int32_t(pos);
    s.prev[size_t(r)] = kDead;
    if (s.prev[pos] >= 0) push(size_t(s.prev[pos]));
    if (rn >= 0) push(pos);
  }
  size_t out = 0;
  for (int32_t i = 0; i >= 0 && size_t(i) < n; i = s.next[size_t(i)]) s.ids[out++] = s.ids[size_t(i)];
  s.ids.resize(out);
}

void BpeModel::encode(std::string_view word, std::vector<int32_t>& out, BpeScratch& s) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    int32_t id = byte_level_ ? by_key_.find(word) : by_text_.find(word);
    if (id >= 0) {
      out.push_back(id);
      return;
    }
  }
  constexpr size_t kCutAbove = 256;  // bytes
  if (cut_before_metaspace_ && word.size() > kCutAbove) {
    static const std::string_view kMeta = "\xE2\x96\x81";
    size_t start = 0;
    for (size_t p = word.find(kMeta, 1); p != std::string_view::npos; p = word.find(kMeta, p + 3)) {
      if (p >= 3 && word.compare(p - 3, 3, kMeta) == 0) continue;  // inside a run of U+2581
      encode_symbols(word.substr(start, p - start), out, s);
      start = p;
    }
    encode_symbols(word.substr(start), out, s);
    return;
  }
  encode_symbols(word, out, s);
}

void BpeModel::encode_symbols(std::string_view word, std::vector<int32_t>& out, BpeScratch& s) const {
  if (word.empty()) return;
  s.ids.clear();
  int32_t pending = -1;
  bool has_pending = false;
  if (byte_level_) {
    for (size_t i = 0; i < word.size(); ++i) {
      add_symbols_for_char(word.substr(i, 1), s.ids, pending, has_pending);
    }
  } else {
    for (size_t i = 0; i < word.size();) {
      size_t len = unicode::valid_sequence_length(word, i);
      if (len == 0) len = 1;  // (input is valid UTF-8; this only guards the loop)
      add_symbols_for_char(word.substr(i, len), s.ids, pending, has_pending);
      i += len;
    }
  }
  if (has_pending) s.ids.push_back(pending);
  if (s.ids.size() <= kSmallWord) {
    int32_t ids[kSmallWord];
    size_t n = s.ids.size();
    std::copy(s.ids.begin(), s.ids.end(), ids);
    merge_small(ids, n);
    out.insert(out.end(), ids, ids + n);
  } else {
    merge_large(s);
    out.insert(out.end(), s.ids.begin(), s.ids.end());
  }
}

}  // namespace hearth::tok
