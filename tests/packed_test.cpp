// Packed weights (formats/packed.h, model/packed_model.h) and the pack cache
// (engine/pack_cache.h): a pack loads to the same weights and logits as its source folder, its
// embedded files give the same tokenizer, chat template and generation defaults, damage is
// caught naming the tensor or file, and the cache hits, misses and replaces stale entries.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "chat/chat_template.h"
#include "engine/pack_cache.h"
#include "formats/config.h"
#include "formats/packed.h"
#include "model/packed_model.h"
#include "test_util.h"
#include "tokenizer/tokenizer.h"

namespace hearth {
namespace {

const std::string kModel = test::fixture("pycoder-6m");

LoadOptions int4_options() {
  LoadOptions o;
  o.dtype = ModelDType::Int4;
  o.max_ctx = 64;
  o.threads = 2;
  o.quant_search = false;  // the clipping search is slow on a small machine; packs hold either
  return o;
}

// Logits of a fixed prompt: the whole vocabulary at the last position.
std::vector<float> logits_of(Engine& e) {
  const std::vector<int32_t> prompt = {1, 500, 22, 731, 64, 9, 1000, 42};
  std::vector<float> last;
  e.model().reset();
  EXPECT_TRUE(e.model().forward(prompt, &last).ok());
  return last;
}

std::vector<uint8_t> read_all(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {});
}
void write_all(const std::string& path, const std::vector<uint8_t>& b) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}

TEST(Hash64, DiffersOnEveryByteAndLength) {
  std::vector<uint8_t> b(1000);
  for (size_t i = 0; i < b.size(); ++i) b[i] = uint8_t(i * 7);
  const uint64_t h = hash64(b.data(), b.size());
  EXPECT_NE(h, hash64(b.data(), b.size() - 1));
  for (size_t i : {size_t(0), size_t(31), size_t(32), size_t(990), size_t(999)}) {
    b[i] ^= 1;
    EXPECT_NE(h, hash64(b.data(), b.size())) << "byte " << i;
    b[i] ^= 1;
  }
  EXPECT_EQ(h, hash64(b.data(), b.size()));
  EXPECT_EQ(hex64(0x0123456789abcdefull), "0123456789abcdef");
}

TEST(Packed, LoadsToTheSameLogitsAsTheFolder) {
  const std::string pack = test::temp_dir("packed") + "/pycoder-int4.hpk";
  auto src = Engine::load(kModel, int4_options());
  ASSERT_TRUE(src.ok()) << src.message();
  ASSERT_TRUE(save_packed((*src)->model(), kModel, pack).ok());
  ASSERT_TRUE(is_packed_file(pack));
  LoadOptions o = int4_options();
  o.dtype = ModelDType::F32;  // a pack loads in the dtype it holds, whatever the options ask
  auto packed = Engine::load(pack, o);
  ASSERT_TRUE(packed.ok()) << packed.message();
  EXPECT_EQ(packed.value()->model().options().dtype, ModelDType::Int4);
  EXPECT_EQ(packed.value()->model().backend().bytes_used(), (*src)->model().backend().bytes_used());
  const auto a = logits_of(**src), b = logits_of(**packed);
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4)) << "logits differ";
  // Generation defaults, tokenizer and chat template come from the embedded files.
  EXPECT_EQ((*packed)->default_stop_ids(), (*src)->default_stop_ids());
  auto t1 = Tokenizer::load_for_model(kModel), t2 = Tokenizer::load_for_model(pack);
  ASSERT_TRUE(t1.ok() && t2.ok());
  ASSERT_TRUE(t2->loaded());
  EXPECT_EQ(t1->encode("def fib(n):\n    return n"), t2->encode("def fib(n):\n    return n"));
  auto c1 = ChatTemplate::for_model(kModel), c2 = ChatTemplate::for_model(pack);
  EXPECT_EQ(c1.ok(), c2.ok());
}

