// GGUF reading and writing: the fixture files' metadata and tensors, every value type through the
// writer and back, ranged reads, and malformed files (truncated at every byte, bad magic and
// versions, absurd counts, lengths and offsets, unknown types, overlapping tensors, random byte
// mutations): each gives an error naming the file, never a crash or a huge allocation.
#include <cstring>
#include <random>

#include "formats/ggml_quants.h"
#include "formats/gguf.h"
#include "formats/gguf_writer.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

const char* kName = "mem.gguf";

Result<GgufFile> parse_bytes(std::vector<uint8_t> bytes) { return GgufFile::parse(MappedFile::from_bytes(std::move(bytes), kName)); }

void expect_error(std::vector<uint8_t> bytes, const std::string& needle) {
  auto r = parse_bytes(std::move(bytes));
  ASSERT_FALSE(r.ok()) << "expected an error containing: " << needle;
  EXPECT_NE(r.message().find(needle), std::string::npos) << r.message();
  EXPECT_NE(r.message().find(kName), std::string::npos) << r.message();
}

// A small file: a few metadata pairs of several types and two tensors (F32 [3], Q8_0 [2, 32]).
GgufWriter small_writer() {
  GgufWriter w;
  w.add("general.architecture", GgufValue::of_string("qwen2"));
  w.add("a.u32", GgufValue::of_int(GgufType::U32, 7));
  w.add("a.list", GgufValue::string_array({"x", "yz"}));
  w.add_tensor({"v", GgmlType::F32, {3}});
  w.add_tensor({"m", GgmlType::Q8_0, {32, 2}});
  return w;
}

std::vector<std::vector<uint8_t>> small_data() {
  std::vector<uint8_t> v(12), m(68);
  const float f[3] = {1.5f, -2.0f, 0.25f};
  std::memcpy(v.data(), f, 12);
  std::vector<float> rows(64);
  for (int i = 0; i < 64; ++i) rows[size_t(i)] = float(i - 30) * 0.1f;
  quantize_row_q8_0(rows.data(), 64, m.data());
  return {v, m};
}

std::vector<uint8_t> small_file() { return small_writer().serialize(small_data()); }

// Byte offset of the first occurrence of `needle` in the file (for targeted corruption).
size_t find(const std::vector<uint8_t>& b, const std::string& needle) {
  auto it = std::search(b.begin(), b.end(), needle.begin(), needle.end());
  return size_t(it - b.begin());
}

template <class T>
void put(std::vector<uint8_t>& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof v);
}

TEST(Gguf, ReadsTheFixture) {
  auto g = GgufFile::open(fixture("gguf/pycoder-6m-q8_0.gguf"));
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(g->version(), 3u);
  EXPECT_EQ(g->alignment(), 32u);
  EXPECT_EQ(*g->get_string("general.architecture"), "qwen2");
  EXPECT_EQ(*g->get_int("qwen2.block_count"), 6);
  EXPECT_NEAR(*g->get_float("qwen2.attention.layer_norm_rms_epsilon"), 1e-6, 1e-12);
  EXPECT_EQ((*g->get_strings("tokenizer.ggml.tokens"))->size(), 8192u);
  EXPECT_EQ((*g->get_strings("tokenizer.ggml.merges"))->size(), 7933u);
  EXPECT_FALSE(*g->get_bool("tokenizer.ggml.add_bos_token"));
  EXPECT_EQ(g->tensors().size(), 74u);
  const GgufTensor* e = g->tensor("token_embd.weight");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->type, GgmlType::Q8_0);
  EXPECT_EQ(e->shape(), (std::vector<int64_t>{8192, 256}));
  EXPECT_EQ(e->nbytes, 8192u * 8 * 34);
  EXPECT_EQ(e->offset % 32, 0u);
  // Typed access names the key and the mismatch.
  auto wrong = g->get_int("general.architecture");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.message().find("general.architecture is a string, expected an integer"), std::string::npos) << wrong.message();
  EXPECT_NE(g->get_int("no.such.key").message().find("missing"), std::string::npos);
}

TEST(Gguf, RangedReadsEqualResidentOnes) {
  const std::string path = fixture("gguf/pycoder-6m-q4_0.gguf");
  auto ranged_file = MappedFile::open(path, true);
  ASSERT_TRUE(ranged_file.ok());
  auto ranged = GgufFile::parse(*ranged_file);
  auto resident = GgufFile::open(path);
  ASSERT_TRUE(ranged.ok()) << ranged.message();
  ASSERT_TRUE(resident.ok());
  EXPECT_EQ(ranged->data(ranged->tensors()[0]), nullptr);
  ASSERT_EQ(ranged->metadata().size(), resident->metadata().size());
  EXPECT_EQ(*ranged->get_strings("tokenizer.ggml.merges").value(), *resident->get_strings("tokenizer.ggml.merges").value());
  for (const auto& t : resident->tensors()) {
    const GgufTensor* r = ranged->tensor(t.name);
    ASSERT_NE(r, nullptr);
    std::vector<uint8_t> a(size_t(t.nbytes)), b(size_t(t.nbytes));
    ASSERT_TRUE(resident->read(t, 0, a.size(), a.data()).ok());
    ASSERT_TRUE(ranged->read(*r, 0, b.size(), b.data()).ok());
    EXPECT_EQ(a, b) << t.name;
  }
}

