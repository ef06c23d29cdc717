// Runs a Grammar over generated text and says which tokens may come next.
//
// The matcher is a pushdown automaton over bytes. A stack says what must still be matched (the
// symbol on top, then where each enclosing rule continues); the state after some text is the set
// of stacks that text can have reached (the grammar may be ambiguous), and the text is a prefix
// of a sentence while that set is non-empty. Stacks are hash-consed (a stack is a node: its top
// position and the node below it), so equal stacks are one integer, expansions are computed
// once per node, and the state is a short sorted list of node ids.
//
// Token masks: a token is allowed when its bytes, fed from the current state, leave some stack
// alive. That is a union over the state's stacks, so the mask is cached per stack node: a state
// seen before (inside a JSON string, between array items...) costs an OR of cached bitsets.
// A new one is computed by walking the trie of the vocabulary's byte strings from that stack,
// pruning every subtree whose prefix already kills it. Tokens with no bytes (special tokens)
// are never allowed here: stop tokens are the caller's business (allowed when is_complete()).
#pragma once
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "grammar/grammar.h"

namespace hearth {

// The byte strings of a vocabulary (index = token id; empty = a token the grammar never
// allows) in a trie.
class TokenTrie {
 public:
  explicit TokenTrie(std::vector<std::string> token_bytes);
  int64_t vocab_size() const { return int64_t(bytes_.size()); }
  size_t max_token_bytes() const { return max_len_; }
  const std::string& bytes(int32_t id) const { return bytes_[size_t(id)]; }

  struct Node {
    uint32_t child_begin = 0, child_count = 0;  // into children_
    uint32_t token_begin = 0, token_count = 0;  // into tokens_: ids whose bytes end here
  };
  struct Edge {
    uint8_t byte;
    uint32_t node;
  };
  const Node& node(uint32_t i) const { return nodes_[i]; }
  std::span<const Edge> children(const Node& n) const { return {children_.data() + n.child_begin, n.child_count}; }
  std::span<const int32_t> tokens(const Node& n) const { return {tokens_.data() + n.token_begin, n.token_count}; }

 private:
  std::vector<std::string> bytes_;
  std::vector<Node> nodes_;  // 0 is the root (the empty prefix)
  std::vector<Edge> children_;
  std::vector<int32_t> tokens_;
  size_t max_len_ = 0;
};

class GrammarMatcher {
 public:
  GrammarMatcher(std::shared_ptr<const Grammar> grammar, std::shared_ptr<const TokenTrie> vocab);

  // Back to the start of the grammar (nothing matched).
  void reset();
  // Feeds bytes; false (and the state unchanged) when they cannot continue a sentence.
  bool accept_bytes(std::string_view bytes);
  bool accept_token(int32_t id);
  // The text so far is a whole sentence.
  bool is_complete() const;
  // Some byte may still follow.
  bool can_continue() const;
  // Whether the token's bytes may come next (without computing a mask).
  bool token_allowed(int32_t id);
  // words[id / 32] bit id % 32 set for each allowed token; words has (vocab + 31) / 32 entries.
  void token_mask(std::vector<uint32_t>& words);

  // Counters: masks computed by a trie walk and masks taken from the cache.
  int64_t masks_computed() const { return computed_; }
  int64_t masks_cached() const { return cached_; }

 private:
  using State = std::vector<uint32_t>;  // sorted node ids; node 0 is the empty stack (accept)
  struct StackNode {
    uint32_t pos;     // index into grammar symbols
    uint32_t parent;  // node below
  };
  uint32_t intern(uint32_t pos, uint32_t parent);
  const State& expand_node(uint32_t node);
  void expand_at(uint32_t pos, uint32_t parent, State& out);
  // The state after `byte` from `from` (into `to`, sorted unique).
  void advance(const State& from, uint8_t byte, State& to);
  // The same from the single stack `node`, memoized.
  const State& step(uint32_t node, uint8_t byte);
  const std::vector<uint32_t>& node_mask(uint32_t node);
  void walk(uint32_t trie_node, const State& state, size_t depth, std::vector<uint32_t>& words);

  std::shared_ptr<const Grammar> g_;
  std::shared_ptr<const TokenTrie> vocab_;
  std::vector<StackNode> nodes_;
  std::unordered_map<uint64_t, uint32_t> interned_;
  std::unordered_map<uint32_t, State> expanded_;
  std::unordered_map<uint32_t, std::vector<uint32_t>> masks_;
  std::unordered_map<uint64_t, State> steps_;  // (node << 8 | byte) -> state
  std::vector<State> walk_scratch_;            // one state per trie depth
  size_t mask_words_ = 0;
  State state_, scratch_;
  int64_t computed_ = 0, cached_ = 0;
};

}  // namespace hearth
