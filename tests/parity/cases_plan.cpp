// Parity cases of the fused plan steps (ops/plan.h), compiled and run by the backend, against
// references built from the scalar ops in the order plan.h states: product stages with their
// norm, biases, adapters, SwiGLU or residual (decode and prefill sizes, short and long rows,
// weights in chunks), attention steps with q/k norms, RoPE, the cache stores and windows; and
// on GPU backends the number of dispatches each takes. Also the placement of weight groups.
#include <algorithm>
#include <cmath>

#include "ops/cpu/ref_ops.h"
#include "parity/parity.h"
#include "random_data.h"

namespace hearth::parity {

using test::randn;

namespace {

// The host side of one product of a stage.
struct HostProduct {
  QMatrix w;
  std::vector<float> bias;  // empty: none
  QMatrix A, B;             // rows 0: no adapter
};

// The reference of a product stage (plan.h's semantics) on host vectors: outs per product, the
// normed x, and the epilogue's output (SwiGLU) or the residual stream after the add.
struct StageRef {
  std::vector<std::vector<float>> outs;
  std::vector<float> normed, epilogue;
};

StageRef stage_ref(const std::vector<float>& x, int64_t T, int64_t in, const std::vector<float>* norm_w, float eps,
                   const std::vector<HostProduct>& ps, Epilogue ep, const std::vector<float>& res0) {
  StageRef r;
  std::vector<float> xs = x;
  if (norm_w) {
    r.normed.resize(x.size());
    ref::rmsnorm(x.data(), norm_w->data(), r.normed.data(), T, in, eps);
    xs = r.normed;
  }
  for (const HostProduct& p : ps) {
    std::vector<float> out(size_t(T * p.w.rows));
    ref::matmul(xs.data(), p.w, p.bias.empty() ? nullptr : p.bias.data(), out.data(), T);
    if (p.A.rows) {
      std::vector<float> t(size_t(T * p.A.rows)), bt(out.size());
      ref::matmul(xs.data(), p.A, nullptr, t.data(), T);
      ref::matmul(t.data(), p.B, nullptr, bt.data(), T);
      for (size_t i = 0; i < out.size(); ++i) out[i] = bt[i] + out[i];
    }
    r.outs.push_back(out);
  }
  if (ep == Epilogue::SwiGLU) {
    r.epilogue.resize(r.outs[0].size());
    ref::swiglu(r.outs[0].data(), r.outs[1].data(), r.epilogue.data(), int64_t(r.epilogue.size()));
  } else if (ep == Epilogue::Residual) {
    r.epilogue = res0;
    ref::add(r.epilogue.data(), r.outs[0].data(), int64_t(r.epilogue.size()));
  }
  return r;
}

struct StageCase {
  const char* name;
  int n;             // products
  bool norm;
  Epilogue ep;
  bool lora;
  bool bias;         // on the first product
};

// Builds the stage on `s.be` from host data, runs it as a compiled plan, and checks outputs,
// the normed x, the epilogue and (GPU, decode sizes) the dispatch count.
void check_stage(Ctx& s, const StageCase& sc, WeightFormat f, int64_t cols, int64_t T, uint64_t want_dispatches) {
  Backend& be = *s.be;
  const int64_t row_sets[3] = {37, 13, 13};
  const int64_t rows_pair = 21;
  const float eps = 1e-6f;
  const WeightFormat lf = f == WeightFormat::F32 ? WeightFormat::F32 : WeightFormat::F16;
  const int64_t rank = 12;
  std::vector<HostProduct> ps;
  for (int i = 0; i < sc.n; ++i) {
    const int64_t rows = sc.ep == Epilogue::SwiGLU ? rows_pair : row_sets[i];
    HostProduct p;
    p.w = quantize_matrix(randn(size_t(rows * cols), uint32_t(31 + i)), rows, cols, f, nullptr, false);
    if (sc.bias && i == 0) p.bias = randn(size_t(rows), 41);
    if (sc.lora) {
      p.A = quantize_matrix(randn(size_t(rank * cols), uint32_t(51 + i)), rank, cols, lf, nullptr);
      p.B = quantize_matrix(randn(size_t(rows * rank), uint32_t(61 + i)), rows, rank, lf, nullptr);
    }
    ps.push_back(std::move(p));
  }
  const auto x = randn(size_t(T * cols), 71), nw = randn(size_t(cols), 72);
  const auto res0 = sc.ep == Epilogue::Residual ? randn(size_t(T * ps[0].w.rows), 73) : std::vector<float>();
  const StageRef want = stage_ref(x, T, cols, sc.norm ? &nw : nullptr, eps, ps, sc.ep, res0);

  std::vector<QMatrix> ws, as, bs;
  for (const auto& p : ps) {
    ws.push_back(p.w);
    if (sc.lora) {
      as.push_back(p.A);
      bs.push_back(p.B);
    }
  }
  const std::vector<WeightId> wid = be.upload_group(ws), aid = be.upload_group(as), bid = be.upload_group(bs);
  ProductStage st;
  st.x = s.put(x);
  st.T = T;
  st.in = cols;
  st.has_norm = sc.norm;
  st.norm_w = sc.norm ? s.put(nw) : Buf{};
  st.norm_out = sc.norm ? be.alloc(T * cols) : Buf{};
  st.eps = eps;
  const Buf tbuf = sc.lora ? be.alloc(3 * T * rank) : Buf{};
  for (int i = 0; i < sc.n; ++i) {
    Product p;
    p.w = wid[size_t(i)];
    p.rows = ps[size_t(i)].w.rows;
    p.bias = ps[size_t(i)].bias.empty() ? Buf{} : s.put(ps[size_t(i)].bias);
    p.out = be.alloc(T * p.rows);
    if (sc.lora) p.lora = LoraTerm{aid[size_t(i)], bid[size_t(i)], rank, tbuf.at(i * T * rank)};
    st.products.push_back(p);
  }
  st.epilogue = sc.ep;
  if (sc.ep == Epilogue::SwiGLU) st.epilogue_out = be.alloc(T * rows_pair);
  if (sc.ep == Epilogue::Residual) st.epilogue_out = s.put(res0);
  Plan plan;
  plan.steps.push_back(st);
  auto compiled = be.compile(plan);
  s.get(st.x, 1);  // settles the uploads before counting
  const uint64_t d0 = s.dispatches();
  be.run(*compiled, 0);
  const uint64_t d1 = s.dispatches();
  const std::string what = std::string(sc.name) + " " + weight_format_name(f) + " cols=" + std::to_string(cols) +
                           " T=" + std::to_string(T);
  const float tol = sc.lora && f != WeightFormat::F32 ? 1e-4f : 5e-5f;
  for (int i = 0; i < sc.n; ++i) {
    s.expect_close(s.get(st.products[size_t(i)].out, want.outs[size_t(i)].size()), want.outs[size_t(i)], tol,
                   what + ": product " + std::to_string(i));
  }
  if (sc.norm) s.expect_close(s.get(st.norm_out, want.normed.size()), want.normed, 2e-6f, what + ": normed x");
  if (sc.ep != Epilogue::None) s.expect_close(s.get(st.epilogue_out, want.epilogue.size()), want.epilogue, tol, what + ": epilogue");
  if (want_dispatches && s.counts_dispatches()) {
    s.expect(d1 - d0 == want_dispatches, what + ": " + std::to_string(d1 - d0) + " dispatches, want " +
                                             std::to_string(want_dispatches));
  }
  for (const auto& ids : {wid, aid, bid}) {
    for (WeightId id : ids) be.release(id);
  }
}

}  // namespace

void product_stage_cases(Ctx& c) {
  // Decode sizes fold everything into one dispatch per stage, an adapter's A products into one
  // more (the weights of a stage go up as a group, so they share a buffer).
  const StageCase cases[] = {
      {"q/k/v with norm and bias", 3, true, Epilogue::None, false, true},
      {"o with residual", 1, false, Epilogue::Residual, false, false},
      {"gate/up with norm and SwiGLU", 2, true, Epilogue::SwiGLU, false, false},
      {"q/k/v with norm, bias and adapters", 3, true, Epilogue::None, true, true},
      {"down with residual and adapter", 1, false, Epilogue::Residual, true, false},
      {"gate/up with norm, SwiGLU and adapters", 2, true, Epilogue::SwiGLU, true, false},
  };
  for (const StageCase& sc : cases) {
    for (auto f : kFormats) {
      for (int64_t cols : {200, 4232}) {  // short rows, and long rows (the workgroup kernel)
        for (int64_t T : {1, 3, 9}) {
          if (cols > 200 && T > 1) continue;
          check_stage(c, sc, f, cols, T, T <= 4 ? (sc.lora ? 2 : 1) : 0);
        }
      }
      if (c.chunked) {
        // Weights in chunks of a few rows: each chunk its own dispatch, the same values.
        Ctx s = c.on(c.chunked);
        for (int64_t T : {1, 9}) check_stage(s, sc, f, 200, T, 0);
        c.add(s);
      }
    }
  }
}

void attention_step_cases(Ctx& c) {
  // A whole head block per KV head and several, new keys that straddle a GPU key chunk (pos0 =
  // 62, T = 3), a window, a partial rotary with yarn-style scaling, q/k norms, prefill sizes.
  struct { int64_t H, KV, D, rot, T, pos0, window; bool qk_norm; } cases[] = {
      {16, 2, 128, 128, 1, 300, 0, false}, {4, 2, 64, 64, 3, 62, 0, false}, {6, 2, 40, 32, 2, 17, 0, false},
      {8, 1, 256, 256, 1, 70, 0, false},   {4, 4, 32, 32, 4, 0, 0, true},   {4, 2, 64, 64, 2, 90, 16, false},
      {8, 4, 64, 64, 1, 5, 0, true},       {4, 2, 64, 64, 9, 20, 0, true},  {6, 3, 20, 20, 7, 3, 4, false},
      {4, 2, 64, 64, 70, 0, 0, false}};
  for (const auto& a : cases) {
    RopeTable rt;
    rt.rot_dim = a.rot;
    rt.attention_scaling = 1.1f;
    for (int64_t i = 0; i < a.rot / 2; ++i) rt.inv_freq.push_back(1.0f / std::pow(10000.0f, float(2 * i) / float(a.rot)));
    const int64_t ctx = a.pos0 + a.T, kvd = a.KV * a.D;
    const float eps = 1e-6f;
    auto q = randn(size_t(a.T * a.H * a.D), 21), k = randn(size_t(a.T * kvd), 22), v = randn(size_t(a.T * kvd), 23);
    auto kc0 = randn(size_t((ctx + 5) * kvd), 24), vc0 = randn(size_t((ctx + 5) * kvd), 25);
    auto qn = randn(size_t(a.D), 26), kn = randn(size_t(a.D), 27);
    std::vector<float> qw = q, kw = k, kcw = kc0, vcw = vc0;
    if (a.qk_norm) {
      ref::rmsnorm(q.data(), qn.data(), qw.data(), a.T * a.H, a.D, eps);
      ref::rmsnorm(k.data(), kn.data(), kw.data(), a.T * a.KV, a.D, eps);
    }
    ref::rope(qw.data(), a.T, a.H, a.D, a.pos0, rt);
    ref::rope(kw.data(), a.T, a.KV, a.D, a.pos0, rt);
    std::copy(kw.begin(), kw.end(), kcw.begin() + a.pos0 * kvd);
    std::copy(v.begin(), v.end(), vcw.begin() + a.pos0 * kvd);
    AttentionStep st;
    st.shape = AttentionShape{a.H, a.KV, a.D, a.window, 1.0f / std::sqrt(float(a.D))};
    std::vector<float> want(q.size());
    ref::attention(qw.data(), kcw.data(), vcw.data(), want.data(), a.T, a.pos0, st.shape);
    st.q = c.put(q);
    st.k = c.put(k);
    st.v = c.put(v);
    st.out = c.be->alloc(int64_t(q.size()));
    st.k_cache = c.put(kc0);
    st.v_cache = c.put(vc0);
    st.q_norm = a.qk_norm ? c.put(qn) : Buf{};
    st.k_norm = a.qk_norm ? c.put(kn) : Buf{};
    st.eps = eps;
    st.rope = &rt;
    st.T = a.T;
    Plan plan;
    plan.steps.push_back(st);
    auto compiled = c.be->compile(plan);
    const uint64_t d0 = c.dispatches();
    c.be->run(*compiled, a.pos0);
    const uint64_t n = c.dispatches() - d0;
    const std::string what = "attention step H=" + std::to_string(a.H) + " KV=" + std::to_string(a.KV) +
                             " D=" + std::to_string(a.D) + " T=" + std::to_string(a.T) + " pos0=" + std::to_string(a.pos0) +
                             (a.qk_norm ? " qk-norm" : "");
    c.expect_close(c.get(st.out, want.size()), want, 1e-5f, what + ": out");
    c.expect_close(c.get(st.k_cache, kcw.size()), kcw, 2e-6f, what + ": k cache");
    c.expect_close(c.get(st.v_cache, vcw.size()), vcw, 0.0f, what + ": v cache");
    // Decode sizes: RoPE and the cache stores happen inside the split-K kernel (2 dispatches
    // with the combine), after the q/k norms.
    const uint64_t want_n = a.qk_norm ? 4 : 2;
    if (a.T <= 4 && c.counts_dispatches()) c.expect(n == want_n, what + ": " + std::to_string(n) + " dispatches");
  }
}

void upload_group_cases(Ctx& c) {
  // Matrices uploaded as a group share a buffer even where one-by-one placement splits them (a
  // hole left in a buffer fits the first but not the second): the products of one x over them
  // are then one dispatch. Needs a fresh backend with 4096-byte weight buffers (c.chunked).
  if (!c.chunked || !c.counts_dispatches()) return;
  Ctx s = c.on(c.chunked);
  Backend& be = *s.be;
  const int64_t cols = 136, rows = 2;
  const auto x = randn(size_t(cols), 81);
  const Buf xb = s.put(x);
  // 12 rows of 272 bytes fill 3328 of the first buffer's 4096 bytes: a 768-byte hole.
  const WeightId filler = be.upload(quantize_matrix(randn(size_t(12 * cols), 82), 12, cols, WeightFormat::F16, nullptr));
  std::vector<QMatrix> m;
  std::vector<std::vector<float>> want;
  for (int i = 0; i < 2; ++i) {
    m.push_back(quantize_matrix(randn(size_t(rows * cols), 83 + i), rows, cols, WeightFormat::F16, nullptr));
    want.emplace_back(size_t(rows));
    ref::matmul(x.data(), m.back(), nullptr, want.back().data(), 1);
  }
  const auto run = [&](const std::vector<WeightId>& ids, const std::string& what) {
    ProductStage st;
    st.x = xb;
    st.T = 1;
    st.in = cols;
    for (int i = 0; i < 2; ++i) st.products.push_back(Product{ids[size_t(i)], rows, Buf{}, be.alloc(rows), {}});
    Plan plan;
    plan.steps.push_back(st);
    auto compiled = be.compile(plan);
    const uint64_t d0 = s.dispatches();
    be.run(*compiled, 0);
    const uint64_t n = s.dispatches() - d0;
    for (int i = 0; i < 2; ++i) s.expect_close(s.get(st.products[size_t(i)].out, size_t(rows)), want[size_t(i)], 1e-4f, what);
    return n;
  };
  std::vector<WeightId> ids = {be.upload(m[0]), be.upload(m[1])};
  s.expect(run(ids, "uploaded one by one") == 2, "uploaded one by one: 2 buffers, 2 dispatches (the case's premise)");
  for (WeightId id : ids) be.release(id);
  ids = be.upload_group(m);
  s.expect(ids.size() == 2 && run(ids, "uploaded as a group") == 1, "uploaded as a group: one buffer, 1 dispatch");
  for (WeightId id : ids) be.release(id);
  be.release(filler);
  c.add(s);
}

}  // namespace hearth::parity
