// Shared by sample.wgsl and sample_topk.wgsl: a logit as the sampler sees it, and its order key.

const NEG_INF_BITS: u32 = 0xff800000u;
// -inf (a constant expression that evaluates to it does not compile, so it is built at run time).
fn neg_inf() -> f32 { return bitcast<f32>(NEG_INF_BITS | (pu(1) & 0u)); }

// Element i of x with NaN read as -inf and, with PEN (unless x is already a candidate list,
// CAND), the penalties applied. P: 0 x_off, 1 n, 4 pen_off, 10 repetition, 11 presence,
// 12 frequency (f32s), as sample.wgsl.
fn logit(i: u32) -> f32 {
  var l = buf_x[pu(0) + i];
  if (l != l) { l = neg_inf(); }
  if (PEN && !CAND) {
    let seen = buf_pen[pu(4) + i];
    let c = buf_pen[pu(4) + pu(1) + i];
    if (seen > 0.0 || c > 0.0) {
      let rep = pf(10);
      if (rep != 1.0) { l = select(l * rep, l / rep, l > 0.0); }
      if (c > 0.0) { l = l - (pf(11) + pf(12) * c); }
    }
  }
  return l;
}

// Larger logit -> larger key.
fn key_of(l: f32) -> u32 {
  let b = bitcast<u32>(l);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

