// Multi-turn chat keeps the KV cache: the second turn feeds only the new tokens, and its reply
// equals that of a fresh session that prefills the whole conversation.
#include "engine/chat_session.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

const char* kTemplate =
    "{% for m in messages %}<{{ m['role'] }}>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<assistant>\n{% endif %}";

struct Fixture {
  std::unique_ptr<Engine> engine;
  Tokenizer tok;
  ChatTemplate tmpl;
};

Fixture load() {
  LoadOptions opt;
  opt.max_ctx = 1024;
  auto e = Engine::load(fixture("pycoder-6m"), opt);
  EXPECT_TRUE(e.ok()) << e.message();
  auto t = Tokenizer::load_file(fixture("pycoder-6m/tokenizer.json"));
  EXPECT_TRUE(t.ok()) << t.message();
  auto tm = ChatTemplate::from_jinja(kTemplate);
  EXPECT_TRUE(tm.ok()) << tm.message();
  return Fixture{std::move(*e), std::move(*t), std::move(*tm)};
}

GenerateRequest greedy(int n) {
  GenerateRequest r;
  r.max_new_tokens = n;
  r.sampling.temperature = 0;
  return r;
}

TEST(ChatSession, SecondTurnReusesTheCacheAndMatchesAFreshPrefill) {
  Fixture f = load();
  ChatSession chat(*f.engine, f.tok, f.tmpl);
  auto r1 = chat.send("def add(a, b):", greedy(24));
  ASSERT_TRUE(r1.ok()) << r1.message();
  const int64_t first = chat.last_new_tokens();
  auto r2 = chat.send("class Stack:", greedy(24));
  ASSERT_TRUE(r2.ok()) << r2.message();
  const int64_t second = chat.last_new_tokens();
  std::vector<ChatMessage> conv = {{"user", "def add(a, b):"}, {"assistant", *r1}, {"user", "class Stack:"}};
  auto full = f.tmpl.render(conv);
  ASSERT_TRUE(full.ok());
  const int64_t full_tokens = int64_t(f.tok.encode(*full).size());
  EXPECT_LT(second, full_tokens - first / 2) << "the second turn re-fed the history";
  EXPECT_EQ(f.engine->model().n_past(), full_tokens + int64_t(chat.last_result().ids.size()) - 1);

  // A fresh engine prefilling the same conversation at once gives the same reply.
  Fixture g = load();
  ChatSession fresh(*g.engine, g.tok, g.tmpl);
  GenerateRequest req = greedy(24);
  req.prompt = g.tok.encode(*full);
  auto r = g.engine->generate(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(chat.last_result().ids, r->ids);
}

TEST(ChatSession, ResetAndErrorsLeaveAUsableSession) {
  Fixture f = load();
  ChatSession chat(*f.engine, f.tok, f.tmpl);
  GenerateRequest big = greedy(4000);  // beyond max_ctx: refused up front
  auto bad = chat.send("x = 1", big);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.message().find("max_ctx"), std::string::npos) << bad.message();
  auto ok = chat.send("x = 1", greedy(8));
  ASSERT_TRUE(ok.ok()) << ok.message();
  chat.reset();
  EXPECT_TRUE(chat.messages().empty());
  EXPECT_EQ(f.engine->model().n_past(), 0);
}

// A small deterministic adapter on every projection of pycoder-6m.
LoraAdapter test_adapter(const ModelConfig& c) {
  LoraAdapter a;
  a.dir = "(test)";
  a.format = "peft";
  a.layers.resize(size_t(c.n_layers));
  uint64_t state = 7;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return float(int64_t(state >> 40) - (1 << 23)) / float(1 << 23) * 0.05f;
  };
  for (auto& layer : a.layers) {
    for (int p = 0; p < kNumProj; ++p) {
      LoraPair pair;
      pair.rank = 4;
      pair.in = proj_in(c, Proj(p));
      pair.out = proj_out(c, Proj(p));
      pair.A.resize(size_t(4 * pair.in));
      pair.B.resize(size_t(pair.out * 4));
      for (float& v : pair.A) v = next();
      for (float& v : pair.B) v = next();
      layer[p] = std::move(pair);
    }
  }
  return a;
}

TEST(ChatSession, ChangingTheAdapterDropsTheCacheComputedUnderTheOldOne) {
  Fixture f = load();
  ASSERT_TRUE(f.engine->model().add_adapter("a", test_adapter(f.engine->model().config())).ok());
  ChatSession chat(*f.engine, f.tok, f.tmpl);
  GenerateRequest with = greedy(16);
  with.adapter = "a";
  auto r1 = chat.send("def add(a, b):", with);
  ASSERT_TRUE(r1.ok()) << r1.message();
  auto r2 = chat.send("class Stack:", greedy(16));  // no adapter now
  ASSERT_TRUE(r2.ok()) << r2.message();
  std::vector<ChatMessage> conv = {{"user", "def add(a, b):"}, {"assistant", *r1}, {"user", "class Stack:"}};
  auto full = f.tmpl.render(conv);
  ASSERT_TRUE(full.ok());
  const std::vector<int32_t> ids = f.tok.encode(*full);
  EXPECT_EQ(chat.last_new_tokens(), int64_t(ids.size())) << "the second turn reused keys computed under the adapter";
  // The reply is the base model's on the whole conversation.
  Fixture g = load();
  GenerateRequest req = greedy(16);
  req.prompt = ids;
  auto r = g.engine->generate(req);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(chat.last_result().ids, r->ids);
}

}  // namespace
}  // namespace hearth
