// End-to-end parity with Hugging Face transformers (fp32) on the tiny random-weight fixtures:
// greedy ids identical, logits within 1e-4, including the 64-position batched-prefill logits.
#include <memory>

#include "model/model.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

struct Case {
  int id;
  std::vector<int32_t> prompt, greedy;
};

std::vector<Case> no_adapter_cases(const std::string& model) {
  auto ref = read_json_file(fixture(model + "/reference.json"));
  EXPECT_TRUE(ref.ok()) << ref.message();
  std::vector<Case> out;
  for (const auto& c : ref->find("cases")->as_array()) {
    if (!c.find("adapter")->is_null()) continue;
    out.push_back({int(c.find("id")->as_int()), test::ids_of(*c.find("prompt")), test::ids_of(*c.find("greedy"))});
  }
  return out;
}

class ModelReference : public ::testing::TestWithParam<std::string> {};

TEST_P(ModelReference, GreedyIdsAndLogitsMatch) {
  const std::string name = GetParam();
  LoadOptions opt;
  opt.max_ctx = 2048;
  opt.max_prefill_t = 512;  // the 1000-token prompt takes two prefill passes
  auto m = Model::load(fixture(name), opt);
  ASSERT_TRUE(m.ok()) << m.message();
  auto refs = SafetensorsFile::open(fixture(name + "/reference.safetensors"));
  ASSERT_TRUE(refs.ok()) << refs.message();
  const int64_t V = (*m)->config().vocab_size;
  auto cases = no_adapter_cases(name);
  ASSERT_GE(cases.size(), 5u);
  for (const Case& c : cases) {
    SCOPED_TRACE("case " + std::to_string(c.id) + ", prompt length " + std::to_string(c.prompt.size()));
    Model& model = **m;
    model.reset();
    std::vector<float> last, all;
    const bool want_all = refs->find("case" + std::to_string(c.id) + ".prefill_logits") != nullptr;
    ASSERT_TRUE(model.forward(c.prompt, &last, want_all ? &all : nullptr).ok());
    if (want_all) {
      const TensorInfo* t = refs->find("case" + std::to_string(c.id) + ".prefill_logits");
      ASSERT_EQ(t->numel(), int64_t(c.prompt.size()) * V);
      std::vector<float> expect(size_t(t->numel()));
      ASSERT_TRUE(convert_to_f32(*t, 0, expect.size(), expect.data()).ok());
      EXPECT_LT(test::max_abs_diff(all.data(), expect.data(), expect.size()), 1e-4f);
    }
    const TensorInfo* lt = refs->find("case" + std::to_string(c.id) + ".logits");
    ASSERT_NE(lt, nullptr);
    std::vector<float> ref_logits(size_t(lt->numel()));
    ASSERT_TRUE(convert_to_f32(*lt, 0, ref_logits.size(), ref_logits.data()).ok());
    std::vector<int32_t> got;
    for (size_t i = 0; i < c.greedy.size(); ++i) {
      if (int64_t(i) < lt->shape[0]) {
        EXPECT_LT(test::max_abs_diff(last.data(), ref_logits.data() + i * size_t(V), size_t(V)), 1e-4f) << "generated position " << i;
      }
      int32_t next = test::argmax(last);
      got.push_back(next);
      ASSERT_TRUE(model.forward(std::span<const int32_t>(&next, 1), &last).ok());
    }
    EXPECT_EQ(got, c.greedy);
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, ModelReference, ::testing::Values("qwen2-tiny", "qwen3-tiny"));

TEST(ModelReference, ExceedingMaxCtxIsAClearError) {
  LoadOptions opt;
  opt.max_ctx = 16;
  auto m = Model::load(fixture("qwen2-tiny"), opt);
  ASSERT_TRUE(m.ok()) << m.message();
  std::vector<int32_t> prompt(20, 5);
  std::vector<float> last;
  Status s = (*m)->forward(prompt, &last);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("max_ctx 16"), std::string::npos) << s.message();
  EXPECT_EQ((*m)->n_past(), 0);
  std::vector<int32_t> bad = {5, 1024};
  Status s2 = (*m)->forward(bad, &last);
  ASSERT_FALSE(s2.ok());
  EXPECT_NE(s2.message().find("1024"), std::string::npos) << s2.message();
}

}  // namespace
}  // namespace hearth
