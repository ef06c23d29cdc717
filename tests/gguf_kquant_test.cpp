// Block types that load by dequantization (Q4_1, Q5_0, Q5_1, Q2_K .. Q6_K): the decoders against
// blocks made by the encoders of kquant_encode.h and by hand, and pycoder-6m written with its
// matrices in each type, loaded (requantized to int4 layers / int8 tables) and measured: the
// perplexity printed next to fp32 and held to the int4 bound.
#include <fstream>

#include "formats/ggml_quants.h"
#include "formats/gguf_writer.h"
#include "kquant_encode.h"
#include "model/gguf_checkpoint.h"
#include "model/gguf_convert.h"
#include "model/model.h"
#include "engine/engine.h"
#include "random_data.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::fixture;

// Relative RMS error of decode(encode(x)) over blocks of varied scale.
double roundtrip_error(GgmlType type) {
  const auto info = ggml_type_info(uint32_t(type));
  const int64_t n = 256 * 8;
  std::vector<float> x = test::randn(size_t(n), uint32_t(type) + 1);
  for (int64_t i = 0; i < n; ++i) x[size_t(i)] *= 0.01f * float(1 + i / 256);  // each block its own scale
  std::vector<uint8_t> bytes(size_t(n / info->block * info->block_bytes));
  if (type == GgmlType::Q4_1) {
    quantize_row_q4_1(x.data(), n, bytes.data());
  } else {
    test::encode_kquant_row(type, x.data(), n, bytes.data());
  }
  std::vector<float> y(static_cast<size_t>(n));
  dequantize_row(type, bytes.data(), n, y.data());
  double err = 0, ref = 0;
  for (int64_t i = 0; i < n; ++i) {
    err += std::pow(double(y[size_t(i)]) - x[size_t(i)], 2);
    ref += std::pow(double(x[size_t(i)]), 2);
  }
  return std::sqrt(err / ref);
}

TEST(GgufKQuants, DecodersInvertTheEncoders) {
  // Bounds from the bits per value (a misplaced quant or scale is far outside them).
  const std::pair<GgmlType, double> cases[] = {{GgmlType::Q2_K, 0.45}, {GgmlType::Q3_K, 0.25}, {GgmlType::Q4_K, 0.12},
                                               {GgmlType::Q5_K, 0.06}, {GgmlType::Q6_K, 0.03}, {GgmlType::Q4_1, 0.12}};
  for (const auto& [type, bound] : cases) {
    const double e = roundtrip_error(type);
    std::printf("[ roundtrip  ] %s: relative RMS error %.4f\n", ggml_type_name(type), e);
    EXPECT_LT(e, bound) << ggml_type_name(type);
    EXPECT_GT(e, bound / 20) << ggml_type_name(type) << ": suspiciously exact";
  }
}

TEST(GgufKQuants, FiveBitBlocksByHand) {
  // Q5_0: d = 0.5, value j has nibble j % 16 and fifth bit from qh bit j; v = (q - 16) d.
  uint8_t b[24] = {};
  const uint16_t half = f32_to_f16(0.5f), quarter = f32_to_f16(-0.25f);
  std::memcpy(b, &half, 2);
  const uint32_t qh = (1u << 3) | (1u << 20);  // values 3 and 20 get +16
  std::memcpy(b + 2, &qh, 4);
  for (int j = 0; j < 16; ++j) b[6 + j] = uint8_t(j | ((15 - j) << 4));
  float y[32];
  dequantize_row(GgmlType::Q5_0, b, 32, y);
  EXPECT_EQ(y[0], (0 - 16) * 0.5f);
  EXPECT_EQ(y[3], (3 + 16 - 16) * 0.5f);
  EXPECT_EQ(y[16], (15 - 16) * 0.5f);
  EXPECT_EQ(y[20], (11 + 16 - 16) * 0.5f);
  // Q5_1: d, m, qh, qs; v = q d + m.
  uint8_t c[24] = {};
  std::memcpy(c, &half, 2);
  std::memcpy(c + 2, &quarter, 2);
  std::memcpy(c + 4, &qh, 4);
  for (int j = 0; j < 16; ++j) c[8 + j] = uint8_t(j | ((15 - j) << 4));
  dequantize_row(GgmlType::Q5_1, c, 32, y);
  EXPECT_EQ(y[1], 1 * 0.5f - 0.25f);
  EXPECT_EQ(y[3], 19 * 0.5f - 0.25f);
  EXPECT_EQ(y[20], 27 * 0.5f - 0.25f);
}