TEST(Packed, DamageIsCaughtNamingWhatIsDamaged) {
  const std::string dir = test::temp_dir("packed_damage");
  const std::string pack = dir + "/p.hpk";
  {
    auto src = Engine::load(kModel, int4_options());
    ASSERT_TRUE(src.ok());
    ASSERT_TRUE(save_packed((*src)->model(), kModel, pack).ok());
  }
  const auto good = read_all(pack);
  auto header = packed_header(pack);
  ASSERT_TRUE(header.ok());
  // A flipped bit in the middle of the weights: the tensor holding it is named.
  auto bad = good;
  bad[bad.size() / 2] ^= 0x10;
  write_all(dir + "/flipped.hpk", bad);
  auto e = Engine::load(dir + "/flipped.hpk", int4_options());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("hash mismatch"), std::string::npos) << e.message();
  EXPECT_NE(e.message().find("tensor model."), std::string::npos) << e.message();
  // Cut short: the trailer is missing.
  write_all(dir + "/short.hpk", std::vector<uint8_t>(good.begin(), good.begin() + long(good.size() / 3)));
  e = Engine::load(dir + "/short.hpk", int4_options());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("short.hpk"), std::string::npos) << e.message();
  // Another format version.
  bad = good;
  bad[8] = 99;
  write_all(dir + "/version.hpk", bad);
  e = Engine::load(dir + "/version.hpk", int4_options());
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.message().find("version 99"), std::string::npos) << e.message();
}

TEST(PackCache, MissesThenHitsAndReplacesStaleEntries) {
  const std::string cache = test::temp_dir("pack_cache");
  std::remove((cache + "/x").c_str());
  const BackendFactory cpu = [] { return Result<std::unique_ptr<Backend>>(make_cpu_backend(2)); };
  auto path = pack_cache_path(kModel, int4_options(), cache);
  ASSERT_TRUE(path.ok());
  std::remove(path->c_str());
  auto first = load_through_cache(kModel, int4_options(), cpu, cache);
  ASSERT_TRUE(first.ok()) << first.message();
  EXPECT_FALSE(first->hit);
  EXPECT_EQ(first->pack, *path);
  EXPECT_TRUE(first->note.empty()) << first->note;
  auto second = load_through_cache(kModel, int4_options(), cpu, cache);
  ASSERT_TRUE(second.ok()) << second.message();
  EXPECT_TRUE(second->hit);
  const auto a = logits_of(*first->engine), b = logits_of(*second->engine);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * 4));
  // Other settings are another entry.
  LoadOptions searched = int4_options();
  searched.quant_search = true;
  auto other = pack_cache_path(kModel, searched, cache);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *path);
  // An entry whose header does not match (here: the int8 pack under the int4 name) is replaced.
  LoadOptions int8 = int4_options();
  int8.dtype = ModelDType::Int8;
  auto e8 = Engine::load(kModel, int8);
  ASSERT_TRUE(e8.ok());
  ASSERT_TRUE(save_packed((*e8)->model(), kModel, *path).ok());
  auto third = load_through_cache(kModel, int4_options(), cpu, cache);
  ASSERT_TRUE(third.ok()) << third.message();
  EXPECT_FALSE(third->hit);
  EXPECT_NE(third->note.find("other files or settings"), std::string::npos) << third->note;
  const auto c = logits_of(*third->engine);
  EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * 4));
  // A cache folder that does not exist is an error naming it.
  auto missing = load_through_cache(kModel, int4_options(), cpu, cache + "/no/such");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.message().find("no/such"), std::string::npos);
}

TEST(PackCache, FingerprintFollowsTheFiles) {
  const std::string dir = test::temp_dir("fingerprint");
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json"}) write_all(dir + "/" + f, read_all(kModel + "/" + f));
  auto a = source_fingerprint(dir);
  ASSERT_TRUE(a.ok()) << a.message();
  auto bytes = read_all(dir + "/model.safetensors");
  bytes[bytes.size() - 5] ^= 1;  // the last bytes are always sampled
  write_all(dir + "/model.safetensors", bytes);
  auto b = source_fingerprint(dir);
  ASSERT_TRUE(b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_FALSE(source_fingerprint(dir + "/none").ok());
}

}  // namespace
}  // namespace hearth
