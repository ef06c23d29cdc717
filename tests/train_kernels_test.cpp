// The CPU backend's training kernels against the scalar f32 references (ops/cpu/ref_train.h),
// through the Backend interface, on odd and larger shapes; each result must not depend on the
// thread count (1 and 3 threads give the same bits). A backend without training kernels
// reports which op it lacks.
#include <functional>

#include "ops/backend.h"
#include "ops/cpu/ref_ops.h"
#include "ops/cpu/ref_train.h"
#include "random_data.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::randn;
using test::rel_err;
using Outputs = std::vector<std::vector<float>>;

struct Device {
  std::unique_ptr<Backend> be;
  explicit Device(int threads) : be(make_cpu_backend(threads)) {}
  Buf put(const std::vector<float>& v) {
    Buf b = be->alloc(int64_t(v.size()));
    be->write(b, v);
    return b;
  }
  std::vector<float> get(Buf b, size_t n) {
    std::vector<float> v(n);
    be->read(b, v);
    return v;
  }
};

// Runs `op` on 1 and 3 threads: the outputs must be identical, and close to `want`.
void check(const std::function<Outputs(Device&)>& op, const Outputs& want, float tol, const std::string& what) {
  Device one(1), three(3);
  const Outputs a = op(one), b = op(three);
  ASSERT_EQ(a.size(), want.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], b[i]) << what << ": output " << i << " depends on the thread count";
    EXPECT_LT(rel_err(a[i], want[i]), tol) << what << ": output " << i;
    EXPECT_TRUE(one.be->status().ok() && three.be->status().ok()) << what;
  }
}

TEST(TrainKernels, LinearProducts) {
  const int64_t shapes[][3] = {{1, 1, 1}, {5, 12, 7}, {37, 100, 61}, {130, 300, 17}, {64, 256, 96}, {9, 520, 33}};
  for (const auto& sh : shapes) {
    const int64_t T = sh[0], in = sh[1], out = sh[2];
    const std::string what = "T=" + std::to_string(T) + " in=" + std::to_string(in) + " out=" + std::to_string(out);
    auto x = randn(size_t(T * in), 1), W = randn(size_t(out * in), 2), b = randn(size_t(out), 3);
    auto dy = randn(size_t(T * out), 4), base_out = randn(size_t(T * out), 5), base_dx = randn(size_t(T * in), 6);
    auto base_dw = randn(size_t(out * in), 7);
    for (bool acc : {false, true}) {
      for (float scale : {1.0f, 0.5f}) {
        Outputs want(3);
        want[0] = base_out;
        ref::linear(x.data(), W.data(), b.data(), want[0].data(), T, in, out, scale, acc);
        want[1] = base_dx;
        ref::linear_dx(dy.data(), W.data(), want[1].data(), T, in, out, scale, acc);
        want[2] = base_dw;
        ref::linear_dw(dy.data(), x.data(), want[2].data(), T, in, out, scale);
        check([&](Device& d) {
          Buf bx = d.put(x), bW = d.put(W), bb = d.put(b), bdy = d.put(dy);
          Buf o = d.put(base_out), dx = d.put(base_dx), dW = d.put(base_dw);
          d.be->linear(bx, bW, &bb, o, T, in, out, scale, acc);
          d.be->linear_dx(bdy, bW, dx, T, in, out, scale, acc);
          d.be->linear_dw(bdy, bx, dW, T, in, out, scale);
          return Outputs{d.get(o, want[0].size()), d.get(dx, want[1].size()), d.get(dW, want[2].size())};
        }, want, 2e-5f, what + (acc ? " accumulate" : "") + " scale " + std::to_string(scale));
      }
    }
    Outputs want_nb(2);
    want_nb[0].resize(size_t(T * out));
    ref::linear(x.data(), W.data(), static_cast<const float*>(nullptr), want_nb[0].data(), T, in, out, 1.0f, false);
    want_nb[1].assign(size_t(out), 0.5f);
    ref::bias_grad(dy.data(), want_nb[1].data(), T, out);
    check([&](Device& d) {
      Buf bx = d.put(x), bW = d.put(W), o = d.be->alloc(T * out), bdy = d.put(dy), db = d.put(std::vector<float>(size_t(out), 0.5f));
      d.be->linear(bx, bW, nullptr, o, T, in, out, 1.0f, false);
      d.be->bias_grad(bdy, db, T, out);
      return Outputs{d.get(o, want_nb[0].size()), d.get(db, size_t(out))};
    }, want_nb, 2e-5f, what + " no bias, bias_grad");
  }
}

