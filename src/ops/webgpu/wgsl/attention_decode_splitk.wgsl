// Decode attention, pass 1 of 2 (flash-decoding). The keys visible to the queries are split
// into chunks of WG keys; one workgroup per (chunk, head, query) scores its chunk against q
// (causal, and windowed when window > 0: key j is visible to position p when
// p - window < j <= p) and writes the chunk's max m, l = sum exp(s - m) and
// acc[d] = sum exp(s - m) v[j, d] to part; attention_combine.wgsl merges the chunks.
// q: [T, H, D]; k, v: [ctx, KV, D]; part: [T, H, n_split, 2 + D]. Grid: (n_split, H, T).
// P: 0 q_off, 1 k_off, 2 v_off, 3 part_off, 4 T, 5 pos0, 6 H, 7 KV, 8 D, 9 window,
//    10 scale (f32), 11 n_split, 12 key0 (first key of chunk 0)

const MASKED: f32 = -3.0e38;

var<workgroup> qs: array<f32, DMAX>;
var<workgroup> ps: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, ln: Lane) {
  let s = wid.x;
  let h = wid.y;
  let t = wid.z;
  let H = pu(6);
  let KV = pu(7);
  let D = pu(8);
  let kvh = h / (H / KV);
  let pos = pu(5) + t;
  let win = pu(9);
  var first = 0u;
  if (win > 0u && pos + 1u > win) { first = pos + 1u - win; }
  let qb = pu(0) + (t * H + h) * D;
  for (var d = ln.lid; d < D; d += WG) { qs[d] = buf_q[qb + d]; }
  workgroupBarrier();
  let j0 = pu(12) + s * WG;
  let j = j0 + ln.lid;
  let visible = j >= first && j <= pos;
  var score = MASKED;
  if (visible) {
    let kb = pu(1) + (j * KV + kvh) * D;
    var acc = 0.0;
    for (var d = 0u; d < D; d++) { acc += qs[d] * buf_k[kb + d]; }
    score = acc * pf(10);
  }
  let m = wg_max(score, ln);
  var p = 0.0;
  if (visible) { p = exp(score - m); }
  let l = wg_sum(p, ln);
  ps[ln.lid] = p;
  workgroupBarrier();
  let pb = pu(3) + ((t * H + h) * pu(11) + s) * (D + 2u);
  if (ln.lid == 0u) {
    buf_part[pb] = m;
    buf_part[pb + 1u] = l;
  }
  for (var d = ln.lid; d < D; d += WG) {
    var acc = 0.0;
    for (var jj = 0u; jj < WG; jj++) {
      let pj = ps[jj];
      if (pj != 0.0) { acc += pj * buf_v[pu(2) + ((j0 + jj) * KV + kvh) * D + d]; }
    }
    buf_part[pb + 2u + d] = acc;
  }
}
