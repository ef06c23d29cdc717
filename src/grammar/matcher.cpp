// GrammarMatcher: hash-consed stacks, memoized expansion, and token masks by a pruned trie walk
// cached per stack node.
#include "grammar/matcher.h"

#include <algorithm>

namespace hearth {

namespace {
constexpr size_t kMaskCacheBytes = size_t(64) << 20;  // past this, cached masks are dropped

void sort_unique(std::vector<uint32_t>& v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
}
}  // namespace

TokenTrie::TokenTrie(std::vector<std::string> token_bytes) : bytes_(std::move(token_bytes)) {
  // Children lists while building, then flattened.
  std::vector<std::vector<Edge>> kids(1);
  std::vector<std::vector<int32_t>> toks(1);
  for (size_t id = 0; id < bytes_.size(); ++id) {
    const std::string& b = bytes_[id];
    if (b.empty()) continue;
    uint32_t n = 0;
    for (char ch : b) {
      const uint8_t c = uint8_t(ch);
      uint32_t next = 0;
      for (const Edge& e : kids[n]) {
        if (e.byte == c) { next = e.node; break; }
      }
      if (!next) {
        next = uint32_t(kids.size());
        kids[n].push_back(Edge{c, next});
        kids.emplace_back();
        toks.emplace_back();
      }
      n = next;
    }
    toks[n].push_back(int32_t(id));
    max_len_ = std::max(max_len_, b.size());
  }
  nodes_.resize(kids.size());
  for (size_t n = 0; n < kids.size(); ++n) {
    std::sort(kids[n].begin(), kids[n].end(), [](const Edge& a, const Edge& b) { return a.byte < b.byte; });
    nodes_[n].child_begin = uint32_t(children_.size());
    nodes_[n].child_count = uint32_t(kids[n].size());
    children_.insert(children_.end(), kids[n].begin(), kids[n].end());
    nodes_[n].token_begin = uint32_t(tokens_.size());
    nodes_[n].token_count = uint32_t(toks[n].size());
    tokens_.insert(tokens_.end(), toks[n].begin(), toks[n].end());
  }
}

GrammarMatcher::GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> vocab)
    : g_(std::move(grammar)), vocab_(std::move(vocab)) {
  nodes_.push_back(StackNode{0, 0});  // the empty stack
  mask_words_ = size_t((vocab_->vocab_size() + 31) / 32);
  reset();
}

void GrammarMatcher::reset() {
  state_.clear();
  for (uint32_t a : g_->rule_alts[g_->root]) expand_at(a, 0, state_);
  sort_unique(state_);
}

uint32_t GrammarMatcher::intern(uint32_t pos, uint32_t parent) {
  const uint64_t key = (uint64_t(pos) << 32) | parent;
  auto [it, fresh] = interned_.try_emplace(key, uint32_t(nodes_.size()));
  if (fresh) nodes_.push_back(StackNode{pos, parent});
  return it->second;
}

// Pushes onto `out` the stacks with a byte set on top (or the empty stack) that the stack
// (symbol at pos, then `parent`) stands for.
void GrammarMatcher::expand_at(uint32_t pos, uint32_t parent, State& out) {
  const Grammar::Symbol& s = g_->symbols[pos];
  switch (s.kind) {
    case Grammar::Kind::End: {
      const State& up = expand_node(parent);
      out.insert(out.end(), up.begin(), up.end());
      return;
    }
    case Grammar::Kind::Bytes:
      out.push_back(intern(pos, parent));
      return;
    case Grammar::Kind::Ref: {
      // Tail position: the rule's end returns straight to `parent` (keeps x* loops flat).
      const uint32_t cont = g_->symbols[pos + 1].kind == Grammar::Kind::End ? parent : intern(pos + 1, parent);
      for (uint32_t a : g_->rule_alts[s.arg]) expand_at(a, cont, out);
      return;
    }
  }
}

const GrammarMatcher::State& GrammarMatcher::expand_node(uint32_t node) {
  auto it = expanded_.find(node);
  if (it != expanded_.end()) return it->second;
  State out;
  if (node == 0) out.push_back(0);
  else expand_at(nodes_[node].pos, nodes_[node].parent, out);
  sort_unique(out);
  return expanded_.emplace(node, std::move(out)).first->second;
}