// dx = dy dequant(W) for every format, through an uploaded matrix.
void matmul_dx_case(int64_t T, int64_t rows, int64_t cols) {
  auto w = randn(size_t(rows * cols), 8), dy = randn(size_t(T * rows), 9), base = randn(size_t(T * cols), 10);
  for (auto f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4}) {
    QMatrix q = quantize_matrix(w, rows, cols, f, nullptr, false);
    for (bool acc : {false, true}) {
      Outputs want{base};
      ref::matmul_dx(dy.data(), q, want[0].data(), T, acc);
      check([&](Device& d) {
        WeightId id = d.be->upload(q);
        Buf bdy = d.put(dy), dx = d.put(base);
        d.be->matmul_dx(bdy, id, dx, T, acc);
        return Outputs{d.get(dx, base.size())};
      }, want, 2e-5f, std::string(weight_format_name(f)) + " rows " + std::to_string(rows));
    }
  }
}

TEST(TrainKernels, MatmulDxThroughFrozenWeights) {
  matmul_dx_case(11, 33, 300);
  matmul_dx_case(3, 1200, 1000);  // rows dequantized in 2 blocks
}

TEST(TrainKernels, RmsNormBackward) {
  const int64_t shapes[][2] = {{5, 12}, {300, 96}, {77, 6}, {1024, 33}};
  for (const auto& sh : shapes) {
    const int64_t rows = sh[0], d = sh[1];
    auto x = randn(size_t(rows * d), 11), w = randn(size_t(d), 12), dy = randn(size_t(rows * d), 13);
    auto base = randn(size_t(rows * d), 14);
    for (bool acc : {false, true}) {
      Outputs want{base, std::vector<float>(size_t(d), 0.25f)};
      ref::rmsnorm_backward(x.data(), w.data(), dy.data(), want[0].data(), want[1].data(), rows, d, 1e-6f, acc);
      check([&](Device& dev) {
        Buf bx = dev.put(x), bw = dev.put(w), bdy = dev.put(dy), dx = dev.put(base), dw = dev.put(want[1]);
        dev.be->fill(dw, d, 0.25f);
        dev.be->rmsnorm_backward(bx, bw, bdy, dx, dw, rows, d, 1e-6f, acc);
        return Outputs{dev.get(dx, base.size()), dev.get(dw, size_t(d))};
      }, want, 2e-5f, "rows " + std::to_string(rows) + " d " + std::to_string(d));
    }
  }
}

TEST(TrainKernels, Attention) {
  struct { int64_t n_seq, T, H, KV, D, window; } cases[] = {{2, 5, 3, 1, 4, 0}, {1, 5, 3, 3, 6, 0}, {3, 33, 6, 2, 16, 0},
                                                             {2, 40, 4, 2, 32, 9}, {1, 64, 8, 8, 64, 0},
                                                             // 16 or more (sequence, KV head) pairs: the one-pass backward
                                                             {4, 20, 8, 4, 16, 0}, {8, 9, 2, 2, 8, 3}};
  for (const auto& c : cases) {
    AttentionShape s{c.H, c.KV, c.D, c.window, 1.0f / std::sqrt(float(c.D))};
    const size_t nq = size_t(c.n_seq * c.T * c.H * c.D), nk = size_t(c.n_seq * c.T * c.KV * c.D), nl = size_t(c.n_seq * c.T * c.H);
    auto q = randn(nq, 15), k = randn(nk, 16), v = randn(nk, 17), dout = randn(nq, 18);
    Outputs want{std::vector<float>(nq), std::vector<float>(nl), std::vector<float>(nq), std::vector<float>(nk), std::vector<float>(nk)};
    ref::attention_train(q.data(), k.data(), v.data(), want[0].data(), want[1].data(), c.n_seq, c.T, s);
    ref::attention_backward(q.data(), k.data(), v.data(), want[0].data(), want[1].data(), dout.data(), want[2].data(),
                            want[3].data(), want[4].data(), c.n_seq, c.T, s);
    check([&](Device& d) {
      Buf bq = d.put(q), bk = d.put(k), bv = d.put(v), bdo = d.put(dout);
      Buf out = d.be->alloc(int64_t(nq)), lse = d.be->alloc(int64_t(nl)), dq = d.be->alloc(int64_t(nq));
      Buf dk = d.be->alloc(int64_t(nk)), dv = d.be->alloc(int64_t(nk));
      d.be->attention_train(bq, bk, bv, out, lse, c.n_seq, c.T, s);
      d.be->attention_backward(bq, bk, bv, out, lse, bdo, dq, dk, dv, c.n_seq, c.T, s);
      return Outputs{d.get(out, nq), d.get(lse, nl), d.get(dq, nq), d.get(dk, nk), d.get(dv, nk)};
    }, want, 2e-5f, "T " + std::to_string(c.T) + " H " + std::to_string(c.H) + " KV " + std::to_string(c.KV));
  }
}

