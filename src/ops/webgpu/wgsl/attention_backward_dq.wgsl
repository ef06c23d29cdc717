// Attention backward, the queries' gradient (flash-style: the probabilities recomputed from q, k
// and the saved log-sum-exp, tile by tile; no [T, T] matrix). One workgroup per (tile of BQ
// query rows, head, sequence): q and dout of its rows stay in workgroup memory; for each tile
// of BK keys they see (causal, windowed when window > 0), k and v are staged and
//   p = exp(scale q.k - lse), ds = p (dout.v - delta), dq += ds k
// dq = scale * the sum, each element summed over keys in increasing order by one invocation.
// Workgroup memory: (2 BK + 2 BQ) (D + 1) + BQ BK + 2 BQ floats, whatever T is.
// q, dq, dout: [n_seq T, H, D]; k, v: [n_seq T, KV, D]; aux: lse and delta, [n_seq T, H]
// each (attention_backward_delta.wgsl). Grid: (ceil(T / BQ), H, n_seq).

struct Params {
  q_off: u32,
  k_off: u32,
  v_off: u32,
  o_off: u32,
  do_off: u32,
  lse_off: u32,
  dq_off: u32,
  dk_off: u32,
  dv_off: u32,
  aux_off: u32,
  delta_off: u32,
  rows: u32,
  T: u32,
  H: u32,
  KV: u32,
  window: u32,
  scale: f32,
}

const DP: u32 = D + 1u;  // row stride in workgroup memory (rows start in different banks)
const NA: u32 = (BQ * D + WG - 1u) / WG;  // dq elements per invocation

var<workgroup> qt: array<f32, BQ * DP>;
var<workgroup> gt: array<f32, BQ * DP>;  // dout
var<workgroup> kt: array<f32, BK * DP>;
var<workgroup> vt: array<f32, BK * DP>;
var<workgroup> ds: array<f32, BQ * BK>;
var<workgroup> rl: array<f32, BQ>;  // lse
var<workgroup> rd: array<f32, BQ>;  // delta

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = P.T;
  let H = P.H;
  let KV = P.KV;
  let h = wid.y;
  let seq = wid.z;
  let kvh = h / (H / KV);
  let t0 = wid.x * BQ;
  for (var idx = lid; idx < BQ * D; idx += WG) {
    let i = idx / D;
    let d = idx % D;
    let t = min(t0 + i, T - 1u);
    let e = ((seq * T + t) * H + h) * D + d;
    qt[i * DP + d] = buf_q[P.q_off + e];
    gt[i * DP + d] = buf_dout[P.do_off + e];
  }
  for (var i = lid; i < BQ; i += WG) {
    let r = (seq * T + min(t0 + i, T - 1u)) * H + h;
    rl[i] = buf_aux[P.aux_off + r];
    rd[i] = buf_aux[P.delta_off + r];
  }
  var acc: array<f32, NA>;
  for (var a = 0u; a < NA; a++) { acc[a] = 0.0; }
  let lo = first_key(t0, P.window);
  let hi = min(t0 + BQ, T) - 1u;
  for (var kb = lo; kb <= hi; kb += BK) {
    workgroupBarrier();  // the last tile is no longer read
    for (var idx = lid; idx < BK * D; idx += WG) {
      let jj = idx / D;
      let d = idx % D;
      let e = ((seq * T + min(kb + jj, hi)) * KV + kvh) * D + d;
      kt[jj * DP + d] = buf_k[P.k_off + e];
      vt[jj * DP + d] = buf_v[P.v_off + e];
    }
    workgroupBarrier();
    for (var idx = lid; idx < BQ * BK; idx += WG) {
      let i = idx / BK;
      let jj = idx % BK;
      let t = t0 + i;
      let j = kb + jj;
      var g = 0.0;
      if (t < T && j <= t && j >= first_key(t, P.window)) {
        var s = 0.0;
        var dp = 0.0;
        for (var d = 0u; d < D; d++) {
          s += qt[i * DP + d] * kt[jj * DP + d];
          dp += gt[i * DP + d] * vt[jj * DP + d];
        }
        let p = exp(s * P.scale - rl[i]);
        g = p * (dp - rd[i]);
      }
      ds[idx] = g;
    }
    workgroupBarrier();
    for (var a = 0u; a < NA; a++) {
      let idx = lid + a * WG;
      if (idx < BQ * D) {
        let i = idx / D;
        let d = idx % D;
        var v = acc[a];
        for (var jj = 0u; jj < BK; jj++) { v += ds[i * BK + jj] * kt[jj * DP + d]; }
        acc[a] = v;
      }
    }
  }
  for (var a = 0u; a < NA; a++) {
    let idx = lid + a * WG;
    let t = t0 + idx / D;
    if (idx < BQ * D && t < T) { buf_dq[P.dq_off + ((seq * T + t) * H + h) * D + idx % D] = P.scale * acc[a]; }
  }
}
