// Parity cases of the primitive ops (parity.h): products in every weight format (also added to
// an output, and with weights in chunks), embedding lookups, rmsnorm, RoPE, attention,
// elementwise ops and the argmax, on odd shapes and offsets.
#include <algorithm>
#include <cmath>

#include "ops/cpu/ref_ops.h"
#include "parity/parity.h"
#include "random_data.h"

namespace hearth::parity {

using test::randn;

namespace {
std::string shape_name(const char* op, WeightFormat f, int64_t rows, int64_t cols, int64_t T) {
  return std::string(op) + " " + weight_format_name(f) + " " + std::to_string(rows) + "x" + std::to_string(cols) +
         " T=" + std::to_string(T);
}
}  // namespace

void matmul_cases(Ctx& c) {
  // rows, cols, T: decode (T <= 4) and prefill shapes, odd sizes, short int4 groups, more rows
  // than one tile; from 128 tokens (WebGPU: quantized weights dequantized to scratch first).
  const int64_t shapes[][3] = {{1, 1, 1},     {7, 13, 1},    {33, 129, 3},   {64, 256, 4},  {5, 300, 17},
                               {130, 384, 2}, {9, 1000, 64}, {70, 260, 67},  {257, 64, 5},  {130, 384, 128},
                               {70, 260, 131}, {9, 13, 129}};
  for (auto f : kFormats) {
    for (const auto& sh : shapes) {
      const int64_t rows = sh[0], cols = sh[1], T = sh[2];
      const std::string what = shape_name("matmul", f, rows, cols, T);
      auto w = randn(size_t(rows * cols), uint32_t(rows * 31 + cols));
      auto x = randn(size_t(T * cols), uint32_t(T + 7));
      auto bias = randn(size_t(rows), 5), base = randn(size_t(T * rows), 6);
      QMatrix m = quantize_matrix(w, rows, cols, f, nullptr);
      std::vector<float> want(size_t(T * rows)), want_nb(size_t(T * rows));
      ref::matmul(x.data(), m, bias.data(), want.data(), T);
      ref::matmul(x.data(), m, nullptr, want_nb.data(), T);
      std::vector<float> want_add = base;  // the product rounded, then added
      for (size_t i = 0; i < want_add.size(); ++i) want_add[i] = want_add[i] + want[i];
      WeightId W = c.be->upload(m);
      // x at an odd offset inside a larger buffer, out after some padding.
      std::vector<float> xpad(3, 0.5f);
      xpad.insert(xpad.end(), x.begin(), x.end());
      Buf xb = c.put(xpad).at(3), bb = c.put(bias), out = c.be->alloc(T * rows + 5);
      c.be->matmul(xb, W, &bb, out.at(5), T);
      c.expect_close(c.get(out.at(5), want.size()), want, 2e-5f, what + " bias");
      c.be->matmul(xb, W, nullptr, out, T);
      c.expect_close(c.get(out, want.size()), want_nb, 2e-5f, what);
      Buf acc = c.put(base);
      c.be->matmul_add(xb, W, &bb, acc, T);
      c.expect_close(c.get(acc, want.size()), want_add, 2e-5f, what + " matmul_add");
      c.be->release(W);
    }
  }
  // GGUF's block formats: activations through Q8_0 per block of 32, then the blocks' products.
  const int64_t block_shapes[][3] = {{7, 64, 1}, {33, 256, 3}, {130, 384, 2}, {70, 256, 67}, {130, 384, 128}};
  for (auto f : {WeightFormat::Q8_0, WeightFormat::Q4_0}) {
    for (const auto& sh : block_shapes) {
      const int64_t rows = sh[0], cols = sh[1], T = sh[2];
      const std::string what = shape_name("matmul", f, rows, cols, T);
      QMatrix m = quantize_matrix(randn(size_t(rows * cols), uint32_t(rows + cols)), rows, cols, f, nullptr);
      auto x = randn(size_t(T * cols), uint32_t(T + 3));
      auto bias = randn(size_t(rows), 9);
      std::vector<float> want(size_t(T * rows));
      ref::matmul(x.data(), m, bias.data(), want.data(), T);
      WeightId W = c.be->upload(m);
      Buf xb = c.put(x), bb = c.put(bias), out = c.be->alloc(T * rows);
      c.be->matmul(xb, W, &bb, out, T);
      c.expect_close(c.get(out, want.size()), want, 2e-5f, what + " bias");
      c.be->release(W);
    }
  }
  if (!c.chunked) return;
  // The same products with weights split into chunks of a few rows (as for tensors beyond the
  // device's binding limit).
  Ctx s = c.on(c.chunked);
  for (auto f : kFormats) {
    for (int64_t T : {1, 9, 130}) {
      const int64_t rows = 75, cols = 200;
      auto x = randn(size_t(T * cols), 18);
      QMatrix m = quantize_matrix(randn(size_t(rows * cols), 17), rows, cols, f, nullptr);
      std::vector<float> want(size_t(T * rows));
      ref::matmul(x.data(), m, nullptr, want.data(), T);
      WeightId W = s.be->upload(m);
      Buf xb = s.put(x), out = s.be->alloc(T * rows);
      s.be->matmul(xb, W, nullptr, out, T);
      s.expect_close(s.get(out, want.size()), want, 2e-5f, shape_name("chunked matmul", f, rows, cols, T));
      s.be->release(W);
    }
  }
  c.add(s);
}

void embed_cases(Ctx& c) {
  for (auto f : kFormats) {
    for (int64_t d : {1, 6, 64, 131}) {
      const int64_t vocab = 37;
      QMatrix m = quantize_matrix(randn(size_t(vocab * d), uint32_t(d)), vocab, d, f, nullptr);
      std::vector<int32_t> ids = {0, 36, 5, 5, 17, 1, 30};
      std::vector<float> want(ids.size() * size_t(d));
      ref::embed(m, ids, want.data());
      const std::string what = std::string("embed ") + weight_format_name(f) + " d=" + std::to_string(d);
      for (Backend* be : {c.be, c.chunked}) {
        if (!be) continue;
        Ctx s = c.on(be);
        WeightId E = be->upload(m);
        Buf out = be->alloc(int64_t(want.size()) + 2);
        be->embed(E, ids, out.at(2));
        s.expect_close(s.get(out.at(2), want.size()), want, 0.0f, what);
        if (be->supports_device_greedy()) {
          // ids in backend memory (as floats), as decode on the device feeds them.
          std::vector<float> fid(ids.begin(), ids.end());
          Buf idb = s.put(fid), out2 = be->alloc(int64_t(want.size()));
          be->embed_from(E, idb, int64_t(ids.size()), out2);
          s.expect_close(s.get(out2, want.size()), want, 0.0f, what + " ids in backend memory");
        }
        be->release(E);
        c.add(s);
      }
    }
  }
}

void rmsnorm_cases(Ctx& c) {
  for (int64_t d : {1, 7, 64, 257, 1000}) {
    for (int64_t rows : {1, 37, 300}) {
      auto x = randn(size_t(d * rows), 4), w = randn(size_t(d), 5);
      std::vector<float> want(x.size());
      ref::rmsnorm(x.data(), w.data(), want.data(), rows, d, 1e-6f);
      Buf xb = c.put(x), wb = c.put(w), out = c.be->alloc(d * rows);
      const std::string what = "rmsnorm d=" + std::to_string(d) + " rows=" + std::to_string(rows);
      c.be->rmsnorm(xb, wb, out, rows, d, 1e-6f);
      c.expect_close(c.get(out, want.size()), want, 1e-5f, what);
      c.be->rmsnorm(xb, wb, xb, rows, d, 1e-6f);  // in place (q/k norm)
      c.expect_close(c.get(xb, want.size()), want, 1e-5f, what + " in place");
    }
  }
}

void rope_cases(Ctx& c) {
  struct { int64_t T, H, D, rot, pos0; float theta, scaling; } cases[] = {
      {1, 4, 64, 64, 0, 10000.0f, 1.0f},      {7, 3, 32, 32, 5, 1e6f, 1.0f},
      {3, 2, 80, 40, 4000, 10000.0f, 1.0f},  // partial rotary
      {2, 8, 128, 128, 31999, 500000.0f, 1.2f}, {5, 1, 16, 16, 100000, 10000.0f, 1.0f}};
  for (const auto& k : cases) {
    RopeTable t;
    t.rot_dim = k.rot;
    t.attention_scaling = k.scaling;
    for (int64_t i = 0; i < k.rot / 2; ++i) t.inv_freq.push_back(1.0f / std::pow(k.theta, float(2 * i) / float(k.rot)));
    auto x = randn(size_t(k.T * k.H * k.D), 9);
    std::vector<float> want = x;
    ref::rope(want.data(), k.T, k.H, k.D, k.pos0, t);
    Buf xb = c.put(x);
    c.be->rope(xb, k.T, k.H, k.D, k.pos0, t);
    // Angles up to ~1e5 rad: cos/sin of the same f32 angle within a few ulp of the double ones.
    c.expect_close(c.get(xb, x.size()), want, 2e-6f,
                   "rope T=" + std::to_string(k.T) + " D=" + std::to_string(k.D) + " pos0=" + std::to_string(k.pos0));
  }
}

void attention_cases(Ctx& c) {
  struct { int64_t H, KV, D, T, pos0, window; } cases[] = {
      {4, 2, 64, 1, 0, 0},   {4, 2, 64, 9, 0, 0},    {8, 4, 64, 1, 37, 0},  {6, 3, 20, 5, 11, 0},
      {4, 1, 16, 13, 40, 7}, {2, 2, 12, 3, 2, 1},    {4, 2, 64, 1, 300, 0}, {2, 1, 128, 2, 150, 64},
      {4, 4, 32, 70, 0, 0},  {3, 1, 48, 33, 90, 50}, {2, 2, 256, 6, 3, 0},  {8, 2, 64, 1, 999, 0},
      {2, 1, 16, 1, 33000, 0},  // more chunks than the GPU combine keeps weights for
      {16, 2, 128, 37, 5, 0},   {14, 2, 64, 20, 70, 30}};  // 8 and 7 query heads per KV head
  for (const auto& k : cases) {
    const int64_t ctx = k.pos0 + k.T;
    auto q = randn(size_t(k.T * k.H * k.D), 1), kk = randn(size_t(ctx * k.KV * k.D), 2),
         v = randn(size_t(ctx * k.KV * k.D), 3);
    AttentionShape s{k.H, k.KV, k.D, k.window, 1.0f / std::sqrt(float(k.D))};
    std::vector<float> want(q.size());
    ref::attention(q.data(), kk.data(), v.data(), want.data(), k.T, k.pos0, s);
    const std::string what = "attention H=" + std::to_string(k.H) + " KV=" + std::to_string(k.KV) +
                             " D=" + std::to_string(k.D) + " T=" + std::to_string(k.T) +
                             " pos0=" + std::to_string(k.pos0) + " window=" + std::to_string(k.window);
    Buf qb = c.put(q), kb = c.put(kk), vb = c.put(v), out = c.be->alloc(int64_t(q.size()));
    c.be->attention(qb, kb, vb, out, k.T, k.pos0, s);
    c.expect_close(c.get(out, want.size()), want, 1e-5f, what);
    // Caches at an offset that is not a multiple of 4 (GPU kernels read them as floats then).
    std::vector<float> kk2(2, 0.0f), v2(2, 0.0f);
    kk2.insert(kk2.end(), kk.begin(), kk.end());
    v2.insert(v2.end(), v.begin(), v.end());
    Buf kb2 = c.put(kk2), vb2 = c.put(v2), out2 = c.be->alloc(int64_t(q.size()));
    c.be->attention(qb, kb2.at(2), vb2.at(2), out2, k.T, k.pos0, s);
    c.expect_close(c.get(out2, want.size()), want, 1e-5f, what + ", caches at offset 2");
  }
}

void elementwise_cases(Ctx& c) {
  for (int64_t n : {1, 255, 1000, 70001}) {
    auto a = randn(size_t(n), 1, 3.0f), b = randn(size_t(n), 2);
    std::vector<float> want(a.size());
    ref::swiglu(a.data(), b.data(), want.data(), n);
    Buf ab = c.put(a), bb = c.put(b), out = c.be->alloc(n);
    c.be->swiglu(ab, bb, out, n);
    c.expect_close(c.get(out, want.size()), want, 1e-6f, "swiglu n=" + std::to_string(n));
    c.be->swiglu(ab, bb, ab, n);  // out = gate, in place
    c.expect_close(c.get(ab, want.size()), want, 1e-6f, "swiglu in place n=" + std::to_string(n));
    std::vector<float> sum = b;
    ref::add(sum.data(), c.get(ab, size_t(n)).data(), n);
    c.be->add(bb, ab, n);
    c.expect_close(c.get(bb, sum.size()), sum, 0.0f, "add n=" + std::to_string(n));
    Buf dst = c.be->alloc(n + 11);
    c.be->copy(bb, dst.at(11), n);
    c.expect_close(c.get(dst.at(11), sum.size()), sum, 0.0f, "copy n=" + std::to_string(n));
  }
}

// Backend::mask_logits: the kept logits unchanged, the others below any real logit (-inf on the
// CPU, -1e30 on WebGPU); with the argmax on the device, it picks the masked reference's argmax.
void mask_cases(Ctx& c) {
  for (int64_t n : {1, 17, 1000, 8192, 151939}) {
    auto x = randn(size_t(n), uint32_t(n) + 7);
    std::vector<float> mask(size_t((n + 15) / 16));
    uint32_t state = uint32_t(n);
    for (float& m : mask) {
      state = state * 1664525u + 1013904223u;
      m = float((state >> 8) & 0xffffu);
    }
    std::vector<float> want = x;
    ref::mask_logits(want.data(), mask.data(), n);
    Buf xb = c.put(x), mb = c.put(mask);
    c.be->mask_logits(xb, mb, n);
    const std::vector<float> got = c.get(xb, size_t(n));
    bool same = true;
    for (size_t i = 0; i < size_t(n); ++i) same = same && (std::isinf(want[i]) ? got[i] <= -1e30f : got[i] == want[i]);
    c.expect(same, "mask_logits n=" + std::to_string(n));
    if (!c.be->supports_device_greedy()) continue;
    const int64_t best = std::max_element(want.begin(), want.end()) - want.begin();
    Buf out = c.be->alloc(1);
    c.be->argmax(xb, n, out);
    c.expect(std::isinf(want[size_t(best)]) || c.get(out, 1)[0] == float(best), "argmax after mask_logits n=" + std::to_string(n));
  }
}

void argmax_cases(Ctx& c) {
  mask_cases(c);
  if (!c.be->supports_device_greedy()) return;  // the CPU picks tokens in the sampler
  for (int64_t n : {1, 3, 1000, 1003, 8192, 151936, 151939}) {
    auto x = randn(size_t(n), uint32_t(n));
    int64_t want = std::max_element(x.begin(), x.end()) - x.begin();
    Buf xb = c.put(x), out = c.be->alloc(4);
    c.be->argmax(xb, n, out.at(1));
    c.expect(c.get(out.at(1), 1)[0] == float(want), "argmax n=" + std::to_string(n));
    // x at an offset that is not a multiple of 4.
    std::vector<float> x1(1, 0.0f);
    x1.insert(x1.end(), x.begin(), x.end());
    Buf xb1 = c.put(x1);
    c.be->argmax(xb1.at(1), n, out.at(2));
    c.expect(c.get(out.at(2), 1)[0] == float(want), "argmax at offset 1 n=" + std::to_string(n));
    if (n >= 1000) {  // ties go to the lowest index
      x[size_t(n / 2)] = x[size_t(want)];
      x[size_t(n - 1)] = x[size_t(want)];
      Buf xt = c.put(x);
      c.be->argmax(xt, n, out);
      c.expect(c.get(out, 1)[0] == float(std::min<int64_t>(want, n / 2)), "argmax ties n=" + std::to_string(n));
    }
  }
}

}  // namespace hearth::parity