TEST(TrainKernels, ElementwiseAndLoss) {
  const int64_t n = 40000;
  auto g = randn(size_t(n), 19, 2.0f), u = randn(size_t(n), 20), dout = randn(size_t(n), 21);
  Outputs want{std::vector<float>(size_t(n)), std::vector<float>(size_t(n))};
  ref::swiglu_backward(g.data(), u.data(), dout.data(), want[0].data(), want[1].data(), n);
  check([&](Device& d) {
    Buf bg = d.put(g), bu = d.put(u), bd = d.put(dout);
    d.be->swiglu_backward(bg, bu, bd, bg, bu, n);  // in place
    return Outputs{d.get(bg, size_t(n)), d.get(bu, size_t(n))};
  }, want, 1e-6f, "swiglu_backward");

  const int64_t rows = 70, V = 515;
  auto logits = randn(size_t(rows * V), 22, 4.0f);
  std::vector<int32_t> targets;
  for (int64_t r = 0; r < rows; ++r) targets.push_back(r % 9 == 4 ? -1 : int32_t((r * 37) % V));
  Outputs ce{std::vector<float>(size_t(rows)), std::vector<float>(size_t(rows * V))};
  ref::cross_entropy(logits.data(), targets, ce[0].data(), ce[1].data(), rows, V, 0.01f);
  check([&](Device& d) {
    Buf l = d.put(logits), loss = d.be->alloc(rows);
    d.be->cross_entropy(l, targets, loss, l, rows, V, 0.01f);  // gradient in place of the logits
    return Outputs{d.get(loss, size_t(rows)), d.get(l, logits.size())};
  }, ce, 1e-5f, "cross_entropy");

  const int64_t vocab = 50, d = 70;
  std::vector<int32_t> ids;
  for (int i = 0; i < 300; ++i) ids.push_back(int32_t((i * 7 + i / 13) % vocab));
  auto dy = randn(ids.size() * size_t(d), 23), E = randn(size_t(vocab * d), 24);
  Outputs emb{std::vector<float>(ids.size() * size_t(d)), E};
  ref::embed_rows(E.data(), ids, emb[0].data(), d);
  ref::embed_backward(ids, dy.data(), emb[1].data(), d);
  check([&](Device& dev) {
    Buf bE = dev.put(E), out = dev.be->alloc(int64_t(ids.size()) * d), bdy = dev.put(dy);
    dev.be->embed_rows(bE, ids, out, d);
    dev.be->embed_backward(ids, bdy, bE, d);
    return Outputs{dev.get(out, emb[0].size()), dev.get(bE, E.size())};
  }, emb, 1e-6f, "embedding");
}

