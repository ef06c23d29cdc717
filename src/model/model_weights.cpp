// Model::frozen_weights(): the loaded weights as backend handles, indexed by projection, for
// training on a frozen base.
#include "model/model.h"

namespace hearth {

Model::FrozenWeights Model::frozen_weights() const {
  FrozenWeights w;
  w.embed = embed_;
  w.lm_head = lm_head_;
  w.final_norm = final_norm_;
  for (const Layer& L : layers_) {
    FrozenLayer f;
    f.attn_norm = L.ln1;
    f.mlp_norm = L.ln2;
    f.q_norm = L.q_norm;
    f.k_norm = L.k_norm;
    const WeightId ws[kNumProj] = {L.q, L.k, L.v, L.o, L.gate, L.up, L.down};
    const Buf bs[kNumProj] = {L.bq, L.bk, L.bv, L.bo, L.bgate, L.bup, L.bdown};
    for (int p = 0; p < kNumProj; ++p) {
      f.weight[p] = ws[p];
      f.bias[p] = bs[p];
    }
    w.layers.push_back(f);
  }
  return w;
}

}  // namespace hearth
