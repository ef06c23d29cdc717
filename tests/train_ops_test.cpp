// The training ops: every backward reference against central finite differences of its forward
// reference in f64 (odd shapes), the CPU backend's kernels against the f32 references, results
// independent of the thread count, and a clear error from a backend without training kernels.
#include <functional>

#include "core/thread_pool.h"
#include "ops/cpu/ref_ops.h"
#include "ops/cpu/ref_train.h"
#include "random_data.h"
#include "test_util.h"

namespace hearth {
namespace {

using test::randn;
using test::rel_err;
using Vec = std::vector<double>;

Vec randd(size_t n, uint32_t seed, float scale = 1.0f) {
  auto f = randn(n, seed, scale);
  return Vec(f.begin(), f.end());
}

double weighted_sum(const Vec& y, const Vec& r) {
  double s = 0;
  for (size_t i = 0; i < y.size(); ++i) s += y[i] * r[i];
  return s;
}

// d loss / d x by central differences, x perturbed in place and restored.
Vec numeric_grad(Vec& x, const std::function<double()>& loss, double h = 1e-6) {
  Vec g(x.size());
  for (size_t i = 0; i < x.size(); ++i) {
    const double x0 = x[i];
    x[i] = x0 + h;
    const double up = loss();
    x[i] = x0 - h;
    const double down = loss();
    x[i] = x0;
    g[i] = (up - down) / (2 * h);
  }
  return g;
}

// max |a - b| / max |b|
double grad_err(const Vec& a, const Vec& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num = std::max(num, std::fabs(a[i] - b[i]));
    den = std::max(den, std::fabs(b[i]));
  }
  return num / std::max(den, 1e-300);
}

constexpr double kFdTol = 1e-6;

TEST(TrainOpsGrad, Linear) {
  const int64_t T = 5, in = 12, out = 7;
  for (float scale : {1.0f, 2.5f}) {
    Vec x = randd(size_t(T * in), 1), W = randd(size_t(out * in), 2), b = randd(size_t(out), 3), r = randd(size_t(T * out), 4);
    Vec y(static_cast<size_t>(T * out));
    auto loss = [&] {
      ref::linear(x.data(), W.data(), b.data(), y.data(), T, in, out, scale, false);
      return weighted_sum(y, r);
    };
    Vec dx(x.size()), dW(W.size(), 0.0), db(b.size(), 0.0);
    ref::linear_dx(r.data(), W.data(), dx.data(), T, in, out, scale, false);
    ref::linear_dw(r.data(), x.data(), dW.data(), T, in, out, scale);
    Vec r_scaled(r);
    for (double& v : r_scaled) v *= scale;
    ref::bias_grad(r_scaled.data(), db.data(), T, out);
    EXPECT_LT(grad_err(dx, numeric_grad(x, loss)), kFdTol);
    EXPECT_LT(grad_err(dW, numeric_grad(W, loss)), kFdTol);
    EXPECT_LT(grad_err(db, numeric_grad(b, loss)), kFdTol);
  }
}

TEST(TrainOpsGrad, RmsNorm) {
  for (int64_t d : {12, 4, 6}) {
    const int64_t rows = 5;
    Vec x = randd(size_t(rows * d), 5), w = randd(size_t(d), 6), r = randd(size_t(rows * d), 7), y(x.size());
    for (double& v : w) v += 1.0;
    auto loss = [&] {
      ref::rmsnorm(x.data(), w.data(), y.data(), rows, d, 1e-6f);
      return weighted_sum(y, r);
    };
    Vec dx(x.size()), dw(w.size(), 0.0);
    ref::rmsnorm_backward(x.data(), w.data(), r.data(), dx.data(), dw.data(), rows, d, 1e-6f, false);
    EXPECT_LT(grad_err(dx, numeric_grad(x, loss)), kFdTol) << d;
    EXPECT_LT(grad_err(dw, numeric_grad(w, loss)), kFdTol) << d;
    // accumulate adds to what dx holds
    Vec acc(x.size(), 1.0);
    ref::rmsnorm_backward(x.data(), w.data(), r.data(), acc.data(), static_cast<double*>(nullptr), rows, d, 1e-6f, true);
    for (size_t i = 0; i < acc.size(); ++i) EXPECT_NEAR(acc[i], 1.0 + dx[i], 1e-12);
  }
}

TEST(TrainOpsGrad, Rope) {
  struct { int64_t T, H, D, rot, pos0; float scaling; } cases[] = {{5, 3, 4, 4, 0, 1.0f}, {3, 1, 6, 4, 7, 1.0f}, {4, 2, 8, 8, 2, 1.3f}};
  for (const auto& c : cases) {
    RopeTable table;
    table.rot_dim = c.rot;
    for (int64_t i = 0; i < c.rot / 2; ++i) table.inv_freq.push_back(std::pow(10000.0f, -float(2 * i) / float(c.rot)));
    table.attention_scaling = c.scaling;
    Vec x = randd(size_t(c.T * c.H * c.D), 8), r = randd(x.size(), 9);
    auto loss = [&] {
      Vec y(x);
      ref::rope(y.data(), c.T, c.H, c.D, c.pos0, table);
      return weighted_sum(y, r);
    };
    Vec dx(r);
    ref::rope_backward(dx.data(), c.T, c.H, c.D, c.pos0, table);
    EXPECT_LT(grad_err(dx, numeric_grad(x, loss)), kFdTol);
  }
}

TEST(TrainOpsGrad, Attention) {
  struct { int64_t n_seq, T, H, KV, D, window; } cases[] = {{2, 5, 3, 1, 4, 0}, {1, 5, 3, 3, 6, 0}, {2, 4, 4, 2, 4, 2}};
  for (const auto& c : cases) {
    SCOPED_TRACE("H=" + std::to_string(c.H) + " KV=" + std::to_string(c.KV) + " D=" + std::to_string(c.D) + " window=" + std::to_string(c.window));
    AttentionShape s{c.H, c.KV, c.D, c.window, 1.0f / std::sqrt(float(c.D))};
    const size_t nq = size_t(c.n_seq * c.T * c.H * c.D), nk = size_t(c.n_seq * c.T * c.KV * c.D);
    Vec q = randd(nq, 10), k = randd(nk, 11), v = randd(nk, 12), r = randd(nq, 13);
    Vec out(nq), lse(static_cast<size_t>(c.n_seq * c.T * c.H));
    auto loss = [&] {
      ref::attention_train(q.data(), k.data(), v.data(), out.data(), lse.data(), c.n_seq, c.T, s);
      return weighted_sum(out, r);
    };
    loss();
    Vec dq(nq), dk(nk), dv(nk);
    ref::attention_backward(q.data(), k.data(), v.data(), out.data(), lse.data(), r.data(), dq.data(), dk.data(),
                            dv.data(), c.n_seq, c.T, s);
    EXPECT_LT(grad_err(dq, numeric_grad(q, loss)), kFdTol);
    EXPECT_LT(grad_err(dk, numeric_grad(k, loss)), kFdTol);
    EXPECT_LT(grad_err(dv, numeric_grad(v, loss)), kFdTol);
  }
}

TEST(TrainOpsGrad, AttentionForwardMatchesInference) {
  // The training forward of one sequence is the inference attention over a cache of its keys.
  const int64_t T = 7, H = 4, KV = 2, D = 8;
  AttentionShape s{H, KV, D, 3, 0.35f};
  auto q = randn(size_t(T * H * D), 1), k = randn(size_t(T * KV * D), 2), v = randn(size_t(T * KV * D), 3);
  std::vector<float> a(q.size()), b(q.size()), lse(static_cast<size_t>(T * H));
  ref::attention_train(q.data(), k.data(), v.data(), a.data(), lse.data(), 1, T, s);
  ref::attention(q.data(), k.data(), v.data(), b.data(), T, 0, s);
  EXPECT_LT(rel_err(a, b), 1e-6f);
}

TEST(TrainOpsGrad, SwiGlu) {
  const int64_t n = 37;
  Vec g = randd(size_t(n), 14, 2.0f), u = randd(size_t(n), 15), r = randd(size_t(n), 16), y(static_cast<size_t>(n));
  auto loss = [&] {
    ref::swiglu(g.data(), u.data(), y.data(), n);
    return weighted_sum(y, r);
  };
  Vec dg(static_cast<size_t>(n)), du(static_cast<size_t>(n));
  ref::swiglu_backward(g.data(), u.data(), r.data(), dg.data(), du.data(), n);
  EXPECT_LT(grad_err(dg, numeric_grad(g, loss)), kFdTol);
  EXPECT_LT(grad_err(du, numeric_grad(u, loss)), kFdTol);
}

TEST(TrainOpsGrad, Embedding) {
  const int64_t V = 9, d = 6;
  const std::vector<int32_t> ids = {3, 0, 3, 8, 5, 3};
  Vec E = randd(size_t(V * d), 17), r = randd(ids.size() * size_t(d), 18), y(r.size());
  auto loss = [&] {
    ref::embed_rows(E.data(), ids, y.data(), d);
    return weighted_sum(y, r);
  };
  Vec dE(E.size(), 0.0);
  ref::embed_backward(ids, r.data(), dE.data(), d);
  EXPECT_LT(grad_err(dE, numeric_grad(E, loss)), kFdTol);
}

TEST(TrainOpsGrad, CrossEntropy) {
  const int64_t rows = 5, V = 11;
  const std::vector<int32_t> targets = {3, 10, -1, 0, 3};
  Vec l = randd(size_t(rows * V), 19, 3.0f), loss_rows(static_cast<size_t>(rows)), scratch(l.size());
  const float scale = 0.25f;
  auto loss = [&] {
    ref::cross_entropy(l.data(), targets, loss_rows.data(), scratch.data(), rows, V, 1.0f);
    double s = 0;
    for (double x : loss_rows) s += x;
    return s * scale;
  };
  Vec dl(l.size());
  ref::cross_entropy(l.data(), targets, loss_rows.data(), dl.data(), rows, V, scale);
  EXPECT_EQ(loss_rows[2], 0.0);
  EXPECT_LT(grad_err(dl, numeric_grad(l, loss)), kFdTol);
  // log-sum-exp minus the target's logit, for one row by hand
  double m = 0;
  for (int64_t i = 0; i < V; ++i) m += std::exp(l[size_t(V + i)]);
  EXPECT_NEAR(loss_rows[1], std::log(m) - l[size_t(V + 10)], 1e-12);
}

TEST(TrainOpsGrad, AdamWFollowsPyTorchsAlgorithm) {
  // Three steps of torch.optim.AdamW written out in double, against the f32 reference.
  const int64_t n = 50;
  const double lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  auto p32 = randn(size_t(n), 20), m32 = std::vector<float>(size_t(n)), v32 = std::vector<float>(size_t(n));
  Vec p(p32.begin(), p32.end()), m(size_t(n), 0.0), v(size_t(n), 0.0);
  for (int step = 1; step <= 3; ++step) {
    auto g32 = randn(size_t(n), uint32_t(30 + step), 0.1f);
    const double clip = 0.7;
    AdamWStep s;
    s.grad_scale = float(clip);
    s.decay = float(1 - lr * wd);
    s.beta1 = float(b1);
    s.one_minus_beta1 = float(1 - b1);
    s.beta2 = float(b2);
    s.one_minus_beta2 = float(1 - b2);
    s.step_size = float(lr / (1 - std::pow(b1, step)));
    s.bias2_sqrt = float(std::sqrt(1 - std::pow(b2, step)));
    s.eps = float(eps);
    ref::adamw(p32.data(), g32.data(), m32.data(), v32.data(), n, s);
    for (int64_t i = 0; i < n; ++i) {
      const double g = double(g32[size_t(i)]) * clip;
      p[size_t(i)] *= 1 - lr * wd;
      m[size_t(i)] = b1 * m[size_t(i)] + (1 - b1) * g;
      v[size_t(i)] = b2 * v[size_t(i)] + (1 - b2) * g * g;
      const double mhat = m[size_t(i)] / (1 - std::pow(b1, step)), vhat = v[size_t(i)] / (1 - std::pow(b2, step));
      p[size_t(i)] -= lr * mhat / (std::sqrt(vhat) + eps);
    }
  }
  for (int64_t i = 0; i < n; ++i) EXPECT_NEAR(p32[size_t(i)], p[size_t(i)], 2e-6) << i;
}

TEST(TrainOpsGrad, QuantizedMatmulDxIsTheDequantizedProduct) {
  const int64_t T = 3, rows = 9, cols = 140;
  auto w = randn(size_t(rows * cols), 40), dy = randn(size_t(T * rows), 41);
  for (auto f : {WeightFormat::F32, WeightFormat::F16, WeightFormat::Int8, WeightFormat::Int4}) {
    QMatrix q = quantize_matrix(w, rows, cols, f, nullptr);
    std::vector<float> dense(static_cast<size_t>(rows * cols)), want(static_cast<size_t>(T * cols)), got(static_cast<size_t>(T * cols));
    for (int64_t r = 0; r < rows; ++r) q.dequant_row(r, dense.data() + r * cols);
    ref::linear_dx(dy.data(), dense.data(), want.data(), T, cols, rows, 1.0f, false);
    ref::matmul_dx(dy.data(), q, got.data(), T, false);
    EXPECT_EQ(got, want) << weight_format_name(f);
  }
}

}  // namespace
}  // namespace hearth
