// Prefill attention with an online softmax over key tiles (flash attention). One workgroup per
// (tile of BQ queries, head): key tiles of BK keys are staged in workgroup memory (K, then V
// in the same space), scores go to sc, and the running max / sum / output of each query row
// are rescaled tile by tile. Workgroup memory: (BK + BQ) * DMAX + BQ * (BK + 3) floats,
// independent of the context length. Causal, windowed when window > 0 (as the decode kernel).
// q, out: [T, H, D]; k, v: [ctx, KV, D]. Grid: (ceil(T / BQ), H).

struct Params {
  q_off: u32,
  k_off: u32,
  v_off: u32,
  out_off: u32,
  T: u32,
  pos0: u32,
  H: u32,
  KV: u32,
  D: u32,
  window: u32,
  scale: f32,
  n_hb: u32,  // attention_prefill_sg.wgsl's head blocks per KV head
}

const MASKED: f32 = -3.0e38;

var<workgroup> kv: array<f32, BK * DMAX>;
var<workgroup> sc: array<f32, BQ * BK>;
var<workgroup> o: array<f32, BQ * DMAX>;
var<workgroup> mrow: array<f32, BQ>;
var<workgroup> lrow: array<f32, BQ>;
var<workgroup> arow: array<f32, BQ>;

// Stages rows kb .. kb + BK - 1 (clamped to hi, zero past it) of k (src = 0) or v (src = 1).
fn stage(src: u32, kb: u32, hi: u32, kvh: u32, lid: u32) {
  let D = P.D;
  let KV = P.KV;
  for (var idx = lid; idx < BK * D; idx += WG) {
    let jj = idx / D;
    let d = idx % D;
    let j = min(kb + jj, hi);
    var v = 0.0;
    if (src == 0u) { v = buf_k[P.k_off + (j * KV + kvh) * D + d]; } else { v = buf_v[P.v_off + (j * KV + kvh) * D + d]; }
    kv[jj * DMAX + d] = select(0.0, v, kb + jj <= hi);
  }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = P.T;
  let pos0 = P.pos0;
  let H = P.H;
  let D = P.D;
  let win = P.window;
  let h = wid.y;
  let kvh = h / (H / P.KV);
  let t0 = wid.x * BQ;
  let lo = first_key(pos0 + t0, win);
  let hi = pos0 + min(t0 + BQ, T) - 1u;
  for (var idx = lid; idx < BQ * DMAX; idx += WG) { o[idx] = 0.0; }
  for (var i = lid; i < BQ; i += WG) {
    mrow[i] = MASKED;
    lrow[i] = 0.0;
  }
  for (var kb = lo; kb <= hi; kb += BK) {
    stage(0u, kb, hi, kvh, lid);
    workgroupBarrier();
    for (var idx = lid; idx < BQ * BK; idx += WG) {
      let i = idx / BK;
      let jj = idx % BK;
      let t = t0 + i;
      let j = kb + jj;
      var s = MASKED;
      if (t < T && j <= pos0 + t && j >= first_key(pos0 + t, win)) {
        let qb = P.q_off + (t * H + h) * D;
        var acc = 0.0;
        for (var d = 0u; d < D; d++) { acc += buf_q[qb + d] * kv[jj * DMAX + d]; }
        s = acc * P.scale;
      }
      sc[idx] = s;
    }
    workgroupBarrier();
    for (var i = lid; i < BQ; i += WG) {
      var mx = mrow[i];
      for (var jj = 0u; jj < BK; jj++) { mx = max(mx, sc[i * BK + jj]); }
      let a = exp(mrow[i] - mx);
      var sum = 0.0;
      for (var jj = 0u; jj < BK; jj++) {
        let s = sc[i * BK + jj];
        var p = 0.0;
        if (s > MASKED) { p = exp(s - mx); }
        sc[i * BK + jj] = p;
        sum += p;
      }
      lrow[i] = lrow[i] * a + sum;
      mrow[i] = mx;
      arow[i] = a;
    }
    workgroupBarrier();
    stage(1u, kb, hi, kvh, lid);
    workgroupBarrier();
    for (var idx = lid; idx < BQ * D; idx += WG) {
      let i = idx / D;
      let d = idx % D;
      var acc = o[i * DMAX + d] * arow[i];
      for (var jj = 0u; jj < BK; jj++) { acc += sc[i * BK + jj] * kv[jj * DMAX + d]; }
      o[i * DMAX + d] = acc;
    }
    workgroupBarrier();
  }
  for (var idx = lid; idx < BQ * D; idx += WG) {
    let i = idx / D;
    let t = t0 + i;
    if (t < T) { buf_out[P.out_off + (t * H + h) * D + idx % D] = o[i * DMAX + idx % D] / lrow[i]; }
  }
}
