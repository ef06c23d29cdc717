// Shared by sample.wgsl and sample_topk.wgsl: a logit as the sampler sees it, and its order key.

// The sampler's parameters (SampleParams in kernel_params.h), for sample.wgsl and sample_topk.wgsl:
// x_off, n: the logits (or CAND: the candidates); out_off: the pick, as a float (sample_topk:
// where its candidates go); u_off: the uniform in [0, 1); pen_off (PEN): [n_full] prompt flags
// then [n_full] generated counts (the sampler adds the pick); greedy; inv_temp = 1 / T; top_k
// (0 = off); top_p; min_p; rep / presence / frequency: the penalties; cand_ids_off (CAND): the
// candidates' ids, as floats; n_full: the vocabulary size.
struct Params {
  x_off: u32,
  n: u32,
  out_off: u32,
  u_off: u32,
  pen_off: u32,
  greedy: u32,
  inv_temp: f32,
  top_k: u32,
  top_p: f32,
  min_p: f32,
  rep: f32,
  presence: f32,
  frequency: f32,
  cand_ids_off: u32,
  n_full: u32,
}

const NEG_INF_BITS: u32 = 0xff800000u;
// -inf (a constant expression that evaluates to it does not compile, so it is built at run time).
fn neg_inf() -> f32 { return bitcast<f32>(NEG_INF_BITS | (P.n & 0u)); }

// Element i of x with NaN read as -inf and, with PEN (unless x is already a candidate list,
// CAND), the penalties applied.
fn logit(i: u32) -> f32 {
  var l = buf_x[P.x_off + i];
  if (l != l) { l = neg_inf(); }
  if (PEN && !CAND) {
    let seen = buf_pen[P.pen_off + i];
    let c = buf_pen[P.pen_off + P.n + i];
    if (seen > 0.0 || c > 0.0) {
      let rep = P.rep;
      if (rep != 1.0) { l = select(l * rep, l / rep, l > 0.0); }
      if (c > 0.0) { l = l - (P.presence + P.frequency * c); }
    }
  }
  return l;
}

// Larger logit -> larger key.
fn key_of(l: f32) -> u32 {
  let b = bitcast<u32>(l);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

