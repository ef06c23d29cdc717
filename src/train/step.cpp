// TrainStep: buffers, the forward pass with saved activations, and the loss through the head
// (see step.h; the backward pass is in step_backward.cpp).
#include "train/step.h"

#include <algorithm>
#include <cmath>

#include "model/rope.h"

namespace hearth::train {

namespace {
// Rows of logits computed at a time: at most this many floats of [rows, vocab].
constexpr int64_t kLogitFloats = int64_t(1) << 24;
}  // namespace

TrainStep::TrainStep(Backend& be, const ModelConfig& cfg, NetworkRefs net, int64_t max_seqs, int64_t seq, bool recompute,
                     bool dry_run)
    : be_(be), cfg_(cfg), net_(std::move(net)), rope_(make_rope_table(cfg)), max_seqs_(max_seqs), seq_(seq),
      recompute_(recompute), dry_run_(dry_run) {
  const int64_t R = max_seqs * seq, d = cfg.hidden_size, qd = cfg.q_dim(), kvd = cfg.kv_dim();
  const int64_t I = cfg.intermediate_size;
  acts_.resize(net_.layers.size());
  // With recompute, every layer's activations share one set of buffers (sized for the largest
  // LoRA ranks); only the layer inputs are kept apart.
  LayerActs shared;
  if (recompute) shared = alloc_layer(acts_.size());
  for (size_t l = 0; l < acts_.size(); ++l) {
    acts_[l] = recompute ? shared : alloc_layer(l);
    acts_[l].x_in = alloc(R * d);
  }
  final_x_ = alloc(R * d);
  final_h_ = alloc(R * d);
  loss_ = alloc(R);
  loss_sum_ = alloc(R);
  head_chunk_ = std::clamp<int64_t>(kLogitFloats / cfg.vocab_size, 1, R);
  logits_ = alloc(head_chunk_ * cfg.vocab_size);
  grads_.dx = alloc(R * d);
  grads_.dh = alloc(R * d);
  grads_.d_act = alloc(R * I);
  grads_.d_attn = alloc(R * qd);
  grads_.dq = alloc(R * qd);
  grads_.dk = alloc(R * kvd);
  grads_.dv = alloc(R * kvd);
  if (cfg.qk_norm) grads_.dk_lin = alloc(R * kvd);
  int64_t max_rank = 0;
  for (const LayerRefs& L : net_.layers)
    for (const auto& lora : L.lora)
      if (lora) max_rank = std::max(max_rank, lora->rank);
  if (max_rank > 0) grads_.lora_dt = alloc(R * max_rank);
}

TrainStep::LayerActs TrainStep::alloc_layer(size_t layer) {
  const ModelConfig& c = cfg_;
  const int64_t R = max_seqs_ * seq_, d = c.hidden_size, qd = c.q_dim(), kvd = c.kv_dim(), I = c.intermediate_size;
  LayerActs a;
  a.h1 = alloc(R * d);
  if (c.qk_norm) {
    a.q_lin = alloc(R * qd);
    a.k_lin = alloc(R * kvd);
  }
  a.q = alloc(R * qd);
  a.k = alloc(R * kvd);
  a.v = alloc(R * kvd);
  a.attn = alloc(R * qd);
  a.lse = alloc(R * c.n_heads);
  a.x_mid = alloc(R * d);
  a.h2 = alloc(R * d);
  a.gate = alloc(R * I);
  a.up = alloc(R * I);
  a.act = alloc(R * I);
  for (int p = 0; p < kNumProj; ++p) {
    int64_t rank = 0;  // this layer's, or with layer == n_layers the largest of any layer
    for (size_t l = 0; l < net_.layers.size(); ++l) {
      const auto& lora = net_.layers[l].lora[p];
      if (lora && (l == layer || layer == net_.layers.size())) rank = std::max(rank, lora->rank);
    }
    if (rank > 0) a.lora_t[p] = alloc(R * rank);
  }
  return a;
}

Buf TrainStep::alloc(int64_t n) {
  act_floats_ += n;
  return dry_run_ ? Buf{} : be_.alloc(n);
}

int64_t TrainStep::activation_bytes_for(Backend& be, const ModelConfig& cfg, const NetworkRefs& net, int64_t max_seqs,
                                        int64_t seq, bool recompute) {
  return TrainStep(be, cfg, net, max_seqs, seq, recompute, true).activation_bytes();
}

void TrainStep::project(size_t layer, Proj p, Buf x, Buf out, int64_t rows) {
  const LayerRefs& L = net_.layers[layer];
  const TensorRef& w = L.weight[int(p)];
  const TensorRef& b = L.bias[int(p)];
  const Buf* bias = b.present() ? &b.value : nullptr;
  const int64_t in = proj_in(cfg_, p), n_out = proj_out(cfg_, p);
  if (w.frozen.id) {
    be_.matmul(x, w.frozen, bias, out, rows);
  } else {
    be_.linear(x, w.value, bias, out, rows, in, n_out, 1.0f, false);
  }
  if (const auto& lora = L.lora[int(p)]) {
    const Buf t = acts_[layer].lora_t[int(p)];
    be_.linear(x, lora->A, nullptr, t, rows, in, lora->rank, 1.0f, false);
    be_.linear(t, lora->B, nullptr, out, rows, lora->rank, n_out, lora->scale, true);
  }
}

void TrainStep::forward(std::span<const int32_t> inputs, int64_t n_seq) {
  const int64_t R = n_seq * seq_, d = cfg_.hidden_size;
  const float eps = float(cfg_.rms_norm_eps);
  if (net_.embed.frozen.id) {
    be_.embed(net_.embed.frozen, inputs, acts_.empty() ? final_x_ : acts_[0].x_in);
  } else {
    be_.embed_rows(net_.embed.value, inputs, acts_.empty() ? final_x_ : acts_[0].x_in, d);
  }
  for (size_t l = 0; l < acts_.size(); ++l) forward_layer(l, n_seq);
  be_.rmsnorm(final_x_, net_.final_norm.value, final_h_, R, d, eps);
}

void TrainStep::forward_layer(size_t l, int64_t n_seq) {
  const ModelConfig& c = cfg_;
  const int64_t R = n_seq * seq_, d = c.hidden_size, I = c.intermediate_size;
  const float eps = float(c.rms_norm_eps);
  const Buf scratch = grads_.dh;  // a projection's output before it joins the residual stream
  const LayerRefs& L = net_.layers[l];
  LayerActs& a = acts_[l];
  const Buf x_out = l + 1 < acts_.size() ? acts_[l + 1].x_in : final_x_;
  be_.rmsnorm(a.x_in, L.attn_norm.value, a.h1, R, d, eps);
  project(l, Proj::Q, a.h1, c.qk_norm ? a.q_lin : a.q, R);
  project(l, Proj::K, a.h1, c.qk_norm ? a.k_lin : a.k, R);
  project(l, Proj::V, a.h1, a.v, R);
  if (c.qk_norm) {
    be_.rmsnorm(a.q_lin, L.q_norm.value, a.q, R * c.n_heads, c.head_dim, eps);
    be_.rmsnorm(a.k_lin, L.k_norm.value, a.k, R * c.n_kv_heads, c.head_dim, eps);
  }
  be_.rope_seqs(a.q, n_seq, seq_, c.n_heads, c.head_dim, rope_, false);
  be_.rope_seqs(a.k, n_seq, seq_, c.n_kv_heads, c.head_dim, rope_, false);
  const AttentionShape s{c.n_heads, c.n_kv_heads, c.head_dim, c.sliding_window[l], 1.0f / std::sqrt(float(c.head_dim))};
  be_.attention_train(a.q, a.k, a.v, a.attn, a.lse, n_seq, seq_, s);
  project(l, Proj::O, a.attn, scratch, R);
  be_.copy(a.x_in, a.x_mid, R * d);
  be_.add(a.x_mid, scratch, R * d);
  be_.rmsnorm(a.x_mid, L.mlp_norm.value, a.h2, R, d, eps);
  project(l, Proj::Gate, a.h2, a.gate, R);
  project(l, Proj::Up, a.h2, a.up, R);
  be_.swiglu(a.gate, a.up, a.act, R * I);
  project(l, Proj::Down, a.act, scratch, R);
  be_.copy(a.x_mid, x_out, R * d);
  be_.add(x_out, scratch, R * d);
}

void TrainStep::head_logits(Buf h, Buf logits, int64_t rows) {
  if (net_.head.frozen.id) {
    be_.matmul(h, net_.head.frozen, nullptr, logits, rows);
  } else {
    be_.linear(h, net_.head.value, nullptr, logits, rows, cfg_.hidden_size, cfg_.vocab_size, 1.0f, false);
  }
}

void TrainStep::loss_and_head_backward(std::span<const int32_t> targets, int64_t rows, float grad_scale, bool backward) {
  const int64_t d = cfg_.hidden_size, V = cfg_.vocab_size;
  for (int64_t r0 = 0; r0 < rows; r0 += head_chunk_) {
    const int64_t n = std::min(head_chunk_, rows - r0);
    const Buf h = final_h_.at(r0 * d), dh = grads_.dh.at(r0 * d);
    head_logits(h, logits_, n);
    be_.cross_entropy(logits_, targets.subspan(size_t(r0), size_t(n)), loss_.at(r0), logits_, n, V, grad_scale);
    if (!backward) continue;
    if (net_.head.frozen.id) {
      be_.matmul_dx(logits_, net_.head.frozen, dh, n, false);
    } else {
      be_.linear_dx(logits_, net_.head.value, dh, n, d, V, 1.0f, false);
      if (net_.head.trained()) be_.linear_dw(logits_, h, net_.head.grad, n, d, V, 1.0f);
    }
  }
}

Status TrainStep::split(std::span<const int32_t> tokens, int64_t n_seq, std::vector<int32_t>* inputs,
                        std::vector<int32_t>* targets) const {
  if (n_seq <= 0 || n_seq > max_seqs_) return err("a micro-batch of ", n_seq, " sequences: expected 1 to ", max_seqs_);
  if (int64_t(tokens.size()) != n_seq * (seq_ + 1)) {
    return err("a micro-batch of ", n_seq, " sequences needs ", n_seq * (seq_ + 1), " tokens, got ", tokens.size());
  }
  const int64_t V = cfg_.vocab_size;
  for (int64_t s = 0; s < n_seq; ++s) {
    const int32_t* row = tokens.data() + s * (seq_ + 1);
    for (int64_t t = 0; t <= seq_; ++t) {
      if (row[t] >= V || (t < seq_ && row[t] < 0)) {
        return err("token id ", row[t], " (sequence ", s, ", position ", t, ") is outside the vocabulary [0, ", V, ")");
      }
    }
    inputs->insert(inputs->end(), row, row + seq_);
    targets->insert(targets->end(), row + 1, row + seq_ + 1);
  }
  return {};
}

Status TrainStep::accumulate(std::span<const int32_t> tokens, int64_t n_seq, float grad_scale) {
  std::vector<int32_t> inputs, targets;
  HEARTH_CHECK(split(tokens, n_seq, &inputs, &targets));
  const int64_t R = n_seq * seq_;
  forward(inputs, n_seq);
  loss_and_head_backward(targets, R, grad_scale, true);
  be_.add(loss_sum_, loss_, R);
  backward(inputs, n_seq);
  return {};
}

Result<double> TrainStep::take_loss_sum() {
  std::vector<float> losses(static_cast<size_t>(max_seqs_ * seq_));
  be_.read(loss_sum_, losses);
  be_.fill(loss_sum_, max_seqs_ * seq_, 0.0f);
  HEARTH_CHECK(be_.status());
  double sum = 0;
  for (float l : losses) sum += double(l);
  return sum;
}

Result<double> TrainStep::forward_backward(std::span<const int32_t> tokens, int64_t n_seq, float grad_scale) {
  HEARTH_CHECK(accumulate(tokens, n_seq, grad_scale));
  return take_loss_sum();
}

Result<double> TrainStep::loss(std::span<const int32_t> tokens, int64_t n_seq) {
  std::vector<int32_t> inputs, targets;
  HEARTH_CHECK(split(tokens, n_seq, &inputs, &targets));
  const int64_t R = n_seq * seq_;
  forward(inputs, n_seq);
  loss_and_head_backward(targets, R, 0.0f, false);
  std::vector<float> losses(static_cast<size_t>(R));
  be_.read(loss_, losses);
  HEARTH_CHECK(be_.status());
  double sum = 0;
  for (float l : losses) sum += double(l);
  return sum;
}

Status TrainStep::logits(std::span<const int32_t> ids, std::vector<float>* out) {
  const int64_t T = int64_t(ids.size()), V = cfg_.vocab_size, d = cfg_.hidden_size;
  if (T == 0 || T > seq_) return err("logits: 1 to ", seq_, " tokens, got ", T);
  for (int32_t id : ids)
    if (id < 0 || id >= V) return err("token id ", id, " is outside the vocabulary [0, ", V, ")");
  // One sequence of seq_ positions, the tail padded with token 0 (causal: it changes nothing before it).
  std::vector<int32_t> padded(ids.begin(), ids.end());
  padded.resize(size_t(seq_), 0);
  forward(padded, 1);
  out->assign(size_t(T * V), 0.0f);
  for (int64_t r0 = 0; r0 < T; r0 += head_chunk_) {
    const int64_t n = std::min(head_chunk_, T - r0);
    head_logits(final_h_.at(r0 * d), logits_, n);
    be_.read(logits_.at(0), std::span<float>(out->data() + r0 * V, size_t(n * V)));
  }
  return be_.status();
}

}  // namespace hearth::train
