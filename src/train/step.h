// One forward and backward pass of a Llama-family decoder over a micro-batch of sequences, as
// Backend ops: the forward keeps what the backward needs (per layer: the residual stream, the
// normed inputs of the projections, q/k/v, the attention output and its log-sum-exp, the MLP's
// gate/up/act, the LoRA A products), the loss and the head's backward run in chunks of rows so
// no [rows, vocab] matrix is kept, and the backward adds every trained tensor's gradient into
// its grad Buf (so micro-batches accumulate). Nothing here depends on the backend's kind.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "core/error.h"
#include "formats/config.h"
#include "ops/backend.h"
#include "train/network.h"

namespace hearth::train {

class TrainStep {
 public:
  // Buffers for micro-batches of up to max_seqs sequences of seq tokens. recompute: keep only
  // each layer's input and recompute the layer's forward before its backward (one more forward
  // pass per step; activation memory of one layer instead of all).
  // dry_run: count the buffers, allocate none (activation_bytes_for).
  TrainStep(Backend& be, const ModelConfig& cfg, NetworkRefs net, int64_t max_seqs, int64_t seq, bool recompute = false,
            bool dry_run = false);

  // tokens: [n_seq, seq + 1] (inputs row[:-1], targets row[1:]; a negative target is ignored).
  // Adds the gradients of grad_scale * (sum of the cross-entropies) to the trained tensors, and
  // the cross-entropies to a running sum kept on the backend (no read-back).
  Status accumulate(std::span<const int32_t> tokens, int64_t n_seq, float grad_scale);
  // The running sum of cross-entropies since the last call (one read-back), in f64; resets it.
  // Checks the backend's status.
  Result<double> take_loss_sum();
  // accumulate() then take_loss_sum().
  Result<double> forward_backward(std::span<const int32_t> tokens, int64_t n_seq, float grad_scale);
  // The sum of cross-entropies without the backward (gradients and the running sum untouched).
  Result<double> loss(std::span<const int32_t> tokens, int64_t n_seq);
  // Logits of every position of one sequence of at most seq tokens: [ids.size(), vocab].
  Status logits(std::span<const int32_t> ids, std::vector<float>* out);

  // Bytes this step keeps on the backend for activations and activation gradients.
  int64_t activation_bytes() const { return act_floats_ * 4; }
  // What a step of these shapes would keep, without allocating anything on `be` (to refuse a
  // batch that cannot fit before trying).
  static int64_t activation_bytes_for(Backend& be, const ModelConfig& cfg, const NetworkRefs& net, int64_t max_seqs,
                                      int64_t seq, bool recompute);
  const NetworkRefs& network() const { return net_; }
  int64_t seq() const { return seq_; }
  int64_t max_seqs() const { return max_seqs_; }

 private:
  struct LayerActs {
    Buf x_in, h1, q_lin, k_lin, q, k, v, attn, lse, x_mid, h2, gate, up, act;
    std::array<Buf, kNumProj> lora_t;  // [rows, rank]: A x
  };
  Buf alloc(int64_t n);
  // A layer's activation buffers (all but x_in) for max_seqs * seq rows.
  LayerActs alloc_layer(size_t layer);
  // The forward pass over rows = n_seq * seq tokens; fills acts_ and final_x_ / final_h_.
  void forward(std::span<const int32_t> inputs, int64_t n_seq);
  // Layer l from acts_[l].x_in: its activations, and its output into the next layer's x_in (or
  // final_x_).
  void forward_layer(size_t l, int64_t n_seq);
  // The loss of every row (loss_) and the gradient of the final norm's output (grads_.dh),
  // chunk by chunk through the head.
  void loss_and_head_backward(std::span<const int32_t> targets, int64_t rows, float grad_scale, bool backward);
  // Splits [n_seq, seq + 1] tokens into inputs and targets, checking the ids.
  Status split(std::span<const int32_t> tokens, int64_t n_seq, std::vector<int32_t>* inputs,
               std::vector<int32_t>* targets) const;
  void backward(std::span<const int32_t> inputs, int64_t n_seq);
  // One projection: out = W x (+ b) (+ s B (A x)); x: [rows, in], out: [rows, out].
  void project(size_t layer, Proj p, Buf x, Buf out, int64_t rows);
  // Its backward: gradients of W, b, A, B as trained; dx (+)= dy W (+ s (dy B) A) when need_dx.
  void project_backward(size_t layer, Proj p, Buf x, Buf dy, Buf dx, int64_t rows, bool accumulate, bool need_dx);
  void head_logits(Buf h, Buf logits, int64_t rows);

  Backend& be_;
  ModelConfig cfg_;
  NetworkRefs net_;
  RopeTable rope_;
  int64_t max_seqs_, seq_, head_chunk_;
  bool recompute_;
  std::vector<LayerActs> acts_;
  Buf final_x_, final_h_, loss_, loss_sum_, logits_;  // loss_, loss_sum_: [rows] per-row cross-entropies
  struct Grads {
    Buf dx, dh, d_act, d_attn, dq, dk, dv, dk_lin, lora_dt;
  } grads_;
  int64_t act_floats_ = 0;
  bool dry_run_ = false;  // alloc() only counts
};

}  // namespace hearth::train
