// RoPE inverse frequencies: default, linear, llama3 (smoothed band interpolation) and yarn
// (ramp between interpolated and extrapolated frequencies, plus an attention factor).
#include "model/rope.h"

#include <algorithm>
#include <cmath>

namespace hearth {

namespace {

double yarn_mscale(double scale, double mscale) {
  if (scale <= 1) return 1.0;
  return 0.1 * mscale * std::log(scale) + 1.0;
}

}  // namespace

RopeTable make_rope_table(const ModelConfig& c) {
  const RopeConfig& r = c.rope;
  RopeTable t;
  t.rot_dim = c.rotary_dim();
  const int64_t dim = t.rot_dim, half = dim / 2;
  const float base = float(r.theta);
  std::vector<float> pos_freq(static_cast<size_t>(half));  // base ** (2i / dim), in f32
  for (int64_t i = 0; i < half; ++i) pos_freq[size_t(i)] = std::pow(base, float(2 * i) / float(dim));
  t.inv_freq.resize(size_t(half));
  for (int64_t i = 0; i < half; ++i) t.inv_freq[size_t(i)] = 1.0f / pos_freq[size_t(i)];

  switch (r.type) {
    case RopeType::Default:
      break;
    case RopeType::Linear:
      for (auto& f : t.inv_freq) f = f / float(r.factor);
      break;
    case RopeType::Llama3: {
      const float factor = float(r.factor), lo = float(r.low_freq_factor), hi = float(r.high_freq_factor);
      const float old_ctx = float(r.original_max_pos);
      const float low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
      for (auto& f : t.inv_freq) {
        const float wavelen = float(2 * M_PI) / f;
        float scaled = wavelen > low_wavelen ? f / factor : f;
        if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
          const float smooth = (old_ctx / wavelen - lo) / (hi - lo);
          scaled = (1 - smooth) * scaled / factor + smooth * scaled;
        }
        f = scaled;
      }
      break;
    }
    case RopeType::Yarn: {
      const double factor = r.factor;
      double attn = 0;
      if (r.attention_factor) {
        attn = *r.attention_factor;
      } else if (r.mscale != 0 && r.mscale_all_dim != 0) {
        attn = yarn_mscale(factor, r.mscale) / yarn_mscale(factor, r.mscale_all_dim);
      } else {
        attn = yarn_mscale(factor, 1.0);
      }
      t.attention_scaling = float(attn);
      auto correction_dim = [&](double rotations) {
        return (double(dim) * std::log(double(r.original_max_pos) / (rotations * 2 * M_PI))) / (2 * std::log(r.theta));
      };
      double low = correction_dim(r.beta_fast), high = correction_dim(r.beta_slow);
      if (r.truncate) {
        low = std::floor(low);
        high = std::ceil(high);
      }
      low = std::max(low, 0.0);
      high = std::min(high, double(dim - 1));
      if (low == high) high += 0.001;
      for (int64_t i = 0; i < half; ++i) {
        float ramp = (float(i) - float(low)) / float(high - low);
        ramp = std::clamp(ramp, 0.0f, 1.0f);
        const float extra_factor = 1.0f - ramp;
        const float extrapolation = 1.0f / pos_freq[size_t(i)];
        const float interpolation = 1.0f / (float(factor) * pos_freq[size_t(i)]);
        t.inv_freq[size_t(i)] = interpolation * (1 - extra_factor) + extrapolation * extra_factor;
      }
      break;
    }
  }
  return t;
}

}  // namespace hearth
