// TrainStep's backward pass (see step.h): from the gradient of the final norm's output (left in
// grads_.dh by the loss), layer by layer down to the embedding. grads_.dx carries the gradient
// of the residual stream; each block's input gradient is added to it.
#include <cmath>

#include "train/step.h"

namespace hearth::train {

void TrainStep::project_backward(size_t layer, Proj p, Buf x, Buf dy, Buf dx, int64_t rows, bool accumulate,
                                 bool need_dx) {
  const LayerRefs& L = net_.layers[layer];
  const TensorRef& w = L.weight[int(p)];
  const TensorRef& b = L.bias[int(p)];
  const int64_t in = proj_in(cfg_, p), n_out = proj_out(cfg_, p);
  if (w.trained()) be_.linear_dw(dy, x, w.grad, rows, in, n_out, 1.0f);
  if (b.trained()) be_.bias_grad(dy, b.grad, rows, n_out);
  if (need_dx) {
    if (w.frozen.id) {
      be_.matmul_dx(dy, w.frozen, dx, rows, accumulate);
    } else {
      be_.linear_dx(dy, w.value, dx, rows, in, n_out, 1.0f, accumulate);
    }
  }
  if (const auto& lora = L.lora[int(p)]) {
    // out += s B t with t = A x: dB += s dy^T t; dt = s dy B; dA += dt^T x; dx += dt A.
    const Buf t = acts_[layer].lora_t[int(p)], dt = grads_.lora_dt;
    be_.linear_dw(dy, t, lora->dB, rows, lora->rank, n_out, lora->scale);
    be_.linear_dx(dy, lora->B, dt, rows, lora->rank, n_out, lora->scale, false);
    be_.linear_dw(dt, x, lora->dA, rows, in, lora->rank, 1.0f);
    if (need_dx) be_.linear_dx(dt, lora->A, dx, rows, in, lora->rank, 1.0f, true);
  }
}

void TrainStep::backward(std::span<const int32_t> inputs, int64_t n_seq) {
  const ModelConfig& c = cfg_;
  const int64_t R = n_seq * seq_, d = c.hidden_size, I = c.intermediate_size;
  const float eps = float(c.rms_norm_eps);
  const Grads& g = grads_;
  const bool embed_trained = net_.embed.trained();
  be_.rmsnorm_backward(final_x_, net_.final_norm.value, g.dh, g.dx, net_.final_norm.grad, R, d, eps, false);
  for (size_t l = acts_.size(); l-- > 0;) {
    const LayerRefs& L = net_.layers[l];
    LayerActs& a = acts_[l];
    // Its activations again (they share buffers with the other layers'); writes the same output.
    if (recompute_) forward_layer(l, n_seq);
    // The gradient of the layer's input is needed unless nothing below it is trained.
    const bool need_dx = l > 0 || embed_trained;
    // MLP: x_out = x_mid + down(silu(gate(h2)) * up(h2)), h2 = norm2(x_mid).
    project_backward(l, Proj::Down, a.act, g.dx, g.d_act, R, false, true);
    be_.swiglu_backward(a.gate, a.up, g.d_act, a.gate, a.up, R * I);  // gate, up now hold their gradients
    project_backward(l, Proj::Gate, a.h2, a.gate, g.dh, R, false, true);
    project_backward(l, Proj::Up, a.h2, a.up, g.dh, R, true, true);
    be_.rmsnorm_backward(a.x_mid, L.mlp_norm.value, g.dh, g.dx, L.mlp_norm.grad, R, d, eps, true);
    // Attention: x_mid = x_in + o(attn(rope(norm_q(q(h1))), rope(norm_k(k(h1))), v(h1))), h1 = norm1(x_in).
    project_backward(l, Proj::O, a.attn, g.dx, g.d_attn, R, false, true);
    const AttentionShape s{c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window[l], 1.0f / std::sqrt(float(c.head_dim))};
    be_.attention_backward(a.q, a.k, a.v, a.attn, a.lse, g.d_attn, g.dq, g.dk, g.dv, n_seq, seq_, s);
    be_.rope_seqs(g.dq, n_seq, seq_, c.n_heads, c.head_dim, rope_, true);
    be_.rope_seqs(g.dk, n_seq, seq_, c.n_kv_heads, c.head_dim, rope_, true);
    Buf dq = g.dq, dk = g.dk;
    if (c.qk_norm) {
      be_.rmsnorm_backward(a.q_lin, L.q_norm.value, g.dq, g.d_attn, L.q_norm.grad, R * c.n_heads, c.head_dim, eps, false);
      be_.rmsnorm_backward(a.k_lin, L.k_norm.value, g.dk, g.dk_lin, L.k_norm.grad, R * c.n_kv_heads, c.head_dim, eps, false);
      dq = g.d_attn;
      dk = g.dk_lin;
    }
    // h1's gradient: for the layer's input, or for a trained norm weight only (then what is
    // added to dx is not used).
    const bool need_dh1 = need_dx || L.attn_norm.trained();
    project_backward(l, Proj::Q, a.h1, dq, g.dh, R, false, need_dh1);
    project_backward(l, Proj::K, a.h1, dk, g.dh, R, true, need_dh1);
    project_backward(l, Proj::V, a.h1, g.dv, g.dh, R, true, need_dh1);
    if (need_dh1) be_.rmsnorm_backward(a.x_in, L.attn_norm.value, g.dh, g.dx, L.attn_norm.grad, R, d, eps, true);
  }
  if (embed_trained) be_.embed_backward(inputs, g.dx, net_.embed.grad, d);
}

}  // namespace hearth::train