TEST(Gguf, WriterRoundTripsEveryValueType) {
  GgufWriter w;
  w.add("u8", GgufValue::of_int(GgufType::U8, 200));
  w.add("i8", GgufValue::of_int(GgufType::I8, -100));
  w.add("u16", GgufValue::of_int(GgufType::U16, 65000));
  w.add("i16", GgufValue::of_int(GgufType::I16, -32000));
  w.add("u32", GgufValue::of_int(GgufType::U32, 4000000000));
  w.add("i32", GgufValue::of_int(GgufType::I32, -2000000000));
  w.add("u64", GgufValue::of_int(GgufType::U64, int64_t(1) << 62));
  w.add("i64", GgufValue::of_int(GgufType::I64, -(int64_t(1) << 62)));
  w.add("f32", GgufValue::of_float(GgufType::F32, 0.5));
  w.add("f64", GgufValue::of_float(GgufType::F64, 1e-300));
  w.add("bool", GgufValue::of_bool(true));
  w.add("str", GgufValue::of_string("h\xC3\xA9llo"));
  w.add("ints", GgufValue::int_array(GgufType::I16, {1, -2, 3}));
  w.add("floats", GgufValue::float_array(GgufType::F64, {0.25, -8}));
  w.add("strs", GgufValue::string_array({"", "a b", "\xE2\x96\x81"}));
  GgufValue nested;
  nested.type = GgufType::Array;
  nested.elem = GgufType::Array;
  nested.arrays = {GgufValue::int_array(GgufType::U8, {1, 2}), GgufValue::string_array({"q"})};
  w.add("nested", nested);
  w.add_tensor({"t", GgmlType::F16, {4, 2}});
  std::vector<uint8_t> data(16);
  for (int i = 0; i < 8; ++i) put<uint16_t>(data, size_t(2 * i), f32_to_f16(float(i)));
  auto g = parse_bytes(w.serialize({data}));
  ASSERT_TRUE(g.ok()) << g.message();
  EXPECT_EQ(*g->get_int("u8"), 200);
  EXPECT_EQ(*g->get_int("i8"), -100);
  EXPECT_EQ(*g->get_int("u16"), 65000);
  EXPECT_EQ(*g->get_int("i16"), -32000);
  EXPECT_EQ(*g->get_int("u32"), 4000000000);
  EXPECT_EQ(*g->get_int("i32"), -2000000000);
  EXPECT_EQ(*g->get_int("u64"), int64_t(1) << 62);
  EXPECT_EQ(*g->get_int("i64"), -(int64_t(1) << 62));
  EXPECT_EQ(*g->get_float("f32"), 0.5);
  EXPECT_EQ(*g->get_float("f64"), 1e-300);
  EXPECT_TRUE(*g->get_bool("bool"));
  EXPECT_EQ(*g->get_string("str"), "h\xC3\xA9llo");
  EXPECT_EQ(**g->get_ints("ints"), (std::vector<int64_t>{1, -2, 3}));
  EXPECT_EQ(**g->get_floats("floats"), (std::vector<double>{0.25, -8}));
  EXPECT_EQ(**g->get_strings("strs"), (std::vector<std::string>{"", "a b", "\xE2\x96\x81"}));
  const GgufValue* n = g->find("nested");
  ASSERT_NE(n, nullptr);
  ASSERT_EQ(n->arrays.size(), 2u);
  EXPECT_EQ(n->arrays[0].ints, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(n->arrays[1].strs, (std::vector<std::string>{"q"}));
  const GgufTensor* t = g->tensor("t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape(), (std::vector<int64_t>{2, 4}));
  std::vector<uint8_t> back(16);
  ASSERT_TRUE(g->read(*t, 0, 16, back.data()).ok());
  EXPECT_EQ(back, data);
}

TEST(Gguf, EveryTruncationIsAnError) {
  const std::vector<uint8_t> full = small_file();
  auto good = parse_bytes(full);
  ASSERT_TRUE(good.ok());
  uint64_t end = 0;  // the padding after the last tensor is optional
  for (const auto& t : good->tensors()) end = std::max(end, t.offset + t.nbytes);
  for (size_t n = 0; n < end; ++n) {
    auto r = parse_bytes(std::vector<uint8_t>(full.begin(), full.begin() + long(n)));
    ASSERT_FALSE(r.ok()) << "truncated to " << n << " bytes";
    EXPECT_NE(r.message().find(kName), std::string::npos) << r.message();
  }
}

TEST(Gguf, BadMagicAndVersions) {
  std::vector<uint8_t> b = small_file();
  b[0] = 'X';
  expect_error(b, "not a GGUF file");
  b = small_file();
  put<uint32_t>(b, 4, 1);
  expect_error(b, "version 1 is not supported");
  put<uint32_t>(b, 4, 4);
  expect_error(b, "version 4 is not supported");
  b = small_file();
  put<uint32_t>(b, 4, 2);  // version 2 has the same layout
  EXPECT_TRUE(parse_bytes(b).ok());
  expect_error({'G', 'G'}, "not a GGUF file");
}

TEST(Gguf, AbsurdCountsAndLengths) {
  std::vector<uint8_t> b = small_file();
  put<uint64_t>(b, 8, uint64_t(1) << 60);
  expect_error(b, "tensor count");
  b = small_file();
  put<uint64_t>(b, 16, uint64_t(1) << 60);
  expect_error(b, "metadata count");
  b = small_file();
  put<uint64_t>(b, 24, uint64_t(1) << 50);  // the first key's length
  expect_error(b, "claims");
  // The string array's count.
  b = small_file();
  const size_t list = find(b, "a.list") + 6 + 4 + 4;  // key, value type, element type
  put<uint64_t>(b, list, uint64_t(1) << 58);
  expect_error(b, "runs past the end of the file");
}

TEST(Gguf, UnknownTypesAndBadTensorInfos) {
  std::vector<uint8_t> b = small_file();
  put<uint32_t>(b, find(b, "a.u32") + 5, 99);  // the value type
  expect_error(b, "unknown value type 99");
  const size_t v = find(small_file(), std::string("\x01\0\0\0\0\0\0\0v", 9)) + 9;  // tensor "v": dims
  b = small_file();
  put<uint32_t>(b, v, 5);
  expect_error(b, "5 dimensions");
  b = small_file();
  put<uint64_t>(b, v + 4, 0);
  expect_error(b, "dimension 0 is 0");
  b = small_file();
  put<uint32_t>(b, v + 12, 1234);  // type
  expect_error(b, "unknown ggml type 1234");
  b = small_file();
  put<uint32_t>(b, v + 12, uint32_t(GgmlType::Q8_0));  // 3 values are not a block of 32
  expect_error(b, "multiple of 32");
  b = small_file();
  put<uint64_t>(b, v + 16, 8);  // offset not a multiple of 32
  expect_error(b, "not a multiple of the alignment");
  b = small_file();
  put<uint64_t>(b, v + 16, 1 << 20);
  expect_error(b, "truncated file");
  b = small_file();
  const size_t m = find(b, std::string("\x01\0\0\0\0\0\0\0m", 9)) + 9;
  put<uint64_t>(b, m + 4 + 16 + 4, 0);  // "m" at offset 0 overlaps "v"
  expect_error(b, "overlap");
}

TEST(Gguf, DuplicatesAndBadValues) {
  GgufWriter w = small_writer();
  w.add("a.u32", GgufValue::of_int(GgufType::U32, 1));
  expect_error(w.serialize(small_data()), "appears twice");
  GgufWriter t = small_writer();
  t.add_tensor({"v", GgmlType::F32, {3}});
  auto d = small_data();
  d.push_back(d[0]);
  expect_error(t.serialize(d), "tensor v appears twice");
  GgufWriter a = small_writer();
  a.add("general.alignment", GgufValue::of_int(GgufType::U32, 48));
  expect_error(a.serialize(small_data()), "power of two");
  GgufWriter bo = small_writer();
  bo.add("flag", GgufValue::of_int(GgufType::Bool, 2));
  expect_error(bo.serialize(small_data()), "neither 0 nor 1");
  // Arrays nested past the limit.
  GgufValue v = GgufValue::int_array(GgufType::U8, {1});
  for (int i = 0; i < GgufFile::kMaxArrayDepth + 1; ++i) {
    GgufValue outer;
    outer.type = GgufType::Array;
    outer.elem = GgufType::Array;
    outer.arrays = {v};
    v = outer;
  }
  GgufWriter deep = small_writer();
  deep.add("deep", v);
  expect_error(deep.serialize(small_data()), "nested deeper");
}

// Random byte flips in the header: parsing either fails with a message naming the file or
// succeeds with every tensor inside the file.
TEST(Gguf, MutatedHeadersNeverCrash) {
  const std::vector<uint8_t> base = small_file();
  const auto good = parse_bytes(base);
  ASSERT_TRUE(good.ok());
  const size_t header = size_t(good->data_offset());
  std::mt19937 rng(1234);
  int failed = 0;
  for (int iter = 0; iter < 3000; ++iter) {
    std::vector<uint8_t> b = base;
    const int flips = 1 + int(rng() % 4);
    for (int k = 0; k < flips; ++k) b[rng() % header] = uint8_t(rng());
    auto r = parse_bytes(b);
    if (!r.ok()) {
      ++failed;
      ASSERT_NE(r.message().find(kName), std::string::npos) << r.message();
      continue;
    }
    for (const auto& t : r->tensors()) ASSERT_LE(t.offset + t.nbytes, b.size());
  }
  EXPECT_GT(failed, 100);
}

}  // namespace
}  // namespace hearth
