// WebGPU fused matrix-vector products against the scalar CPU references: matmul_add in its
// fusions, and the LoRA B products folded into the base products' stores. Part of the
// hearth_webgpu_ops_test module (group "fusion"; see webgpu_ops_test.cpp).
#include <string>
#include <vector>

#include "ops/cpu/ref_ops.h"
#include "ops/webgpu/webgpu_backend.h"
#include "random_data.h"
#include "webgpu_ops_ctx.h"

namespace hearth {

using test::randn;

// matmul_add (out += the product) alone, in a q/k/v group next to plain products, with the
// swiglu of a gate/up pair, with the residual add folded in, and for prefill-sized T.
void test_matmul_add(Ctx& c) {
  for (auto f : kFormats) {
    for (int64_t T : {1, 3, 9}) {
      const int64_t cols = 136, nq = 40, nk = 24, I = 36;
      const std::string what = std::string(weight_format_name(f)) + " T=" + std::to_string(T);
      auto x = randn(size_t(T * cols), 31);
      QMatrix Wq = quantize_matrix(randn(size_t(nq * cols), 32), nq, cols, f, nullptr);
      QMatrix Wk = quantize_matrix(randn(size_t(nk * cols), 33), nk, cols, f, nullptr);
      QMatrix Wv = quantize_matrix(randn(size_t(nk * cols), 34), nk, cols, f, nullptr);
      QMatrix Wg = quantize_matrix(randn(size_t(I * cols), 35), I, cols, f, nullptr);
      QMatrix Wu = quantize_matrix(randn(size_t(I * cols), 36), I, cols, f, nullptr);
      QMatrix Wo = quantize_matrix(randn(size_t(cols * I), 37), cols, I, f, nullptr);
      auto bq = randn(size_t(nq), 38);
      auto q0 = randn(size_t(T * nq), 39), v0 = randn(size_t(T * nk), 40), g0 = randn(size_t(T * I), 41),
           u0 = randn(size_t(T * I), 42), h0 = randn(size_t(T * cols), 43), r0 = randn(size_t(T * cols), 44);
      // Reference: the product, rounded, then added to what the output held.
      auto want_add = [&](const QMatrix& W, const float* xx, const float* b, std::vector<float> base) {
        std::vector<float> y(base.size());
        ref::matmul(xx, W, b, y.data(), T);
        for (size_t i = 0; i < y.size(); ++i) base[i] = base[i] + y[i];
        return base;
      };
      const auto qw = want_add(Wq, x.data(), bq.data(), q0), vw = want_add(Wv, x.data(), nullptr, v0);
      std::vector<float> kw(size_t(T * nk));
      ref::matmul(x.data(), Wk, nullptr, kw.data(), T);
      const auto gw = want_add(Wg, x.data(), nullptr, g0), uw = want_add(Wu, x.data(), nullptr, u0);
      std::vector<float> sw(gw.size());
      ref::swiglu(gw.data(), uw.data(), sw.data(), T * I);
      const auto hw = want_add(Wo, sw.data(), nullptr, h0);
      std::vector<float> rw = r0;
      ref::add(rw.data(), hw.data(), T * cols);
      WeightId q = c.be->upload(Wq), k = c.be->upload(Wk), v = c.be->upload(Wv), g = c.be->upload(Wg),
               u = c.be->upload(Wu), o = c.be->upload(Wo);
      Buf xb = c.put(x), bqb = c.put(bq), qo = c.put(q0), ko = c.be->alloc(T * nk), vo = c.put(v0), go = c.put(g0),
          uo = c.put(u0), ho = c.put(h0), res = c.put(r0), sb = c.be->alloc(T * I);
      c.be->matmul_add(xb, q, &bqb, qo, T);
      c.be->matmul(xb, k, nullptr, ko, T);
      c.be->matmul_add(xb, v, nullptr, vo, T);
      c.be->matmul_add(xb, g, nullptr, go, T);
      c.be->matmul_add(xb, u, nullptr, uo, T);
      c.be->swiglu(go, uo, sb, T * I);
      c.be->matmul_add(sb, o, nullptr, ho, T);
      c.be->add(res, ho, T * cols);
      const float tol = f == WeightFormat::F32 ? 2e-5f : 1e-4f;
      c.expect_close(c.get(qo, qw.size()), qw, tol, "matmul_add q (bias) " + what);
      c.expect_close(c.get(ko, kw.size()), kw, tol, "plain k beside matmul_add " + what);
      c.expect_close(c.get(vo, vw.size()), vw, tol, "matmul_add v " + what);
      c.expect_close(c.get(go, gw.size()), gw, tol, "matmul_add gate " + what);
      c.expect_close(c.get(uo, uw.size()), uw, tol, "matmul_add up " + what);
      c.expect_close(c.get(sb, sw.size()), sw, tol, "matmul_add gate/up + swiglu " + what);
      c.expect_close(c.get(ho, hw.size()), hw, 4e-4f, "matmul_add o " + what);
      c.expect_close(c.get(res, rw.size()), rw, 4e-4f, "matmul_add o + residual " + what);
      for (WeightId id : {q, k, v, g, u, o}) c.be->release(id);

      // Products of different x (the LoRA B products of one stage: rank-r x each), the first
      // accumulating: one dispatch for decode sizes.
      const int64_t r = 12;
      auto xa = randn(size_t(T * r), 45), xb2 = randn(size_t(T * r), 46), xc = randn(size_t(T * r), 47);
      QMatrix Ba = quantize_matrix(randn(size_t(nq * r), 48), nq, r, f, nullptr);
      QMatrix Bb = quantize_matrix(randn(size_t(nk * r), 49), nk, r, f, nullptr);
      QMatrix Bc = quantize_matrix(randn(size_t(nk * r), 50), nk, r, f, nullptr);
      const auto aw = want_add(Ba, xa.data(), nullptr, q0);
      std::vector<float> bw(size_t(T * nk)), cw(size_t(T * nk));
      ref::matmul(xb2.data(), Bb, nullptr, bw.data(), T);
      ref::matmul(xc.data(), Bc, nullptr, cw.data(), T);
      WeightId ba = c.be->upload(Ba), bb = c.be->upload(Bb), bc = c.be->upload(Bc);
      // x at offsets that are not multiples of 4, in buffers of their own.
      std::vector<float> pad(1, 0.0f);
      auto padded = [&](const std::vector<float>& v) {
        std::vector<float> p2 = pad;
        p2.insert(p2.end(), v.begin(), v.end());
        return c.put(p2).at(1);
      };
      Buf xab = padded(xa), xbb = padded(xb2), xcb = padded(xc), ao = c.put(q0), bo = c.be->alloc(T * nk),
          co = c.be->alloc(T * nk);
      const uint64_t d0 = c.be->recorder().dispatches();
      c.be->matmul_add(xab, ba, nullptr, ao, T);
      c.be->matmul(xbb, bb, nullptr, bo, T);
      c.be->matmul(xcb, bc, nullptr, co, T);
      const auto av = c.get(ao, aw.size()), bv = c.get(bo, bw.size()), cv = c.get(co, cw.size());
      if (T <= 4) c.expect(c.be->recorder().dispatches() - d0 == 1, "products of 3 x in 1 dispatch " + what);
      c.expect_close(av, aw, tol, "matmul_add of its own x " + what);
      c.expect_close(bv, bw, tol, "product of a second x " + what);
      c.expect_close(cv, cw, tol, "product of a third x " + what);
      for (WeightId id : {ba, bb, bc}) c.be->release(id);
    }
  }
}

// A LoRA stage as Model::lora_delta issues it: the B products (rank r, each reading its slice of
// one buffer) write the outputs, then the base products add W x (q with a bias), and gate/up
// theirs before the swiglu. For decode sizes each stage is one dispatch, the B products folded
// into the base products' stores; a B product that no base product adds to goes alone, first;
// chunked base weights (b2) take the B products in a dispatch of their own. And the A products
// before them: one x, outputs in slices of one buffer, one dispatch.
void test_lora_fold(Ctx& c, WebGpuBackend& b2) {
  for (WebGpuBackend* be : {c.be, &b2}) {
    Ctx cc{be};
    for (auto f : kFormats) {
      const WeightFormat bf = f == WeightFormat::F32 ? WeightFormat::F32 : WeightFormat::F16;
      for (int64_t T : {1, 3}) {
        const int64_t cols = 136, nq = 40, nk = 24, I = 36, r = 12;
        const std::string what = std::string(weight_format_name(f)) + " T=" + std::to_string(T) + (be == c.be ? "" : " chunked");
        auto x = randn(size_t(T * cols), 61), bias = randn(size_t(nq), 62);
        std::vector<std::vector<float>> t = {randn(size_t(T * r), 63), randn(size_t(T * r), 64), randn(size_t(T * r), 65)};
        const int64_t rows[] = {nq, nk, nk, I, I};
        std::vector<QMatrix> W, B;
        std::vector<WeightId> wid, bid;
        for (int i = 0; i < 5; ++i) {
          W.push_back(quantize_matrix(randn(size_t(rows[i] * cols), 66 + i), rows[i], cols, f, nullptr));
          B.push_back(quantize_matrix(randn(size_t(rows[i] * r), 71 + i), rows[i], r, bf, nullptr));
          wid.push_back(be->upload(W.back()));
          bid.push_back(be->upload(B.back()));
        }
        // Reference: B t, then W x (+ bias) added to it. Products 3 and 4 (gate, up) read t0, t1.
        std::vector<std::vector<float>> want;
        for (int i = 0; i < 5; ++i) {
          std::vector<float> y(size_t(T * rows[i])), z(y.size());
          ref::matmul(t[size_t(i % 3)].data(), B[size_t(i)], nullptr, y.data(), T);
          ref::matmul(x.data(), W[size_t(i)], i == 0 ? bias.data() : nullptr, z.data(), T);
          for (size_t j = 0; j < y.size(); ++j) y[j] = y[j] + z[j];
          want.push_back(y);
        }
        std::vector<float> sw(size_t(T * I)), tall(1, 0.0f);
        ref::swiglu(want[3].data(), want[4].data(), sw.data(), T * I);
        for (const auto& v : t) tall.insert(tall.end(), v.begin(), v.end());
        const Buf tb = cc.put(tall), xb = cc.put(x), bb = cc.put(bias), so = be->alloc(T * I), lone = be->alloc(T * nq),
                  k2 = be->alloc(T * nk);
        std::vector<Buf> out;
        for (int i = 0; i < 5; ++i) out.push_back(be->alloc(T * rows[i]));
        const auto ts = [&](int i) { return tb.at(1 + (i % 3) * T * r); };
        // The A products of a stage: one x, outputs in slices of one buffer; one dispatch.
        std::vector<QMatrix> A;
        std::vector<WeightId> aid;
        std::vector<float> aw(size_t(3 * T * r));
        const Buf ta = be->alloc(1 + 3 * T * r);
        for (int i = 0; i < 3; ++i) {
          A.push_back(quantize_matrix(randn(size_t(r * cols), 76 + i), r, cols, bf, nullptr));
          aid.push_back(be->upload(A.back()));
          ref::matmul(x.data(), A.back(), nullptr, aw.data() + i * T * r, T);
        }
        const uint64_t da = be->recorder().dispatches();
        for (int i = 0; i < 3; ++i) be->matmul(xb, aid[size_t(i)], nullptr, ta.at(1 + i * T * r), T);
        const auto ga = cc.get(ta.at(1), aw.size());
        if (be == c.be) cc.expect(be->recorder().dispatches() - da == 1, "A products into one buffer: 1 dispatch " + what);
        cc.expect_close(ga, aw, f == WeightFormat::F32 ? 2e-5f : 1e-4f, "A products into one buffer " + what);
        for (WeightId id : aid) be->release(id);
        const uint64_t d0 = be->recorder().dispatches();
        for (int i = 0; i < 3; ++i) be->matmul(ts(i), bid[size_t(i)], nullptr, out[size_t(i)], T);
        for (int i = 0; i < 3; ++i) be->matmul_add(xb, wid[size_t(i)], i == 0 ? &bb : nullptr, out[size_t(i)], T);
        for (int i = 3; i < 5; ++i) be->matmul(ts(i), bid[size_t(i)], nullptr, out[size_t(i)], T);
        for (int i = 3; i < 5; ++i) be->matmul_add(xb, wid[size_t(i)], nullptr, out[size_t(i)], T);
        be->swiglu(out[3], out[4], so, T * I);
        be->matmul(ts(0), bid[0], nullptr, lone, T);  // no base product adds to this one
        be->matmul(ts(1), bid[1], nullptr, k2, T);
        be->matmul_add(xb, wid[1], nullptr, k2, T);
        std::vector<std::vector<float>> got;
        for (int i = 0; i < 5; ++i) got.push_back(cc.get(out[size_t(i)], want[size_t(i)].size()));
        const auto gs = cc.get(so, sw.size()), gl = cc.get(lone, size_t(T * nq)), gk = cc.get(k2, want[1].size());
        if (be == c.be && be->device_info().max_storage_buffers >= 10) {
          cc.expect(be->recorder().dispatches() - d0 == 4, "LoRA stages: 1 dispatch each, a lone B product 2 " + what);
        }
        const float tol = f == WeightFormat::F32 ? 2e-5f : 1e-4f;
        const char* names[] = {"q (bias)", "k", "v", "gate", "up"};
        for (int i = 0; i < 5; ++i) cc.expect_close(got[size_t(i)], want[size_t(i)], tol, std::string("B t + W x, ") + names[i] + " " + what);
        cc.expect_close(gs, sw, tol, "B t + W x, gate/up + swiglu " + what);
        std::vector<float> lw(size_t(T * nq));
        ref::matmul(t[0].data(), B[0], nullptr, lw.data(), T);
        cc.expect_close(gl, lw, tol, "a lone B product " + what);
        cc.expect_close(gk, want[1], tol, "B t + W x after a lone B product " + what);
        for (int i = 0; i < 5; ++i) {
          be->release(wid[size_t(i)]);
          be->release(bid[size_t(i)]);
        }
      }
    }
    c.checks += cc.checks;
    c.failures += cc.failures;
  }
}

// A LoRA stage's A products issued right before its B and base products (decode sizes), as
// Model::lora_delta does. By default the A products (with the norm that produced x folded in)
// are one dispatch and the base products, the B products in their stores, another. With
// lora_in_dispatch (`in`) the A rows are computed by the first workgroups of the base
// products' dispatch, so each stage is one dispatch. Against the references: rmsnorm, then A, B
// and W products. A backend whose readers never wait (`own`: lora_in_dispatch, lora_wait 0,
// every reader computes t itself) gives `in`'s bits.
void test_lora_a_in_dispatch(Ctx& c, WebGpuBackend& in, WebGpuBackend& own) {
  for (auto f : kFormats) {
    const WeightFormat lf = f == WeightFormat::F32 ? WeightFormat::F32 : WeightFormat::F16;
    for (int64_t T : {1, 3}) {
      const int64_t cols = 136, nq = 40, nk = 24, r = 12;
      const float eps = 1e-6f;
      const std::string what = std::string(weight_format_name(f)) + " T=" + std::to_string(T);
      const auto x0 = randn(size_t(T * cols), 91), nw = randn(size_t(cols), 92), bias = randn(size_t(nq), 93);
      const int64_t rows[] = {nq, nk, nk};
      std::vector<QMatrix> W, A, B;
      for (int i = 0; i < 3; ++i) {
        W.push_back(quantize_matrix(randn(size_t(rows[i] * cols), 94 + i), rows[i], cols, f, nullptr));
        A.push_back(quantize_matrix(randn(size_t(r * cols), 97 + i), r, cols, lf, nullptr));
        B.push_back(quantize_matrix(randn(size_t(rows[i] * r), 100 + i), rows[i], r, lf, nullptr));
      }
      // Reference: h = rmsnorm(x0) nw; out_i = W_i h (+ bias) + B_i (A_i h).
      std::vector<float> h(x0.size());
      ref::rmsnorm(x0.data(), nw.data(), h.data(), T, cols, eps);
      std::vector<std::vector<float>> want;
      for (int i = 0; i < 3; ++i) {
        std::vector<float> t(size_t(T * r)), y(size_t(T * rows[i])), z(y.size());
        ref::matmul(h.data(), A[size_t(i)], nullptr, t.data(), T);
        ref::matmul(t.data(), B[size_t(i)], nullptr, y.data(), T);
        ref::matmul(h.data(), W[size_t(i)], i == 0 ? bias.data() : nullptr, z.data(), T);
        for (size_t j = 0; j < y.size(); ++j) y[j] += z[j];
        want.push_back(y);
      }
      std::vector<std::vector<float>> first;
      for (WebGpuBackend* be : {c.be, &in, &own}) {
        Ctx cc{be};
        const std::vector<WeightId> wid = be->upload_group(W), aid = be->upload_group(A), bid = be->upload_group(B);
        const Buf xb = cc.put(x0), nb = cc.put(nw), bb = cc.put(bias), hb = be->alloc(T * cols), ta = be->alloc(3 * T * r);
        std::vector<Buf> out;
        for (int i = 0; i < 3; ++i) out.push_back(be->alloc(T * rows[i]));
        be->flush();
        const uint64_t d0 = be->recorder().dispatches();
        be->rmsnorm(xb, nb, hb, T, cols, eps);
        for (int i = 0; i < 3; ++i) be->matmul(hb, aid[size_t(i)], nullptr, ta.at(i * T * r), T);
        for (int i = 0; i < 3; ++i) be->matmul(ta.at(i * T * r), bid[size_t(i)], nullptr, out[size_t(i)], T);
        for (int i = 0; i < 3; ++i) be->matmul_add(hb, wid[size_t(i)], i == 0 ? &bb : nullptr, out[size_t(i)], T);
        std::vector<std::vector<float>> got;
        for (int i = 0; i < 3; ++i) got.push_back(cc.get(out[size_t(i)], want[size_t(i)].size()));
        const uint64_t n = be->recorder().dispatches() - d0;
        const std::string who = what + (be == c.be ? " (A dispatch)" : be == &in ? " (A in dispatch)" : " (readers compute t)");
        if (be->device_info().max_storage_buffers >= 11) {
          // By default two dispatches; with the A products in the base products' dispatch one,
          // and one more where the t ring was armed first.
          const bool ok = be == c.be ? n == 2 : n == 1 || n == 2;
          cc.expect(ok, "A, B and base products of a stage: " + std::to_string(n) + " dispatches " + who);
        }
        const float tol = f == WeightFormat::F32 ? 2e-5f : 1e-4f;
        for (int i = 0; i < 3; ++i) {
          cc.expect_close(got[size_t(i)], want[size_t(i)], tol, "W h + B A h, product " + std::to_string(i) + " " + who);
        }
        if (be == &in) {
          first = got;
        } else if (be == &own) {
          cc.expect(got == first, "readers computing t themselves give the same bits " + what);
        }
        for (const auto& ids : {wid, aid, bid}) {
          for (WeightId id : ids) be->release(id);
        }
        c.checks += cc.checks;
        c.failures += cc.failures;
      }
    }
  }
}

// Matrices uploaded as a group share a buffer even where one-by-one placement splits them (a
// hole left in an arena fits the first but not the second): the products of one x over them are
// one dispatch, with the reference's results. `fresh`: a backend with 4096-byte arenas and
// nothing uploaded yet.
void test_upload_group(Ctx& c, WebGpuBackend& fresh) {
  Ctx cc{&fresh};
  const int64_t cols = 136, rows = 2, T = 1;
  const auto x = randn(size_t(T * cols), 81);
  const Buf xb = cc.put(x), out = fresh.alloc(2 * T * rows);
  // 12 rows of 272 bytes fill 3328 of the first arena's 4096 bytes: a 768-byte hole.
  const WeightId filler = fresh.upload(quantize_matrix(randn(size_t(12 * cols), 82), 12, cols, WeightFormat::F16, nullptr));
  std::vector<QMatrix> m;
  std::vector<float> want(size_t(2 * T * rows));
  for (int i = 0; i < 2; ++i) {
    m.push_back(quantize_matrix(randn(size_t(rows * cols), 83 + i), rows, cols, WeightFormat::F16, nullptr));
    ref::matmul(x.data(), m.back(), nullptr, want.data() + i * T * rows, T);
  }
  const auto run = [&](const std::vector<WeightId>& ids, const std::string& what) {
    const uint64_t d0 = fresh.recorder().dispatches();
    for (int i = 0; i < 2; ++i) fresh.matmul(xb, ids[size_t(i)], nullptr, out.at(i * T * rows), T);
    cc.expect_close(cc.get(out, want.size()), want, 1e-4f, what);
    return fresh.recorder().dispatches() - d0;
  };
  // One by one: the first goes into the hole, the second into a new arena.
  std::vector<WeightId> ids = {fresh.upload(m[0]), fresh.upload(m[1])};
  cc.expect(run(ids, "uploaded one by one") == 2, "uploaded one by one: 2 buffers, 2 dispatches (the test's premise)");
  for (WeightId id : ids) fresh.release(id);
  ids = fresh.upload_group(m);
  cc.expect(ids.size() == 2 && run(ids, "uploaded as a group") == 1, "uploaded as a group: one buffer, 1 dispatch");
  for (WeightId id : ids) fresh.release(id);
  fresh.release(filler);
  c.checks += cc.checks;
  c.failures += cc.failures;
}

}  // namespace hearth
