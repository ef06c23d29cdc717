// Automatic prefix reuse: a request that shares a token prefix with what the KV cache holds
// prefills only the rest, and gives the tokens a fresh prefill gives (the fixtures' reference
// greedy ids where there is one). The cache is not reused across adapters, and a conversation
// that outgrows the context is refused or, if asked, loses its oldest turns.
#include <memory>

#include "engine/chat_session.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;
using test::ids_of;

std::unique_ptr<Engine> load(const std::string& dir, int64_t max_ctx) {
  LoadOptions opt;
  opt.max_ctx = max_ctx;
  opt.max_prefill_t = 16;  // prompts go through several chunks, as long ones do
  auto e = Engine::load(dir, opt);
  EXPECT_TRUE(e.ok()) << e.message();
  return std::move(*e);
}

GenerateRequest greedy(std::vector<int32_t> prompt, int64_t n) {
  GenerateRequest r;
  r.prompt = std::move(prompt);
  r.max_new_tokens = n;
  r.sampling.temperature = 0;
  r.stop_ids = {-1};
  return r;
}

std::vector<int32_t> concat(std::vector<int32_t> a, const std::vector<int32_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(PrefixReuse, ContinuationsRegeneratesAndEditsMatchAFreshPrefill) {
  auto e = load(fixture("pycoder-6m"), 512);
  auto ref = read_json_file(fixture("pycoder-6m/reference.json"));
  ASSERT_TRUE(ref.ok()) << ref.message();
  const Json& g0 = ref->find("greedy")->as_array()[0];
  const std::vector<int32_t> p0 = ids_of(*g0.find("prompt_ids")), want0 = ids_of(*g0.find("greedy"));

  auto r0 = e->generate(greedy(p0, 32));
  ASSERT_TRUE(r0.ok()) << r0.message();
  EXPECT_EQ(r0->n_reused, 0);
  EXPECT_EQ(r0->ids, std::vector<int32_t>(want0.begin(), want0.begin() + 32));
  EXPECT_EQ(e->cached_tokens(), concat(p0, std::vector<int32_t>(r0->ids.begin(), r0->ids.end() - 1)));

  // A "next turn": the prompt and the reply so far, then more text; only what is new is fed,
  // and the reference's continuation comes out.
  const std::vector<int32_t> p1 = concat(p0, std::vector<int32_t>(want0.begin(), want0.begin() + 40));
  auto r1 = e->generate(greedy(p1, 24));
  ASSERT_TRUE(r1.ok()) << r1.message();
  EXPECT_EQ(r1->n_reused, int64_t(p0.size()) + 31);
  EXPECT_EQ(r1->ids, std::vector<int32_t>(want0.begin() + 40, want0.begin() + 64));

  // Regenerate: the whole prompt is cached, the last token is fed again for its logits.
  auto r2 = e->generate(greedy(p1, 24));
  ASSERT_TRUE(r2.ok()) << r2.message();
  EXPECT_EQ(r2->n_reused, int64_t(p1.size()) - 1);
  EXPECT_EQ(r2->ids, r1->ids);

  // An edit near the end: the prefix before it is reused; the tokens equal a fresh prefill's.
  std::vector<int32_t> p3(p1.begin(), p1.end() - 5);
  p3.push_back(p1[3]);
  auto r3 = e->generate(greedy(p3, 24));
  ASSERT_TRUE(r3.ok()) << r3.message();
  EXPECT_EQ(r3->n_reused, int64_t(p1.size()) - 5);
  GenerateRequest fresh = greedy(p3, 24);
  fresh.reuse_prefix = false;
  auto f3 = e->generate(fresh);
  ASSERT_TRUE(f3.ok()) << f3.message();
  EXPECT_EQ(f3->n_reused, 0);
  EXPECT_EQ(r3->ids, f3->ids);

  // Another reference prompt after all that: nothing shared but what is really shared.
  const Json& g1 = ref->find("greedy")->as_array()[1];
  auto r4 = e->generate(greedy(ids_of(*g1.find("prompt_ids")), 64));
  ASSERT_TRUE(r4.ok()) << r4.message();
  EXPECT_EQ(r4->ids, ids_of(*g1.find("greedy")));
}

TEST(PrefixReuse, SampledOutputIsTheSameAsWithAFreshPrefill) {
  auto e = load(fixture("pycoder-6m"), 256);
  std::vector<int32_t> prompt;
  for (int i = 0; i < 40; ++i) prompt.push_back(int32_t(100 + 37 * i % 900));
  GenerateRequest r = greedy(prompt, 20);
  r.sampling.temperature = 0.8f;
  r.sampling.top_p = 0.9f;
  r.sampling.repetition_penalty = 1.2f;
  r.sampling.seed = 11;
  auto a = e->generate(r);
  ASSERT_TRUE(a.ok()) << a.message();
  auto b = e->generate(r);  // all but one prompt token from the cache
  ASSERT_TRUE(b.ok()) << b.message();
  EXPECT_EQ(b->n_reused, 39);
  EXPECT_EQ(a->ids, b->ids);
}

TEST(PrefixReuse, NotAcrossAdaptersAndKeepCacheContinues) {
  const std::string dir = fixture("qwen2-tiny");
  auto e = load(dir, 256);
  auto ref = read_json_file(dir + "/reference.json");
  ASSERT_TRUE(ref.ok()) << ref.message();
  ASSERT_TRUE(e->load_adapter("qv", dir + "/lora-qv").ok());
  for (const Json& c : ref->find("cases")->as_array()) {
    const std::vector<int32_t> prompt = ids_of(*c.find("prompt")), want = ids_of(*c.find("greedy"));
    if (prompt.size() > 64) continue;
    GenerateRequest r = greedy(prompt, int64_t(want.size()));
    if (c.find("adapter")->is_string()) r.adapter = c.find("adapter")->as_string() == "lora-qv" ? "qv" : "";
    if (c.find("adapter")->is_string() && r.adapter.empty()) continue;
    // Twice: the second run reuses the cache of the first (same weights), except across a switch.
    for (int rep = 0; rep < 2; ++rep) {
      auto out = e->generate(r);
      ASSERT_TRUE(out.ok()) << out.message();
      EXPECT_EQ(out->ids, want) << "prompt of " << prompt.size() << " tokens, adapter \"" << r.adapter << "\"";
      if (rep == 1) EXPECT_EQ(out->n_reused, int64_t(prompt.size()) - 1);
    }
    // The same prompt through the other weights: nothing is reused.
    GenerateRequest other = r;
    other.adapter = r.adapter.empty() ? "qv" : "";
    auto o = e->generate(other);
    ASSERT_TRUE(o.ok()) << o.message();
    EXPECT_EQ(o->n_reused, 0);
  }
  // keep_cache appends to what the cache holds; the tokens it fed are known afterwards.
  GenerateRequest a = greedy({5, 6, 7}, 4);
  ASSERT_TRUE(e->generate(a).ok());
  GenerateRequest b = greedy({9}, 3);
  b.keep_cache = true;
  auto rb = e->generate(b);
  ASSERT_TRUE(rb.ok()) << rb.message();
  EXPECT_EQ(int64_t(e->cached_tokens().size()), e->model().n_past());
  EXPECT_EQ(e->model().n_past(), 3 + 3 + 1 + 2);
  // Someone drove the model directly: the engine no longer trusts its record.
  e->model().reset();
  auto rc = e->generate(a);
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc->n_reused, 0);
}