TEST(TrainKernels, OptimizerAndNorm) {
  const int64_t n = 100003;
  auto p = randn(size_t(n), 25), grad = randn(size_t(n), 26, 0.01f), m = randn(size_t(n), 27, 0.001f);
  auto v = randn(size_t(n), 28, 0.001f);
  for (float& x : v) x = x * x;
  AdamWStep s;
  s.grad_scale = 0.6f;
  s.decay = 0.999f;
  s.step_size = 0.002f;
  s.bias2_sqrt = 0.3f;
  Outputs want{p, m, v, {float(ref::sum_squares(grad.data(), n))}};
  ref::adamw(want[0].data(), grad.data(), want[1].data(), want[2].data(), n, s);
  check([&](Device& d) {
    Buf bp = d.put(p), bg = d.put(grad), bm = d.put(m), bv = d.put(v), ss = d.be->alloc(1);
    d.be->adamw(bp, bg, bm, bv, n, s);
    d.be->sum_squares(bg, n, ss);
    return Outputs{d.get(bp, size_t(n)), d.get(bm, size_t(n)), d.get(bv, size_t(n)), d.get(ss, 1)};
  }, want, 1e-6f, "adamw, sum_squares");
}

TEST(TrainKernels, RopeOfEachSequence) {
  for (float scaling : {1.0f, 1.25f}) {
    RopeTable table;
    table.rot_dim = 16;  // of head_dim 20: 4 dims pass through
    for (int64_t i = 0; i < 8; ++i) table.inv_freq.push_back(std::pow(10000.0f, -float(2 * i) / 16.0f));
    table.attention_scaling = scaling;
    const int64_t n_seq = 3, T = 9, H = 3, D = 20;
    auto x = randn(size_t(n_seq * T * H * D), 29);
    Outputs want{x, x};
    for (int64_t s = 0; s < n_seq; ++s) {
      ref::rope(want[0].data() + s * T * H * D, T, H, D, 0, table);
      ref::rope_backward(want[1].data() + s * T * H * D, T, H, D, 0, table);
    }
    check([&](Device& d) {
      Buf f = d.put(x), b = d.put(x);
      d.be->rope_seqs(f, n_seq, T, H, D, table, false);
      d.be->rope_seqs(b, n_seq, T, H, D, table, true);
      return Outputs{d.get(f, x.size()), d.get(b, x.size())};
    }, want, 1e-6f, "rope_seqs");
  }
}

// A backend with the inference ops only.
class InferenceOnlyBackend final : public Backend {
 public:
  std::string name() const override { return "inference-only"; }
  std::string tier() const override { return "none"; }
  Buf alloc(int64_t) override { return Buf{1, 0}; }
  void write(Buf, std::span<const float>) override {}
  void read(Buf, std::span<float>) override {}
  WeightId upload(QMatrix) override { return WeightId{1}; }
  Result<QMatrix> download(WeightId) override { return err("inference-only: no download"); }
  void release(WeightId) override {}
  size_t bytes_used() const override { return 0; }
  void embed(WeightId, std::span<const int32_t>, Buf) override {}
  void rmsnorm(Buf, Buf, Buf, int64_t, int64_t, float) override {}
  void matmul(Buf, WeightId, const Buf*, Buf, int64_t) override {}
  void matmul_add(Buf, WeightId, const Buf*, Buf, int64_t) override {}
  void rope(Buf, int64_t, int64_t, int64_t, int64_t, const RopeTable&) override {}
  void copy(Buf, Buf, int64_t) override {}
  void attention(Buf, Buf, Buf, Buf, int64_t, int64_t, const AttentionShape&) override {}
  void swiglu(Buf, Buf, Buf, int64_t) override {}
  void add(Buf, Buf, int64_t) override {}
};

TEST(TrainKernels, MissingKernelIsAnError) {
  InferenceOnlyBackend be;
  EXPECT_TRUE(be.status().ok());
  be.attention_backward(Buf{}, Buf{}, Buf{}, Buf{}, Buf{}, Buf{}, Buf{}, Buf{}, Buf{}, 1, 1, AttentionShape{});
  be.adamw(Buf{}, Buf{}, Buf{}, Buf{}, 1, AdamWStep{});
  ASSERT_FALSE(be.status().ok());
  EXPECT_EQ(be.status().message(), "inference-only has no training kernel for attention_backward");
}

}  // namespace
}  // namespace hearth
