// Attention backward, the keys' and values' gradients (flash-style, as attention_backward_dq.wgsl
// but walking queries): one workgroup per (tile of BK keys, KV head, sequence) keeps k and v
// of its keys in workgroup memory and, for every head that shares the KV head and every tile
// of BQ queries that sees its keys, stages q and dout and recomputes
//   p = exp(scale q.k - lse), ds = p (dout.v - delta); dv += p dout, dk += ds q
// dk = scale * its sum. Each element is summed over heads, then queries, in increasing order
// by one invocation: no atomics. Workgroup memory: (2 BK + 2 BQ) (D + 1) + 2 BQ BK + 2 BQ floats.
// q, dout: [n_seq T, H, D]; k, v, dk, dv: [n_seq T, KV, D]; aux as in the dq pass.
// Grid: (ceil(T / BK), KV, n_seq).

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

const DP: u32 = D + 1u;
const NA: u32 = (BK * D + WG - 1u) / WG;  // dk (and dv) elements per invocation

var<workgroup> qt: array<f32, BQ * DP>;
var<workgroup> gt: array<f32, BQ * DP>;  // dout
var<workgroup> kt: array<f32, BK * DP>;
var<workgroup> vt: array<f32, BK * DP>;
var<workgroup> pt: array<f32, BQ * BK>;
var<workgroup> st: array<f32, BQ * BK>;  // ds
var<workgroup> rl: array<f32, BQ>;
var<workgroup> rd: array<f32, BQ>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = P.T;
  let H = P.H;
  let KV = P.KV;
  let G = H / KV;
  let kvh = wid.y;
  let seq = wid.z;
  let j0 = wid.x * BK;
  let j1 = min(j0 + BK, T) - 1u;  // the tile's last key
  for (var idx = lid; idx < BK * D; idx += WG) {
    let jj = idx / D;
    let d = idx % D;
    let e = ((seq * T + min(j0 + jj, T - 1u)) * KV + kvh) * D + d;
    kt[jj * DP + d] = buf_k[P.k_off + e];
    vt[jj * DP + d] = buf_v[P.v_off + e];
  }
  var ak: array<f32, NA>;
  var av: array<f32, NA>;
  for (var a = 0u; a < NA; a++) {
    ak[a] = 0.0;
    av[a] = 0.0;
  }
  // The last query that sees one of the tile's keys.
  var t_end = T - 1u;
  if (P.window > 0u) { t_end = min(T - 1u, j1 + P.window - 1u); }
  for (var h = kvh * G; h < kvh * G + G; h++) {
    for (var tb = j0; tb <= t_end; tb += BQ) {
      workgroupBarrier();  // the last tile is no longer read
      for (var idx = lid; idx < BQ * D; idx += WG) {
        let i = idx / D;
        let d = idx % D;
        let e = ((seq * T + min(tb + i, T - 1u)) * H + h) * D + d;
        qt[i * DP + d] = buf_q[P.q_off + e];
        gt[i * DP + d] = buf_dout[P.do_off + e];
      }
      for (var i = lid; i < BQ; i += WG) {
        let r = (seq * T + min(tb + i, T - 1u)) * H + h;
        rl[i] = buf_aux[P.aux_off + r];
        rd[i] = buf_aux[P.delta_off + r];
      }
      workgroupBarrier();
      for (var idx = lid; idx < BQ * BK; idx += WG) {
        let i = idx / BK;
        let jj = idx % BK;
        let t = tb + i;
        let j = j0 + jj;
        var p = 0.0;
        var g = 0.0;
        if (t < T && j <= t && j >= first_key(t, P.window)) {
          var s = 0.0;
          var dp = 0.0;
          for (var d = 0u; d < D; d++) {
            s += qt[i * DP + d] * kt[jj * DP + d];
            dp += gt[i * DP + d] * vt[jj * DP + d];
          }
          p = exp(s * P.scale - rl[i]);
          g = p * (dp - rd[i]);
        }
        pt[idx] = p;
        st[idx] = g;
      }
      workgroupBarrier();
      for (var a = 0u; a < NA; a++) {
        let idx = lid + a * WG;
        if (idx < BK * D) {
          let jj = idx / D;
          let d = idx % D;
          var vk = ak[a];
          var vv = av[a];
          for (var i = 0u; i < BQ; i++) {
            vk += st[i * BK + jj] * qt[i * DP + d];
            vv += pt[i * BK + jj] * gt[i * DP + d];
          }
          ak[a] = vk;
          av[a] = vv;
        }
      }
    }
  }
  for (var a = 0u; a < NA; a++) {
    let idx = lid + a * WG;
    let j = j0 + idx / D;
    if (idx < BK * D && j < T) {
      let e = ((seq * T + j) * KV + kvh) * D + idx % D;
      buf_dk[P.dk_off + e] = P.scale * ak[a];
      buf_dv[P.dv_off + e] = av[a];
    }
  }
}