const GrammarMatcher::State& GrammarMatcher::step(uint32_t node, uint8_t byte) {
  const uint64_t key = (uint64_t(node) << 8) | byte;
  auto it = steps_.find(key);
  if (it != steps_.end()) return it->second;
  State to;
  advance(State{node}, byte, to);
  return steps_.emplace(key, std::move(to)).first->second;
}

void GrammarMatcher::advance(const State& from, uint8_t byte, State& to) {
  to.clear();
  for (uint32_t n : from) {
    if (n == 0) continue;
    const StackNode sn = nodes_[n];
    if (!g_->sets[g_->symbols[sn.pos].arg].has(byte)) continue;
    const uint32_t next = g_->symbols[sn.pos + 1].kind == Grammar::Kind::End ? sn.parent : intern(sn.pos + 1, sn.parent);
    const State& e = expand_node(next);
    to.insert(to.end(), e.begin(), e.end());
  }
  if (to.size() > 1) sort_unique(to);
}

bool GrammarMatcher::accept_bytes(std::string_view bytes) {
  State cur = state_, next;
  for (char c : bytes) {
    advance(cur, uint8_t(c), next);
    if (next.empty()) return false;
    cur.swap(next);
  }
  state_.swap(cur);
  return true;
}

bool GrammarMatcher::accept_token(int32_t id) {
  if (id < 0 || id >= vocab_->vocab_size() || vocab_->bytes(id).empty()) return false;
  return accept_bytes(vocab_->bytes(id));
}

bool GrammarMatcher::token_allowed(int32_t id) {
  if (id < 0 || id >= vocab_->vocab_size() || vocab_->bytes(id).empty()) return false;
  State cur = state_, next;
  for (char c : vocab_->bytes(id)) {
    advance(cur, uint8_t(c), next);
    if (next.empty()) return false;
    cur.swap(next);
  }
  return true;
}

bool GrammarMatcher::is_complete() const { return !state_.empty() && state_[0] == 0; }

bool GrammarMatcher::can_continue() const { return state_.size() > (is_complete() ? 1u : 0u); }

// Single-stack states step through the memo (no copies: inside a JSON string most bytes lead
// back to the same state); others are advanced into this depth's scratch state.
void GrammarMatcher::walk(uint32_t trie_node, const State& state, size_t depth, std::vector<uint32_t>& words) {
  const TokenTrie::Node& tn = vocab_->node(trie_node);
  for (const TokenTrie::Edge& e : vocab_->children(tn)) {
    const State* next;
    if (state.size() == 1) {
      next = &step(state[0], e.byte);
    } else {
      advance(state, e.byte, walk_scratch_[depth]);
      next = &walk_scratch_[depth];
    }
    if (next->empty()) continue;
    const TokenTrie::Node& child = vocab_->node(e.node);
    for (int32_t id : vocab_->tokens(child)) words[size_t(id) >> 5] |= uint32_t(1) << (id & 31);
    if (child.child_count) walk(e.node, *next, depth + 1, words);
  }
}

const std::vector<uint32_t>& GrammarMatcher::node_mask(uint32_t node) {
  auto it = masks_.find(node);
  if (it != masks_.end()) {
    ++cached_;
    return it->second;
  }
  if ((masks_.size() + 1) * mask_words_ * 4 > kMaskCacheBytes) masks_.clear();
  ++computed_;
  std::vector<uint32_t> words(mask_words_, 0);
  walk_scratch_.resize(vocab_->max_token_bytes() + 1);  // never resized during a walk
  if (steps_.size() > (size_t(1) << 20)) steps_.clear();
  walk(0, State{node}, 0, words);
  return masks_.emplace(node, std::move(words)).first->second;
}

void GrammarMatcher::token_mask(std::vector<uint32_t>& words) {
  words.assign(mask_words_, 0);
  for (uint32_t n : state_) {
    if (n == 0) continue;
    const std::vector<uint32_t>& m = node_mask(n);
    for (size_t i = 0; i < mask_words_; ++i) words[i] |= m[i];
  }
}

}  // namespace hearth
