// Parity cases of the device sampler (Backend::sample) against ref::sample_device (parity.h).
#include <cmath>

#include "ops/cpu/ref_ops.h"
#include "parity/parity.h"
#include "random_data.h"

namespace hearth::parity {

using test::randn;

// The device sampler against ref::sample_device: filters alone and combined, penalties, ties
// (logits rounded to a grid of 0.25, and to whole numbers: top-k candidates then too many for the
// kernel's compact set), top-k above the workgroup size, several uniforms each; the pick is
// counted in pen. n = 30011 with top-k <= 64 takes the top-k pre-selection (sample_topk.wgsl)
// over 30 slices, the last one partial.
void sample_cases(Ctx& c) {
  if (!c.be->supports_device_sampling()) return;  // the CPU samples in engine/sampler
  struct Case {
    const char* what;
    SamplingParams s;
  };
  auto mk = [](float t, int k, float p, float mp, float rep, float pres, float freq) {
    SamplingParams s;
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

}  // namespace hearth::parity