TEST(PrefixReuse, ChatTurnsThatOutgrowTheContext) {
  auto e = load(fixture("pycoder-6m"), 160);
  auto tok = Tokenizer::load_file(fixture("pycoder-6m/tokenizer.json"));
  ASSERT_TRUE(tok.ok()) << tok.message();
  auto tmpl = ChatTemplate::from_jinja(
      "{% for m in messages %}<{{ m['role'] }}>\n{{ m['content'] }}\n{% endfor %}"
      "{% if add_generation_prompt %}<assistant>\n{% endif %}");
  ASSERT_TRUE(tmpl.ok()) << tmpl.message();
  GenerateRequest params = greedy({}, 24);
  params.stop_ids = {};
  const std::vector<std::string> users = {"def add(a, b):", "class Stack:", "import os", "for i in range(10):",
                                          "def main():"};
  // Refused: the message says what to do.
  {
    ChatSession chat(*e, *tok, *tmpl);
    chat.set_system("# python");
    Status failed;
    for (const auto& u : users) {
      auto r = chat.send(u, params);
      if (!r.ok()) {
        failed = r.error();
        break;
      }
    }
    ASSERT_FALSE(failed.ok()) << "five turns of ~40 tokens fit in 160 positions?";
    EXPECT_NE(failed.message().find("max_ctx is 160"), std::string::npos) << failed.message();
  }
  // Dropping the oldest turns: the system message stays, each reply is what a fresh engine
  // gives for the conversation as kept.
  e->forget_cache();
  ChatSession chat(*e, *tok, *tmpl);
  chat.set_system("# python");
  chat.set_overflow(ContextOverflow::DropOldest);
  auto fresh = load(fixture("pycoder-6m"), 160);
  size_t dropped_any = 0;
  for (const auto& u : users) {
    const size_t before = chat.messages().size();
    auto r = chat.send(u, params);
    ASSERT_TRUE(r.ok()) << r.message();
    const size_t kept = chat.messages().size();
    if (kept < before + 2) dropped_any += before + 2 - kept;
    std::vector<ChatMessage> conv = {{"system", "# python"}};
    conv.insert(conv.end(), chat.messages().begin(), chat.messages().end() - 1);
    auto text = tmpl->render(conv);
    ASSERT_TRUE(text.ok());
    GenerateRequest f = params;
    f.prompt = tok->encode(*text);
    f.reuse_prefix = false;
    auto want = fresh->generate(f);
    ASSERT_TRUE(want.ok()) << want.message();
    EXPECT_EQ(chat.last_result().ids, want->ids);
    EXPECT_LE(int64_t(f.prompt.size()) + 23, 160);
  }
  EXPECT_GT(dropped_any, 0u);
  EXPECT_EQ(chat.messages().back().role, "assistant");
}

}  // namespace
}  // namespace hearth