// pycoder-6m with every matrix in `type` (vectors F32), the fixture's metadata and tokenizer.
std::string pycoder_as(GgmlType type) {
  auto src = GgufFile::open(fixture("gguf/pycoder-6m-q8_0.gguf"));
  EXPECT_TRUE(src.ok());
  auto ckpt = open_checkpoint(fixture("pycoder-6m"));
  EXPECT_TRUE(ckpt.ok()) << ckpt.message();
  std::map<std::string, HfTensor> by_gguf;
  for (const HfTensor& t : hf_tensors(ckpt->config)) by_gguf[gguf_tensor_name(t.role, t.layer, t.proj)] = t;
  GgufWriter w;
  for (const auto& [k, v] : src->metadata()) w.add(k, v);
  std::vector<std::vector<uint8_t>> data;
  for (const auto& t : src->tensors()) {
    const HfTensor& h = by_gguf.at(t.name);
    GgufTensorToWrite tw{t.name, h.matrix() ? type : GgmlType::F32, t.ne};
    auto x = ckpt->tensors->load_f32(h.name, h.shape);
    EXPECT_TRUE(x.ok());
    std::vector<uint8_t> bytes(size_t(tw.nbytes()));
    if (!h.matrix()) {
      std::memcpy(bytes.data(), x->data(), bytes.size());
    } else if (type == GgmlType::Q4_1) {
      quantize_row_q4_1(x->data(), int64_t(x->size()), bytes.data());
    } else {
      test::encode_kquant_row(type, x->data(), int64_t(x->size()), bytes.data());
    }
    w.add_tensor(tw);
    data.push_back(std::move(bytes));
  }
  const std::string path = test::temp_dir("gguf_kquants") + "/pycoder-6m-" + ggml_type_name(type) + ".gguf";
  const auto bytes = w.serialize(data);
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), long(bytes.size()));
  return path;
}

double ppl(const std::string& path, int64_t windows) {
  auto f = SafetensorsFile::open(fixture("pycoder-6m/eval_windows.safetensors"));
  const TensorInfo& t = f->tensors().at(0);
  const int64_t len = t.shape[1];
  std::vector<int32_t> ids(size_t(windows * len));
  EXPECT_TRUE(t.read_bytes(0, ids.size() * 4, ids.data()).ok());
  LoadOptions opt;
  opt.max_ctx = len;
  opt.max_prefill_t = len;
  auto m = Model::load(path, opt);
  EXPECT_TRUE(m.ok()) << m.message();
  auto r = evaluate_perplexity(**m, ids, windows, len);
  EXPECT_TRUE(r.ok());
  return r->ppl;
}

// The cost of requantizing: each file's perplexity as loaded (int4 layers, int8 tables) against
// the same file dequantized exactly (converted to an F32 folder), held to the int4 bound.
TEST(GgufKQuants, RequantizingCostsNoMoreThanInt4) {
#ifdef __EMSCRIPTEN__
  GTEST_SKIP() << "eight model loads and perplexity runs take minutes in Node; the native build measures this "
                  "(the decoders are checked here by DecodersInvertTheEncoders)";
#endif
  const int64_t windows = 2;
  const double f32 = ppl(fixture("pycoder-6m"), windows);
  for (GgmlType type : {GgmlType::Q4_1, GgmlType::Q4_K, GgmlType::Q5_K, GgmlType::Q6_K}) {
    const std::string path = pycoder_as(type);
    const std::string dir = path.substr(0, path.size() - 5) + "-f32";
    ASSERT_TRUE(convert_gguf_to_hf(path, dir, "f32").ok());
    const double exact = ppl(dir, windows), q = ppl(path, windows);
    std::printf("[ perplexity ] %s, %lld windows: dequantized %.4f, requantized to int4 / int8 %.4f (%+.2f %%); fp32 %.4f\n",
                ggml_type_name(type), (long long)windows, exact, q, 100 * (q / exact - 1), f32);
    EXPECT_LT(q, exact * 1.045) << ggml_type_name(type);
  }
}

}  // namespace
}  // namespace hearth
