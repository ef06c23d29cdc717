// Decode attention, pass 2 of 2: merges the per-chunk (m, l, acc) of
// attention_decode_splitk.wgsl: out[t, h, :] = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M),
// M = max_s m_s over chunks that saw a key. One workgroup per (head, slice of DS of the dims,
// query): the chunks' weights e^(m_s - M) go to workgroup memory (the first SMAX), then
// (4 dims, group of chunks) pairs sum the accumulators of the slice. The max and the sum over
// chunks use the workgroup reductions (subgroup operations on that tier). Grid: (H * DS, T).
// Consts: WG (a power of two, at least D / 4), SMAX, DS (dividing ceil(D / 4))

struct Params {
  part_off: u32,
  out_off: u32,
  T: u32,
  H: u32,
  D: u32,
  n_split: u32,
}

const MASKED: f32 = -3.0e38;

var<workgroup> ws: array<f32, SMAX>;
var<workgroup> red4: array<vec4<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, ln: Lane) {
  let lid = ln.lid;
  let h = wid.x / DS;
  let slice = wid.x % DS;
  let t = wid.y;
  let H = P.H;
  let D = P.D;
  let ns = P.n_split;
  let pb = P.part_off + (t * H + h) * ns * (D + 2u);
  var m = MASKED;
  for (var s = lid; s < ns; s += WG) {
    let b = pb + s * (D + 2u);
    m = max(m, select(MASKED, buf_part[b], buf_part[b + 1u] > 0.0));
  }
  let M = wg_max(m, ln);
  var l = 0.0;
  for (var s = lid; s < ns; s += WG) {
    let b = pb + s * (D + 2u);
    let ls = buf_part[b + 1u];
    let e = select(0.0, exp(buf_part[b] - M), ls > 0.0);
    if (s < SMAX) { ws[s] = e; }
    l += ls * e;
  }
  let L = wg_sum(l, ln);

  let D4 = (D + 3u) / 4u;
  let n4 = D4 / DS;  // 4-dim chunks in this slice
  let groups = WG / n4;
  let c = slice * n4 + lid % n4;
  let g = lid / n4;
  var acc = vec4<f32>(0.0);
  if (g < groups) {
    for (var s = g; s < ns; s += groups) {
      let b = pb + s * (D + 2u);
      var e: f32;
      if (s < SMAX) {
        e = ws[s];
      } else {
        e = select(0.0, exp(buf_part[b] - M), buf_part[b + 1u] > 0.0);
      }
      let a = b + 2u + 4u * c;  // dims past D read the next chunk's words, never stored
      acc += e * vec4<f32>(buf_part[a], buf_part[a + 1u], buf_part[a + 2u], buf_part[a + 3u]);
    }
  }
  red4[lid] = acc;
  workgroupBarrier();
  if (lid < n4) {
    var sum = vec4<f32>(0.0);
    for (var k = 0u; k < groups; k++) { sum += red4[k * n4 + lid]; }
    let o = P.out_off + (t * H + h) * D + 4u * c;
    for (var e = 0u; e < 4u; e++) {
      if (4u * c + e < D) { buf_out[o + e] = sum[e] / L; }
    }
  }
}
