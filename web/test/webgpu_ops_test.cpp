// Per-op parity of the WGSL kernels against the scalar CPU references (ops/cpu/ref_ops.h), on
// random shapes including odd ones, for every weight format and both feature tiers
// ("subgroups" when the device has it, and "none"). Built as a wasm module (web/web.cmake,
// target hearth_webgpu_ops_test, with webgpu_ops_fusion_test.cpp) whose exported
// hearth_ops_test(name, tier) runs one group;
// web/test/ops.test.mjs calls it on Dawn (SwiftShader in CI).
#include <emscripten.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "ops/cpu/ref_ops.h"
#include "ops/webgpu/webgpu_backend.h"
#include "random_data.h"
#include "webgpu_ops_ctx.h"

namespace hearth {

// webgpu_ops_fusion_test.cpp
void test_matmul_add(Ctx& c);
void test_lora_fold(Ctx& c, WebGpuBackend& b2);
void test_upload_group(Ctx& c, WebGpuBackend& fresh);
void test_lora_a_in_dispatch(Ctx& c, WebGpuBackend& in, WebGpuBackend& own);

namespace {

using test::randn;
using test::rel_err;


void test_matmul(Ctx& c) {
  // rows, cols, T: decode (T <= 4, matrix-vector) and prefill (tiled) shapes, odd sizes, short
  // int4 groups, more rows than one tile.
  const int64_t shapes[][3] = {{1, 1, 1}, {7, 13, 1}, {33, 129, 3}, {64, 256, 4}, {5, 300, 17},
                               {130, 384, 2}, {9, 1000, 64}, {70, 260, 67}, {257, 64, 5}};
  for (auto f : kFormats) {
    for (const auto& sh : shapes) {
      const int64_t rows = sh[0], cols = sh[1], T = sh[2];
      const std::string what = std::string("matmul ") + weight_format_name(f) + " " + std::to_string(rows) + "x" +
                               std::to_string(cols) + " T=" + std::to_string(T);
      auto w = randn(size_t(rows * cols), uint32_t(rows * 31 + cols));
      auto x = randn(size_t(T * cols), uint32_t(T + 7));
      auto bias = randn(size_t(rows), 5);
      QMatrix m = quantize_matrix(w, rows, cols, f, nullptr);
      std::vector<float> want(size_t(T * rows)), want_nb(size_t(T * rows));
      ref::matmul(x.data(), m, bias.data(), want.data(), T);
      ref::matmul(x.data(), m, nullptr, want_nb.data(), T);
      WeightId W = c.be->upload(m);
      // x at an odd offset inside a larger buffer, out after some padding.
      std::vector<float> xpad(3, 0.5f);
      xpad.insert(xpad.end(), x.begin(), x.end());
      Buf xb = c.put(xpad).at(3);
      Buf bb = c.put(bias);
      Buf out = c.be->alloc(T * rows + 5);
      c.be->matmul(xb, W, &bb, out.at(5), T);
      c.expect_close(c.get(out.at(5), want.size()), want, 2e-5f, what + " bias");
      c.be->matmul(xb, W, nullptr, out, T);
      c.expect_close(c.get(out, want.size()), want_nb, 2e-5f, what);
      c.be->release(W);
    }
  }
}

void test_matmul_chunked(Ctx& c, WebGpuBackend& small) {
  // The same products with weights split into chunks of a few rows (as for tensors beyond the
  // device's binding limit).
  for (auto f : kFormats) {
    for (int64_t T : {1, 9}) {
      const int64_t rows = 75, cols = 200;
      auto w = randn(size_t(rows * cols), 17);
      auto x = randn(size_t(T * cols), 18);
      QMatrix m = quantize_matrix(w, rows, cols, f, nullptr);
      std::vector<float> want(size_t(T * rows));
      ref::matmul(x.data(), m, nullptr, want.data(), T);
      Ctx s{&small};
      WeightId W = small.upload(m);
      Buf xb = s.put(x), out = small.alloc(T * rows);
      small.matmul(xb, W, nullptr, out, T);
      c.expect_close(s.get(out, want.size()), want, 2e-5f,
                     std::string("chunked matmul ") + weight_format_name(f) + " T=" + std::to_string(T));
    }
  }
}

void test_embed(Ctx& c, WebGpuBackend& small) {
  for (auto f : kFormats) {
    for (int64_t d : {1, 6, 64, 131}) {
      const int64_t vocab = 37;
      auto e = randn(size_t(vocab * d), uint32_t(d));
      QMatrix m = quantize_matrix(e, vocab, d, f, nullptr);
      std::vector<int32_t> ids = {0, 36, 5, 5, 17, 1, 30};
      std::vector<float> want(ids.size() * size_t(d));
      ref::embed(m, ids, want.data());
      const std::string what = std::string("embed ") + weight_format_name(f) + " d=" + std::to_string(d);
      for (WebGpuBackend* be : {c.be, &small}) {
        Ctx s{be};
        WeightId E = be->upload(m);
        Buf out = be->alloc(int64_t(want.size()) + 2);
        be->embed(E, ids, out.at(2));
        c.expect_close(s.get(out.at(2), want.size()), want, 0.0f, what + (be == c.be ? "" : " chunked"));
        // ids on the GPU (as floats), as GPU-resident decode feeds them.
        std::vector<float> fid(ids.begin(), ids.end());
        Buf idb = s.put(fid);
        Buf out2 = be->alloc(int64_t(want.size()));
        be->embed_from(E, idb, int64_t(ids.size()), out2);
        c.expect_close(s.get(out2, want.size()), want, 0.0f, what + " ids on gpu" + (be == c.be ? "" : " chunked"));
      }
    }
  }
}

void test_rmsnorm(Ctx& c) {
  for (int64_t d : {1, 7, 64, 257, 1000}) {
    const int64_t rows = 37;
    auto x = randn(size_t(d * rows), 4), w = randn(size_t(d), 5);
    std::vector<float> want(x.size());
    ref::rmsnorm(x.data(), w.data(), want.data(), rows, d, 1e-6f);
    Buf xb = c.put(x), wb = c.put(w), out = c.be->alloc(d * rows);
    c.be->rmsnorm(xb, wb, out, rows, d, 1e-6f);
    c.expect_close(c.get(out, want.size()), want, 1e-5f, "rmsnorm d=" + std::to_string(d));
    c.be->rmsnorm(xb, wb, xb, rows, d, 1e-6f);  // in place (q/k norm)
    c.expect_close(c.get(xb, want.size()), want, 1e-5f, "rmsnorm in place d=" + std::to_string(d));
  }
}

void test_rope(Ctx& c) {
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

void test_attention(Ctx& c) {
  struct { int64_t H, KV, D, T, pos0, window; } cases[] = {
      {4, 2, 64, 1, 0, 0},   {4, 2, 64, 9, 0, 0},    {8, 4, 64, 1, 37, 0},  {6, 3, 20, 5, 11, 0},
      {4, 1, 16, 13, 40, 7}, {2, 2, 12, 3, 2, 1},    {4, 2, 64, 1, 300, 0}, {2, 1, 128, 2, 150, 64},
      {4, 4, 32, 70, 0, 0},  {3, 1, 48, 33, 90, 50}, {2, 2, 256, 6, 3, 0},  {8, 2, 64, 1, 999, 0},
      {2, 1, 16, 1, 33000, 0},  // more chunks than the combine keeps weights for
      {16, 2, 128, 37, 5, 0},   {14, 2, 64, 20, 70, 30}};  // 8 and 7 query heads per KV head
  for (const auto& k : cases) {
    const int64_t ctx = k.pos0 + k.T;
    auto q = randn(size_t(k.T * k.H * k.D), 1), kk = randn(size_t(ctx * k.KV * k.D), 2),
         v = randn(size_t(ctx * k.KV * k.D), 3);
    AttentionShape s{k.H, k.KV, k.D, k.window, 1.0f / std::sqrt(float(k.D))};
    std::vector<float> want(q.size());
    ref::attention(q.data(), kk.data(), v.data(), want.data(), k.T, k.pos0, s);
    Buf qb = c.put(q), kb = c.put(kk), vb = c.put(v), out = c.be->alloc(int64_t(q.size()));
    c.be->attention(qb, kb, vb, out, k.T, k.pos0, s);
    {
      // Caches at an offset that is not a multiple of 4: the kernels read them as floats.
      std::vector<float> kk2(2, 0.0f), v2(2, 0.0f);
      kk2.insert(kk2.end(), kk.begin(), kk.end());
      v2.insert(v2.end(), v.begin(), v.end());
      Buf kb2 = c.put(kk2), vb2 = c.put(v2), out2 = c.be->alloc(int64_t(q.size()));
      c.be->attention(qb, kb2.at(2), vb2.at(2), out2, k.T, k.pos0, s);
      c.expect_close(c.get(out2, want.size()), want, 1e-5f, "attention, caches at offset 2, H=" + std::to_string(k.H) +
                                                               " D=" + std::to_string(k.D) + " pos0=" + std::to_string(k.pos0));
    }
    c.expect_close(c.get(out, want.size()), want, 1e-5f,
                   "attention H=" + std::to_string(k.H) + " KV=" + std::to_string(k.KV) + " D=" + std::to_string(k.D) +
                       " T=" + std::to_string(k.T) + " pos0=" + std::to_string(k.pos0) + " window=" + std::to_string(k.window));
  }
}

void test_elementwise(Ctx& c) {
  for (int64_t n : {1, 255, 1000, 70001}) {
    auto a = randn(size_t(n), 1, 3.0f), b = randn(size_t(n), 2);
    std::vector<float> want(a.size());
    ref::swiglu(a.data(), b.data(), want.data(), n);
    Buf ab = c.put(a), bb = c.put(b), out = c.be->alloc(n);
    c.be->swiglu(ab, bb, out, n);
    c.expect_close(c.get(out, want.size()), want, 1e-6f, "swiglu n=" + std::to_string(n));
    c.be->swiglu(ab, bb, ab, n);  // out = gate, as the model calls it
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

void test_argmax(Ctx& c) {
  for (int64_t n : {1, 3, 1000, 1003, 8192, 151936, 151939}) {
    auto x = randn(size_t(n), uint32_t(n));
    int64_t want = std::max_element(x.begin(), x.end()) - x.begin();
    Buf xb = c.put(x), out = c.be->alloc(4);
    c.be->argmax(xb, n, out.at(1));
    c.expect(c.get(out.at(1), 1)[0] == float(want), "argmax n=" + std::to_string(n));
    // x at an offset that is not a multiple of 4: read as floats.
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

// The device sampler against ref::sample_device: filters alone and combined, penalties, ties
// (logits rounded to a grid of 0.25, and to whole numbers: top-k candidates then too many for the
// kernel's compact set), top-k above the workgroup size, several uniforms each; the pick is
// counted in pen. n = 30011 with top-k <= 64 takes the top-k pre-selection (sample_topk.wgsl)
// over 30 slices, the last one partial.
void test_sample(Ctx& c) {
  struct Case {
    const char* what;
    DeviceSampling s;
  };
  auto mk = [](float t, int k, float p, float mp, float rep, float pres, float freq) {
    DeviceSampling s;
    s.temperature = t;
    s.top_k = k;
    s.top_p = p;
    s.min_p = mp;
    s.repetition_penalty = rep;
    s.presence_penalty = pres;
    s.frequency_penalty = freq;
    return s;
  };
  const Case cases[] = {
      {"greedy", mk(0, 0, 1, 0, 1, 0, 0)},          {"temperature", mk(0.8f, 0, 1, 0, 1, 0, 0)},
      {"top-k 5", mk(1, 5, 1, 0, 1, 0, 0)},          {"top-k 40 top-p 0.9", mk(0.7f, 40, 0.9f, 0, 1, 0, 0)},
      {"top-p 0.5", mk(1.2f, 0, 0.5f, 0, 1, 0, 0)},  {"min-p 0.2", mk(1, 0, 1, 0.2f, 1, 0, 0)},
      {"penalties", mk(0.9f, 20, 0.95f, 0.05f, 1.3f, 0.5f, 0.25f)}, {"greedy penalties", mk(0, 0, 1, 0, 1.5f, 0.5f, 0.5f)},
      {"top-k 2000 top-p 0.9", mk(1, 2000, 0.9f, 0, 1, 0, 0)}, {"top-k 64 min-p 0.1", mk(0.6f, 64, 1, 0.1f, 1, 0, 0)},
  };
  for (int64_t n : {1, 7, 1000, 30011}) {
    for (int ties : {0, 1, 2}) {
      auto x = randn(size_t(n), uint32_t(n) + 7u * uint32_t(ties));
      const float grid = ties == 1 ? 4.0f : 1.0f;
      if (ties) for (float& v : x) v = std::round(v * grid) / grid;
      std::vector<float> pen(size_t(2 * n), 0.0f);
      for (int64_t i = 0; i < n; i += 3) pen[size_t(i)] = 1.0f;
      for (int64_t i = 0; i < n; i += 5) pen[size_t(n + i)] = float(i % 4);
      Buf xb = c.put(x), out = c.be->alloc(4);
      // The logits also at an offset that is not a multiple of 4 (read as floats).
      std::vector<float> x3(3, 0.0f);
      x3.insert(x3.end(), x.begin(), x.end());
      Buf xb3 = c.put(x3);
      for (const Case& cs : cases) {
        for (float u : {0.0f, 0.31f, 0.77f, 0.9999f}) {
          Buf ub = c.put({u}), pb = c.put(pen);
          const float* pp = cs.s.penalties() ? pen.data() : nullptr;
          const int32_t want = ref::sample_device(x, cs.s, u, pp);
          c.be->sample(xb, n, cs.s, ub, pb, out.at(1));
          const std::string what = std::string("sample ") + cs.what + " n=" + std::to_string(n) + (ties ? " ties " + std::to_string(ties) : "") +
                                   " u=" + std::to_string(u);
          const float got = c.get(out.at(1), 1)[0];
          c.expect(got == float(want), what + ": want " + std::to_string(want) + ", got " + std::to_string(got));
          if (!pp) {
            c.be->sample(xb3.at(3), n, cs.s, ub, pb, out.at(2));
            c.expect(c.get(out.at(2), 1)[0] == float(want), what + " (logits at offset 3)");
          }
          if (pp) {
            auto pen2 = c.get(pb, pen.size());
            c.expect(pen2[size_t(n + want)] == pen[size_t(n + want)] + 1.0f, what + ": pick counted");
          }
          if (!(cs.s.temperature > 0.0f)) break;  // no draw: one uniform is enough
        }
      }
    }
  }
}

// The decode layer's products with their neighbours folded in, as the model issues them:
// rmsnorm -> q/k/v products (one dispatch that also writes the normed x), o product ->
// residual add (one dispatch), rmsnorm -> gate/up + swiglu, for every format, short rows and
// long rows (the workgroup-per-block kernel), T = 1 and 3; short rows also on a backend whose
// weights are split into chunks (b2).
void test_norm_resid_fusion(Ctx& c, WebGpuBackend& b2) {
  for (WebGpuBackend* be : {c.be, &b2}) {
    Ctx cc{be};
    for (auto f : kFormats) {
      for (int64_t cols : {200, 4232}) {
        if (be != c.be && cols > 200) continue;  // b2's chunks hold a few short rows
        for (int64_t Tm : {1, 3}) {
          const int64_t nq = 37, nk = 13, I = 21;
          const float eps = 1e-6f;
          auto x = randn(size_t(Tm * cols), 21), nw = randn(size_t(cols), 22);
          QMatrix Wq = quantize_matrix(randn(size_t(nq * cols), 23), nq, cols, f, nullptr);
          QMatrix Wk = quantize_matrix(randn(size_t(nk * cols), 24), nk, cols, f, nullptr);
          QMatrix Wv = quantize_matrix(randn(size_t(nk * cols), 25), nk, cols, f, nullptr);
          QMatrix Wo = quantize_matrix(randn(size_t(cols * nq), 26), cols, nq, f, nullptr);
          QMatrix Wg = quantize_matrix(randn(size_t(I * cols), 27), I, cols, f, nullptr);
          QMatrix Wu = quantize_matrix(randn(size_t(I * cols), 28), I, cols, f, nullptr);
          auto bq = randn(size_t(nq), 29);
          std::vector<float> h(x.size()), q(size_t(Tm * nq)), k(size_t(Tm * nk)), v(size_t(Tm * nk)),
              o(size_t(Tm * cols)), h2(x.size()), g(size_t(Tm * I)), u(size_t(Tm * I)), sw(size_t(Tm * I));
          ref::rmsnorm(x.data(), nw.data(), h.data(), Tm, cols, eps);
          ref::matmul(h.data(), Wq, bq.data(), q.data(), Tm);
          ref::matmul(h.data(), Wk, nullptr, k.data(), Tm);
          ref::matmul(h.data(), Wv, nullptr, v.data(), Tm);
          ref::matmul(q.data(), Wo, nullptr, o.data(), Tm);
          std::vector<float> x2 = x;
          ref::add(x2.data(), o.data(), Tm * cols);
          ref::rmsnorm(x2.data(), nw.data(), h2.data(), Tm, cols, eps);
          ref::matmul(h2.data(), Wg, nullptr, g.data(), Tm);
          ref::matmul(h2.data(), Wu, nullptr, u.data(), Tm);
          ref::swiglu(g.data(), u.data(), sw.data(), Tm * I);
          WeightId iq = be->upload(Wq), ik = be->upload(Wk), iv = be->upload(Wv), io = be->upload(Wo),
                   ig = be->upload(Wg), iu = be->upload(Wu);
          Buf xb = cc.put(x), nwb = cc.put(nw), bqb = cc.put(bq), hb = be->alloc(Tm * cols), qb = be->alloc(Tm * nq),
              kb = be->alloc(Tm * nk), vb = be->alloc(Tm * nk), gb = be->alloc(Tm * I), ub = be->alloc(Tm * I);
          const std::string what = std::string(weight_format_name(f)) + " cols=" + std::to_string(cols) +
                                   " T=" + std::to_string(Tm) + (be == c.be ? "" : " chunked");
          uint64_t d0 = be->recorder().dispatches();
          be->rmsnorm(xb, nwb, hb, Tm, cols, eps);
          be->matmul(hb, iq, &bqb, qb, Tm);
          be->matmul(hb, ik, nullptr, kb, Tm);
          be->matmul(hb, iv, nullptr, vb, Tm);
          be->flush();
          if (be == c.be) cc.expect(be->recorder().dispatches() - d0 == 1, "rmsnorm + q, k, v in 1 dispatch " + what);
          cc.expect_close(cc.get(hb, h.size()), h, 2e-6f, "normed x written " + what);
          cc.expect_close(cc.get(qb, q.size()), q, 5e-5f, "rmsnorm + q " + what);
          cc.expect_close(cc.get(kb, k.size()), k, 5e-5f, "rmsnorm + k " + what);
          cc.expect_close(cc.get(vb, v.size()), v, 5e-5f, "rmsnorm + v " + what);
          be->write(qb, q);
          d0 = be->recorder().dispatches();
          be->matmul(qb, io, nullptr, hb, Tm);
          be->add(xb, hb, Tm * cols);
          be->flush();
          if (be == c.be) cc.expect(be->recorder().dispatches() - d0 == 1, "o product + residual add in 1 dispatch " + what);
          cc.expect_close(cc.get(hb, o.size()), o, 5e-5f, "o product " + what);
          cc.expect_close(cc.get(xb, x2.size()), x2, 5e-5f, "residual add " + what);
          be->write(xb, x2);
          d0 = be->recorder().dispatches();
          be->rmsnorm(xb, nwb, hb, Tm, cols, eps);
          be->matmul(hb, ig, nullptr, gb, Tm);
          be->matmul(hb, iu, nullptr, ub, Tm);
          be->swiglu(gb, ub, gb, Tm * I);
          be->flush();
          if (be == c.be) cc.expect(be->recorder().dispatches() - d0 == 1, "rmsnorm + gate/up + swiglu in 1 dispatch " + what);
          cc.expect_close(cc.get(gb, sw.size()), sw, 5e-5f, "rmsnorm + gate/up + swiglu " + what);
          cc.expect_close(cc.get(ub, u.size()), u, 5e-5f, "rmsnorm + gate/up: up " + what);
          for (WeightId id : {iq, ik, iv, io, ig, iu}) be->release(id);
        }
      }
    }
    c.checks += cc.checks;
    c.failures += cc.failures;
  }
}

// Sequences the backend fuses into one dispatch (add + rmsnorm, rope q + rope k, copy k + copy
// v), as the model issues them, and near misses that must not fuse.
void test_fusion(Ctx& c) {
  for (int64_t rows : {1, 5}) {
    for (int64_t d : {64, 257}) {
      auto x = randn(size_t(rows * d), 1), y = randn(size_t(rows * d), 2), w = randn(size_t(d), 3);
      std::vector<float> xs = x, want(x.size());
      ref::add(xs.data(), y.data(), rows * d);
      ref::rmsnorm(xs.data(), w.data(), want.data(), rows, d, 1e-5f);
      Buf xb = c.put(x), yb = c.put(y), wb = c.put(w);
      const uint64_t d0 = c.be->recorder().dispatches();
      c.be->add(xb, yb, rows * d);
      c.be->rmsnorm(xb, wb, yb, rows, d, 1e-5f);  // out = y, as the model does (h_)
      c.be->flush();
      c.expect(c.be->recorder().dispatches() - d0 == 1, "add + rmsnorm in 1 dispatch");
      const std::string what = "add + rmsnorm rows=" + std::to_string(rows) + " d=" + std::to_string(d);
      c.expect_close(c.get(yb, want.size()), want, 1e-5f, what);
      c.expect_close(c.get(xb, xs.size()), xs, 0.0f, what + " residual");
      // rmsnorm of another row than the one added: no fusion.
      Buf xb2 = c.put(x), yb2 = c.put(y), out = c.be->alloc(d);
      c.be->add(xb2, yb2, rows * d);
      c.be->rmsnorm(xb2.at((rows - 1) * d), wb, out, 1, d, 1e-5f);
      std::vector<float> last(want.size() / size_t(rows));
      ref::rmsnorm(xs.data() + (rows - 1) * d, w.data(), last.data(), 1, d, 1e-5f);
      c.expect_close(c.get(out, last.size()), last, 1e-5f, what + " (last row only)");
    }
  }
  // rope q, rope k, copy k and v into the caches: one dispatch; D = 40 also copies the k dims
  // past rot_dim.
  RopeTable t;
  t.rot_dim = 32;
  for (int i = 0; i < 16; ++i) t.inv_freq.push_back(1.0f / std::pow(10000.0f, float(2 * i) / 32.0f));
  for (int64_t D : {32, 40}) {
    const int64_t T = 3, H = 4, KV = 2, pos0 = 17;
    auto q = randn(size_t(T * H * D), 4), k = randn(size_t(T * KV * D), 5), v = randn(size_t(T * KV * D), 6);
    std::vector<float> qw = q, kw = k;
    ref::rope(qw.data(), T, H, D, pos0, t);
    ref::rope(kw.data(), T, KV, D, pos0, t);
    Buf qb = c.put(q), kb = c.put(k), vb = c.put(v), kc = c.be->alloc(64 * KV * D), vc = c.be->alloc(64 * KV * D);
    const uint64_t d0 = c.be->recorder().dispatches();
    c.be->rope(qb, T, H, D, pos0, t);
    c.be->rope(kb, T, KV, D, pos0, t);
    c.be->copy(kb, kc.at(pos0 * KV * D), T * KV * D);
    c.be->copy(vb, vc.at(pos0 * KV * D), T * KV * D);
    c.be->flush();
    const std::string what = " D=" + std::to_string(D);
    c.expect(c.be->recorder().dispatches() - d0 == 1, "rope q, rope k, copy k, copy v in 1 dispatch" + what);
    c.expect_close(c.get(qb, qw.size()), qw, 2e-6f, "rope q + rope k: q" + what);
    c.expect_close(c.get(kb, kw.size()), kw, 2e-6f, "rope q + rope k: k" + what);
    c.expect_close(c.get(kc.at(pos0 * KV * D), kw.size()), kw, 2e-6f, "rope + cache stores: k" + what);
    c.expect_close(c.get(vc.at(pos0 * KV * D), v.size()), v, 0.0f, "rope + cache stores: v" + what);
    // rope q, rope k and the k store without the v copy: the k store still happens.
    Buf kb2 = c.put(k), qb2 = c.put(q), kc2 = c.be->alloc(T * KV * D);
    c.be->rope(qb2, T, H, D, pos0, t);
    c.be->rope(kb2, T, KV, D, pos0, t);
    c.be->copy(kb2, kc2, T * KV * D);
    c.expect_close(c.get(kc2, kw.size()), kw, 2e-6f, "rope + k store alone" + what);
  }
  // rope q, rope k, the cache stores, then decode attention over the caches: the attention
  // kernel ropes and stores as it loads (2 dispatches with the combine). New keys that straddle
  // a chunk boundary (pos0 = 62, T = 3), a window, a partial rotary, a whole head block per KV
  // head and several.
  struct { int64_t H, KV, D, rot, T, pos0, window; } ac[] = {
      {16, 2, 128, 128, 1, 300, 0}, {4, 2, 64, 64, 3, 62, 0}, {6, 2, 40, 32, 2, 17, 0}, {8, 1, 256, 256, 1, 70, 0},
      {4, 4, 32, 32, 4, 0, 0},      {4, 2, 64, 64, 2, 90, 16}};
  for (const auto& a : ac) {
    RopeTable rt;
    rt.rot_dim = a.rot;
    rt.attention_scaling = 1.1f;
    for (int64_t i = 0; i < a.rot / 2; ++i) rt.inv_freq.push_back(1.0f / std::pow(10000.0f, float(2 * i) / float(a.rot)));
    const int64_t ctx = a.pos0 + a.T, kvd = a.KV * a.D;
    auto q = randn(size_t(a.T * a.H * a.D), 21), k = randn(size_t(a.T * kvd), 22), v = randn(size_t(a.T * kvd), 23);
    auto kc0 = randn(size_t((ctx + 5) * kvd), 24), vc0 = randn(size_t((ctx + 5) * kvd), 25);
    std::vector<float> qw = q, kw = k, kcw = kc0, vcw = vc0;
    ref::rope(qw.data(), a.T, a.H, a.D, a.pos0, rt);
    ref::rope(kw.data(), a.T, a.KV, a.D, a.pos0, rt);
    std::copy(kw.begin(), kw.end(), kcw.begin() + a.pos0 * kvd);
    std::copy(v.begin(), v.end(), vcw.begin() + a.pos0 * kvd);
    AttentionShape sh{a.H, a.KV, a.D, a.window, 1.0f / std::sqrt(float(a.D))};
    std::vector<float> want(q.size());
    ref::attention(qw.data(), kcw.data(), vcw.data(), want.data(), a.T, a.pos0, sh);
    Buf qb = c.put(q), kb = c.put(k), vb = c.put(v), kc = c.put(kc0), vc = c.put(vc0), out = c.be->alloc(int64_t(q.size()));
    const uint64_t d0 = c.be->recorder().dispatches();
    c.be->rope(qb, a.T, a.H, a.D, a.pos0, rt);
    c.be->rope(kb, a.T, a.KV, a.D, a.pos0, rt);
    c.be->copy(kb, kc.at(a.pos0 * kvd), a.T * kvd);
    c.be->copy(vb, vc.at(a.pos0 * kvd), a.T * kvd);
    c.be->attention(qb, kc, vc, out, a.T, a.pos0, sh);
    c.be->flush();
    const std::string what = " H=" + std::to_string(a.H) + " KV=" + std::to_string(a.KV) + " D=" + std::to_string(a.D) +
                             " T=" + std::to_string(a.T) + " pos0=" + std::to_string(a.pos0);
    c.expect(c.be->recorder().dispatches() - d0 == 2, "rope, cache stores and decode attention in 2 dispatches" + what);
    c.expect_close(c.get(out, want.size()), want, 1e-5f, "rope + stores + attention: out" + what);
    c.expect_close(c.get(kc, kcw.size()), kcw, 2e-6f, "rope + stores + attention: k cache" + what);
    c.expect_close(c.get(vc, vcw.size()), vcw, 0.0f, "rope + stores + attention: v cache" + what);
  }
  // q, k, v products of one x (with biases) in one dispatch, and gate/up + swiglu, for every
  // format; T = 1 and 3.
  for (auto f : kFormats) {
    for (int64_t Tm : {1, 3}) {
      const int64_t cols = 200, nq = 70, nk = 33, I = 45;
      auto x = randn(size_t(Tm * cols), 7);
      QMatrix Wq = quantize_matrix(randn(size_t(nq * cols), 8), nq, cols, f, nullptr);
      QMatrix Wk = quantize_matrix(randn(size_t(nk * cols), 9), nk, cols, f, nullptr);
      QMatrix Wv = quantize_matrix(randn(size_t(nk * cols), 10), nk, cols, f, nullptr);
      QMatrix Wg = quantize_matrix(randn(size_t(I * cols), 11), I, cols, f, nullptr);
      QMatrix Wu = quantize_matrix(randn(size_t(I * cols), 12), I, cols, f, nullptr);
      auto bq = randn(size_t(nq), 13), bk = randn(size_t(nk), 14), bv = randn(size_t(nk), 15);
      std::vector<float> q_want(size_t(Tm * nq)), k_want(size_t(Tm * nk)), v_want(size_t(Tm * nk)),
          g_want(size_t(Tm * I)), u_want(size_t(Tm * I)), s_want(size_t(Tm * I));
      ref::matmul(x.data(), Wq, bq.data(), q_want.data(), Tm);
      ref::matmul(x.data(), Wk, bk.data(), k_want.data(), Tm);
      ref::matmul(x.data(), Wv, bv.data(), v_want.data(), Tm);
      ref::matmul(x.data(), Wg, nullptr, g_want.data(), Tm);
      ref::matmul(x.data(), Wu, nullptr, u_want.data(), Tm);
      ref::swiglu(g_want.data(), u_want.data(), s_want.data(), Tm * I);
      WeightId q = c.be->upload(Wq), k = c.be->upload(Wk), v = c.be->upload(Wv), g = c.be->upload(Wg),
               u = c.be->upload(Wu);
      Buf xb = c.put(x), bqb = c.put(bq), bkb = c.put(bk), bvb = c.put(bv);
      Buf qo = c.be->alloc(Tm * nq), ko = c.be->alloc(Tm * nk), vo = c.be->alloc(Tm * nk), go = c.be->alloc(Tm * I),
          uo = c.be->alloc(Tm * I);
      const uint64_t d0 = c.be->recorder().dispatches();
      c.be->matmul(xb, q, &bqb, qo, Tm);
      c.be->matmul(xb, k, &bkb, ko, Tm);
      c.be->matmul(xb, v, &bvb, vo, Tm);
      c.be->matmul(xb, g, nullptr, go, Tm);
      c.be->matmul(xb, u, nullptr, uo, Tm);
      c.be->swiglu(go, uo, go, Tm * I);
      c.be->flush();
      const std::string what = std::string(weight_format_name(f)) + " T=" + std::to_string(Tm);
      c.expect(c.be->recorder().dispatches() - d0 == 2, "q, k, v, gate, up, swiglu in 2 dispatches " + what);
      c.expect_close(c.get(qo, q_want.size()), q_want, 2e-5f, "qkv group q " + what);
      c.expect_close(c.get(ko, k_want.size()), k_want, 2e-5f, "qkv group k " + what);
      c.expect_close(c.get(vo, v_want.size()), v_want, 2e-5f, "qkv group v " + what);
      c.expect_close(c.get(go, s_want.size()), s_want, 2e-5f, "gate/up + swiglu " + what);
      c.expect_close(c.get(uo, u_want.size()), u_want, 2e-5f, "gate/up + swiglu: up " + what);
      // The second product reads what the first writes: no group.
      Buf y1 = c.be->alloc(Tm * I), y2 = c.be->alloc(Tm * I);
      QMatrix Wsq = quantize_matrix(randn(size_t(I * I), 16), I, I, f, nullptr);
      WeightId sq = c.be->upload(Wsq);
      Buf xi = c.put(randn(size_t(Tm * I), 17));
      c.be->matmul(xi, sq, nullptr, y1, Tm);
      c.be->matmul(y1, sq, nullptr, y2, Tm);
      std::vector<float> y1w(size_t(Tm * I)), y2w(size_t(Tm * I));
      ref::matmul(c.get(xi, size_t(Tm * I)).data(), Wsq, nullptr, y1w.data(), Tm);
      ref::matmul(y1w.data(), Wsq, nullptr, y2w.data(), Tm);
      c.expect_close(c.get(y2, y2w.size()), y2w, 2e-4f, "chained products " + what);
      for (WeightId id : {q, k, v, g, u, sq}) c.be->release(id);
    }
  }
  // A copy that reads what the previous one wrote must not be merged with it.
  const auto v = randn(300, 30);
  Buf a = c.put(v), b = c.be->alloc(int64_t(v.size())), e = c.be->alloc(int64_t(v.size()));
  c.be->copy(a, b, int64_t(v.size()));
  c.be->copy(b, e, int64_t(v.size()));
  c.expect_close(c.get(e, v.size()), v, 0.0f, "copy chain");
}

// Not a check: times single ops (each flushed and read back, so the numbers include a submit
// and a read-back) to see where a device spends its time.
void bench(Ctx& c) {
  auto time_it = [&](const char* what, int reps, auto&& fn) {
    Buf sink = c.be->alloc(4);
    std::vector<float> one(1);
    fn();  // compiles the pipeline
    c.be->read(sink, one);
    double t0 = emscripten_get_now();
    for (int i = 0; i < reps; ++i) fn();
    c.be->read(sink, one);
    double t1 = emscripten_get_now();
    std::printf("  %-40s %8.3f ms\n", what, (t1 - t0) / reps);
  };
  Buf tiny = c.be->alloc(4);
  std::vector<float> one(1);
  time_it("read-back only", 20, [&] { c.be->read(tiny, one); });
  for (auto f : {WeightFormat::F32, WeightFormat::Int8, WeightFormat::Int4}) {
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{8192, 256}, {768, 256}, {256, 768}}) {
      QMatrix m = quantize_matrix(randn(size_t(rows * cols), 1), rows, cols, f, nullptr);
      WeightId W = c.be->upload(m);
      Buf x = c.put(randn(size_t(cols) * 64, 2)), out = c.be->alloc(rows * 64);
      std::string n = std::string("matvec ") + weight_format_name(f) + " " + std::to_string(rows) + "x" + std::to_string(cols);
      time_it(n.c_str(), 20, [&] { c.be->matmul(x, W, nullptr, out, 1); });
      n = std::string("matmul T=64 ") + weight_format_name(f) + " " + std::to_string(rows) + "x" + std::to_string(cols);
      time_it(n.c_str(), 5, [&] { c.be->matmul(x, W, nullptr, out, 64); });
    }
  }
  Buf x = c.put(randn(256 * 64, 3)), w = c.put(randn(256, 4)), o = c.be->alloc(256 * 64);
  time_it("rmsnorm 1x256", 50, [&] { c.be->rmsnorm(x, w, o, 1, 256, 1e-6f); });
  time_it("add 256", 50, [&] { c.be->add(x, o, 256); });
  RopeTable t;
  t.rot_dim = 64;
  for (int i = 0; i < 32; ++i) t.inv_freq.push_back(1.0f / std::pow(10000.0f, float(2 * i) / 64.0f));
  time_it("rope 1x4x64", 50, [&] { c.be->rope(x, 1, 4, 64, 10, t); });
  Buf kc = c.put(randn(256 * 128 * 2, 5)), vc = c.put(randn(256 * 128 * 2, 6));
  AttentionShape s{4, 2, 64, 0, 0.125f};
  time_it("attention decode pos 100", 20, [&] { c.be->attention(x, kc, vc, o, 1, 100, s); });
  time_it("attention prefill T=64", 5, [&] { c.be->attention(x, kc, vc, o, 64, 0, s); });
  time_it("100 x add 256 in one submit", 5, [&] { for (int i = 0; i < 100; ++i) c.be->add(x, o, 256); });
  time_it("rmsnorm 64x256", 10, [&] { c.be->rmsnorm(x, w, o, 64, 256, 1e-6f); });
  time_it("rmsnorm 256x64", 10, [&] { c.be->rmsnorm(x, w, o, 256, 64, 1e-6f); });
}

}  // namespace
}  // namespace hearth

// Runs one group of checks ("matmul", "embed", "rmsnorm", "rope", "attention", "sample",
// "elementwise", "argmax") on tier "subgroups" or "none". Returns the number of failures
// (-1: no device / bad arguments).
extern "C" EMSCRIPTEN_KEEPALIVE int hearth_ops_test(const char* group, const char* tier) {
  using namespace hearth;
  WebGpuOptions opt;
  opt.allow_subgroups = std::strcmp(tier, "none") != 0;
  auto be = WebGpuBackend::create(opt);
  if (!be.ok()) {
    std::printf("no WebGPU backend: %s\n", be.message().c_str());
    return -1;
  }
  if (opt.allow_subgroups && (*be)->tier() != "subgroups") {
    std::printf("the device has no subgroups: tier %s\n", (*be)->tier().c_str());
    return -1;
  }
  WebGpuOptions small_opt = opt;
  small_opt.max_chunk_bytes = 4096;  // a few rows per chunk
  auto small = WebGpuBackend::create(small_opt);
  if (!small.ok()) return -1;
  Ctx c{be->get()};
  const std::string g = group;
  if (g == "matmul") {
    test_matmul(c);
    test_matmul_chunked(c, **small);
  } else if (g == "embed") {
    test_embed(c, **small);
  } else if (g == "rmsnorm") {
    test_rmsnorm(c);
  } else if (g == "rope") {
    test_rope(c);
  } else if (g == "attention") {
    test_attention(c);
  } else if (g == "elementwise") {
    test_elementwise(c);
  } else if (g == "argmax") {
    test_argmax(c);
  } else if (g == "sample") {
    test_sample(c);
  } else if (g == "fusion") {
    test_fusion(c);
    test_norm_resid_fusion(c, **small);
    test_matmul_add(c);
    test_lora_fold(c, **small);
    auto fresh = WebGpuBackend::create(small_opt);
    if (!fresh.ok()) return -1;
    test_upload_group(c, **fresh);
    WebGpuOptions in_opt = opt;
    in_opt.lora_in_dispatch = true;
    WebGpuOptions own_opt = in_opt;
    own_opt.lora_wait = 0;  // every reader of a LoRA t computes it itself
    auto in = WebGpuBackend::create(in_opt);
    auto own = WebGpuBackend::create(own_opt);
    if (!in.ok() || !own.ok()) return -1;
    test_lora_a_in_dispatch(c, **in, **own);
  } else if (g == "bench") {
    bench(c);
  } else {
    std::printf("unknown group %s\n", group);
    return -1;
  }
  for (WebGpuBackend* b : {be->get(), small->get()}) {
    if (!b->status().ok()) {
      std::printf("  FAIL backend error: %s\n", b->status().message().c_str());
      ++c.failures;
    }
  }
  std::printf("%s [%s]: %d checks, %d failures, %zu pipelines\n", group, (*be)->tier().c_str(), c.checks, c.failures,
              (*be)->recorder().pipelines());
  std::fflush(stdout);
  return c.failures;
}
