// Parity cases of the training ops (Backend's "training" section) against their scalar f32
// references (ops/cpu/ref_train.h), on odd shapes and offsets: the products of a linear layer
// and the input gradient through frozen weights of every format (also in chunks), the rmsnorm,
// RoPE and SwiGLU backwards, attention forward with its log-sum-exp and backward, the loss and
// the embedding, AdamW, squared sums and fills. Each group prints the largest error it saw per
// op (max |got - want| / max |want| over the op's cases).
#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include "ops/cpu/ref_ops.h"
#include "ops/cpu/ref_train.h"
#include "parity/parity.h"
#include "random_data.h"

namespace hearth::parity {

using test::randn;

namespace {

// Checks per op, keeping each op's largest error for the summary line.
struct OpErrors {
  Ctx& c;
  std::map<std::string, std::pair<float, int>> worst;  // op -> (largest error, cases)
  void check(const std::string& op, const std::vector<float>& got, const std::vector<float>& want, float tol,
             const std::string& what) {
    const float e = test::rel_err(got, want);
    auto& w = worst[op];
    w.first = std::max(w.first, std::isnan(e) ? INFINITY : e);
    ++w.second;
    c.expect_close(got, want, tol, op + " " + what);
  }
  ~OpErrors() {
    for (const auto& [op, w] : worst) {
      std::printf("  [%s] %-24s max rel err %.2e over %d cases\n", c.label.c_str(), op.c_str(), double(w.first), w.second);
    }
  }
};

std::string dims(std::initializer_list<std::pair<const char*, int64_t>> ds) {
  std::string s;
  for (const auto& [name, v] : ds) s += std::string(s.empty() ? "" : " ") + name + "=" + std::to_string(v);
  return s;
}

// A buffer holding `pad` zeros then v: returns the Buf of v (an odd offset inside a buffer).
Buf put_at(Ctx& c, const std::vector<float>& v, int64_t pad) {
  std::vector<float> padded(size_t(pad), 0.0f);
  padded.insert(padded.end(), v.begin(), v.end());
  return c.put(padded).at(pad);
}

}  // namespace

void train_products_cases(Ctx& c) {
  OpErrors e{c};
  // T, in, n_out: single elements, odd sizes, more than one 64 x 64 tile, LoRA ranks.
  // (700, 40, 30): few tiles of a long sum for the weight's gradient, split over k on a GPU.
  const int64_t shapes[][3] = {{1, 1, 1}, {5, 12, 7}, {37, 100, 61}, {130, 70, 17}, {9, 8, 200}, {66, 257, 8},
                               {700, 40, 30}};
  for (const auto& sh : shapes) {
    const int64_t T = sh[0], in = sh[1], out = sh[2];
    const std::string what = dims({{"T", T}, {"in", in}, {"out", out}});
    auto x = randn(size_t(T * in), 1), W = randn(size_t(out * in), 2), b = randn(size_t(out), 3);
    auto dy = randn(size_t(T * out), 4), base_out = randn(size_t(T * out), 5), base_dx = randn(size_t(T * in), 6);
    auto base_dw = randn(size_t(out * in), 7);
    Buf bx = put_at(c, x, 3), bW = put_at(c, W, 1), bb = put_at(c, b, 2), bdy = put_at(c, dy, 5);
    for (bool acc : {false, true}) {
      const float scale = acc ? 0.5f : 1.0f;
      const std::string how = what + (acc ? " accumulate scale 0.5" : "");
      for (bool bias : {false, true}) {
        std::vector<float> want = base_out;
        ref::linear(x.data(), W.data(), bias ? b.data() : nullptr, want.data(), T, in, out, scale, acc);
        Buf o = put_at(c, base_out, 1);
        c.be->linear(bx, bW, bias ? &bb : nullptr, o, T, in, out, scale, acc);
        e.check("linear", c.get(o, want.size()), want, 2e-5f, how + (bias ? " bias" : ""));
      }
      std::vector<float> want_dx = base_dx;
      ref::linear_dx(dy.data(), W.data(), want_dx.data(), T, in, out, scale, acc);
      Buf dx = put_at(c, base_dx, 2);
      c.be->linear_dx(bdy, bW, dx, T, in, out, scale, acc);
      e.check("linear_dx", c.get(dx, want_dx.size()), want_dx, 2e-5f, how);
    }
    std::vector<float> want_dw = base_dw;
    ref::linear_dw(dy.data(), x.data(), want_dw.data(), T, in, out, 0.25f);
    Buf dW = put_at(c, base_dw, 3);
    c.be->linear_dw(bdy, bx, dW, T, in, out, 0.25f);
    e.check("linear_dw", c.get(dW, want_dw.size()), want_dw, 2e-5f, what);
    std::vector<float> want_db(size_t(out), 0.5f);
    ref::bias_grad(dy.data(), want_db.data(), T, out);
    Buf db = put_at(c, std::vector<float>(size_t(out), 0.5f), 1);
    c.be->bias_grad(bdy, db, T, out);
    e.check("bias_grad", c.get(db, want_db.size()), want_db, 1e-5f, what);
  }
  {
    // A column sum over more rows than one block of the GPU kernel.
    const int64_t T = 700, n = 70;
    auto dy = randn(size_t(T * n), 8);
    std::vector<float> want(size_t(n), 0.0f);
    ref::bias_grad(dy.data(), want.data(), T, n);
    Buf db = c.be->alloc(n);
    c.be->bias_grad(c.put(dy), db, T, n);
    e.check("bias_grad", c.get(db, want.size()), want, 1e-5f, dims({{"T", T}, {"n", n}}));
  }
  // dx through frozen weights of every format, on one backend and (GPU) with weights in chunks.
  const auto matmul_dx_cases = [](Ctx& s, OpErrors& errors, const std::string& op) {
    for (auto f : kFormats) {
      // T, rows (the sum), cols; (3, 300, 70): split over the rows on a GPU.
      for (const auto& sh : {std::array<int64_t, 3>{11, 75, 200}, std::array<int64_t, 3>{3, 130, 33},
                             std::array<int64_t, 3>{3, 300, 70}}) {
        const int64_t T = sh[0], rows = sh[1], cols = sh[2];
        QMatrix q = quantize_matrix(randn(size_t(rows * cols), 9), rows, cols, f, nullptr);
        auto dy = randn(size_t(T * rows), 10), base = randn(size_t(T * cols), 11);
        WeightId id = s.be->upload(q);
        for (bool acc : {false, true}) {
          std::vector<float> want = base;
          ref::matmul_dx(dy.data(), q, want.data(), T, acc);
          Buf dx = put_at(s, base, 1);
          s.be->matmul_dx(put_at(s, dy, 2), id, dx, T, acc);
          errors.check(op, s.get(dx, want.size()), want, 2e-5f,
                       std::string(weight_format_name(f)) + " " + dims({{"T", T}, {"rows", rows}, {"cols", cols}}) +
                           (acc ? " accumulate" : ""));
        }
        s.be->release(id);
      }
    }
  };
  matmul_dx_cases(c, e, "matmul_dx");
  if (c.chunked) {
    Ctx s = c.on(c.chunked);
    {
      OpErrors chunked{s};
      matmul_dx_cases(s, chunked, "matmul_dx");
    }
    c.add(s);
  }
}

void train_norm_cases(Ctx& c) {
  OpErrors e{c};
  const int64_t shapes[][2] = {{5, 12}, {300, 96}, {77, 6}, {1030, 33}, {9, 300}};
  for (const auto& sh : shapes) {
    const int64_t rows = sh[0], d = sh[1];
    auto x = randn(size_t(rows * d), 11), w = randn(size_t(d), 12), dy = randn(size_t(rows * d), 13);
    auto base = randn(size_t(rows * d), 14);
    for (bool acc : {false, true}) {
      std::vector<float> want_dx = base, want_dw(size_t(d), 0.25f);
      ref::rmsnorm_backward(x.data(), w.data(), dy.data(), want_dx.data(), acc ? want_dw.data() : nullptr, rows, d, 1e-6f,
                            acc);
      Buf bx = put_at(c, x, 1), bw = c.put(w), bdy = put_at(c, dy, 3), dx = put_at(c, base, 2);
      Buf dw = acc ? put_at(c, std::vector<float>(size_t(d), 0.25f), 1) : Buf{};
      c.be->rmsnorm_backward(bx, bw, bdy, dx, dw, rows, d, 1e-6f, acc);
      const std::string what = dims({{"rows", rows}, {"d", d}}) + (acc ? " accumulate" : " frozen weight");
      e.check("rmsnorm_backward dx", c.get(dx, want_dx.size()), want_dx, 2e-5f, what);
      if (acc) e.check("rmsnorm_backward dw", c.get(dw, want_dw.size()), want_dw, 2e-5f, what);
    }
  }
  for (float scaling : {1.0f, 1.25f}) {
    RopeTable table;
    table.rot_dim = 16;  // of head_dim 20: 4 dims pass through
    for (int64_t i = 0; i < 8; ++i) table.inv_freq.push_back(std::pow(10000.0f, -float(2 * i) / 16.0f));
    table.attention_scaling = scaling;
    const int64_t n_seq = 3, T = 9, H = 3, D = 20;
    auto x = randn(size_t(n_seq * T * H * D), 29);
    std::vector<float> fwd = x, bwd = x;
    for (int64_t s = 0; s < n_seq; ++s) {
      ref::rope(fwd.data() + s * T * H * D, T, H, D, 0, table);
      ref::rope_backward(bwd.data() + s * T * H * D, T, H, D, 0, table);
    }
    Buf f = put_at(c, x, 1), b = c.put(x);
    c.be->rope_seqs(f, n_seq, T, H, D, table, false);
    c.be->rope_seqs(b, n_seq, T, H, D, table, true);
    const std::string what = "scaling " + std::to_string(scaling);
    e.check("rope_seqs", c.get(f, x.size()), fwd, 2e-6f, what);
    e.check("rope_seqs inverse", c.get(b, x.size()), bwd, 2e-6f, what);
  }
  for (int64_t n : {1, 1000, 40001}) {
    auto g = randn(size_t(n), 19, 2.0f), u = randn(size_t(n), 20), dout = randn(size_t(n), 21);
    std::vector<float> want_g(static_cast<size_t>(n)), want_u(static_cast<size_t>(n));
    ref::swiglu_backward(g.data(), u.data(), dout.data(), want_g.data(), want_u.data(), n);
    Buf bg = put_at(c, g, 1), bu = c.put(u), bd = put_at(c, dout, 3), dg = c.be->alloc(n), du = c.be->alloc(n);
    c.be->swiglu_backward(bg, bu, bd, dg, du, n);
    e.check("swiglu_backward", c.get(dg, size_t(n)), want_g, 2e-6f, dims({{"n", n}}));
    e.check("swiglu_backward", c.get(du, size_t(n)), want_u, 2e-6f, dims({{"n", n}}));
    c.be->swiglu_backward(bg, bu, bd, bg, bu, n);  // in place
    e.check("swiglu_backward", c.get(bg, size_t(n)), want_g, 2e-6f, dims({{"n", n}}) + " in place");
  }
}

void train_attention_cases(Ctx& c) {
  OpErrors e{c};
  struct { int64_t n_seq, T, H, KV, D, window; } cases[] = {{2, 5, 3, 1, 4, 0},   {1, 5, 3, 3, 4, 0},
                                                             {3, 33, 6, 2, 16, 0}, {2, 40, 4, 2, 32, 9},
                                                             {4, 20, 8, 4, 16, 0}, {1, 70, 2, 1, 32, 0}};
  for (const auto& k : cases) {
    AttentionShape s{k.H, k.KV, k.D, k.window, 1.0f / std::sqrt(float(k.D))};
    const size_t nq = size_t(k.n_seq * k.T * k.H * k.D), nk = size_t(k.n_seq * k.T * k.KV * k.D),
                 nl = size_t(k.n_seq * k.T * k.H);
    auto q = randn(nq, 15), kk = randn(nk, 16), v = randn(nk, 17), dout = randn(nq, 18);
    std::vector<float> out(nq), lse(nl), dq(nq), dk(nk), dv(nk);
    ref::attention_train(q.data(), kk.data(), v.data(), out.data(), lse.data(), k.n_seq, k.T, s);
    ref::attention_backward(q.data(), kk.data(), v.data(), out.data(), lse.data(), dout.data(), dq.data(), dk.data(),
                            dv.data(), k.n_seq, k.T, s);
    const std::string what = dims({{"n_seq", k.n_seq}, {"T", k.T}, {"H", k.H}, {"KV", k.KV}, {"D", k.D}, {"window", k.window}});
    Buf bq = put_at(c, q, 4), bk = c.put(kk), bv = put_at(c, v, 8), bdo = put_at(c, dout, 1);
    Buf bo = c.be->alloc(int64_t(nq)), bl = put_at(c, std::vector<float>(nl), 3);
    Buf bdq = c.be->alloc(int64_t(nq)), bdk = put_at(c, std::vector<float>(nk, 9.0f), 2), bdv = c.be->alloc(int64_t(nk));
    c.be->attention_train(bq, bk, bv, bo, bl, k.n_seq, k.T, s);
    e.check("attention_train out", c.get(bo, nq), out, 1e-5f, what);
    e.check("attention_train lse", c.get(bl, nl), lse, 1e-5f, what);
    // The backward from the reference's forward, so its own error is measured alone.
    Buf ro = c.put(out), rl = c.put(lse);
    c.be->attention_backward(bq, bk, bv, ro, rl, bdo, bdq, bdk, bdv, k.n_seq, k.T, s);
    e.check("attention_backward dq", c.get(bdq, nq), dq, 5e-5f, what);
    e.check("attention_backward dk", c.get(bdk, nk), dk, 5e-5f, what);
    e.check("attention_backward dv", c.get(bdv, nk), dv, 5e-5f, what);
  }
}

void train_loss_cases(Ctx& c) {
  OpErrors e{c};
  for (const auto& sh : {std::array<int64_t, 2>{70, 515}, std::array<int64_t, 2>{3, 2}, std::array<int64_t, 2>{9, 1500},
                        std::array<int64_t, 2>{4, 3000}}) {
    const int64_t rows = sh[0], V = sh[1];
    auto logits = randn(size_t(rows * V), 22, 4.0f);
    std::vector<int32_t> targets;
    for (int64_t r = 0; r < rows; ++r) targets.push_back(r % 9 == 4 ? -1 : int32_t((r * 37) % V));
    std::vector<float> loss(static_cast<size_t>(rows)), dl(static_cast<size_t>(rows * V));
    ref::cross_entropy(logits.data(), targets, loss.data(), dl.data(), rows, V, 0.01f);
    const std::string what = dims({{"rows", rows}, {"V", V}});
    Buf l = put_at(c, logits, 1), bl = c.be->alloc(rows), bd = c.be->alloc(rows * V);
    c.be->cross_entropy(l, targets, bl, bd, rows, V, 0.01f);
    e.check("cross_entropy loss", c.get(bl, size_t(rows)), loss, 1e-5f, what);
    e.check("cross_entropy dlogits", c.get(bd, dl.size()), dl, 1e-5f, what);
    c.be->cross_entropy(l, targets, bl, l, rows, V, 0.01f);  // the gradient in place of the logits
    e.check("cross_entropy dlogits", c.get(l, dl.size()), dl, 1e-5f, what + " in place");
  }
  for (const auto& sh : {std::array<int64_t, 2>{50, 70}, std::array<int64_t, 2>{7, 3}}) {
    const int64_t vocab = sh[0], d = sh[1];
    std::vector<int32_t> ids;
    for (int i = 0; i < 300; ++i) ids.push_back(int32_t((i * 7 + i / 13) % vocab));
    auto dy = randn(ids.size() * size_t(d), 23), E = randn(size_t(vocab * d), 24);
    std::vector<float> rows(ids.size() * size_t(d)), dE = E;
    ref::embed_rows(E.data(), ids, rows.data(), d);
    ref::embed_backward(ids, dy.data(), dE.data(), d);
    const std::string what = dims({{"vocab", vocab}, {"d", d}, {"T", int64_t(ids.size())}});
    Buf bE = put_at(c, E, 3), out = c.be->alloc(int64_t(rows.size())), bdy = put_at(c, dy, 1);
    c.be->embed_rows(bE, ids, out, d);
    e.check("embed_rows", c.get(out, rows.size()), rows, 0.0f, what);
    c.be->embed_backward(ids, bdy, bE, d);
    e.check("embed_backward", c.get(bE, E.size()), dE, 0.0f, what);
  }
}

void train_optimizer_cases(Ctx& c) {
  OpErrors e{c};
  for (int64_t n : {1, 4095, 100003}) {
    auto p = randn(size_t(n), 25), grad = randn(size_t(n), 26, 0.01f), m = randn(size_t(n), 27, 0.001f);
    auto v = randn(size_t(n), 28, 0.001f);
    for (float& x : v) x = x * x;
    AdamWStep s;
    s.grad_scale = 0.6f;
    s.decay = 0.999f;
    s.step_size = 0.002f;
    s.bias2_sqrt = 0.3f;
    std::vector<float> wp = p, wm = m, wv = v;
    ref::adamw(wp.data(), grad.data(), wm.data(), wv.data(), n, s);
    Buf bp = put_at(c, p, 1), bg = put_at(c, grad, 2), bm = c.put(m), bv = put_at(c, v, 3);
    c.be->adamw(bp, bg, bm, bv, n, s);
    const std::string what = dims({{"n", n}});
    e.check("adamw param", c.get(bp, size_t(n)), wp, 1e-6f, what);
    e.check("adamw m", c.get(bm, size_t(n)), wm, 1e-6f, what);
    e.check("adamw v", c.get(bv, size_t(n)), wv, 1e-6f, what);
    Buf ss = c.be->alloc(3);
    c.be->sum_squares(bg, n, ss.at(1));
    e.check("sum_squares", c.get(ss.at(1), 1), {float(ref::sum_squares(grad.data(), n))}, 2e-6f, what);
    c.be->fill(bg, n, -1.5f);
    e.check("fill", c.get(bg, size_t(n)), std::vector<float>(size_t(n), -1.5f), 0.0f, what);
  }
}

}  // namespace hearth::parity
