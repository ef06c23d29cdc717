// Matrix-matrix product for prefill: out[t, row0 + r] = sum_i x[t, i] W[r, i] (+ bias). One
// workgroup of 256 invocations computes a 64 (tokens) x 64 (rows) tile, 4 x 4 outputs each;
// x and the dequantized W are staged in workgroup memory TK = 16 columns at a time (8 KiB).
// x: [T, cols], out: [T, out_stride]; rows row0.. of out.
// P: 0 x_off, 1 out_off, 2 bias_off, 3 has_bias, 4 T, 5 cols, 6 out_stride, 7 row0, 8 nrows,
//    9 w_stride (units per row), 10 scale_off, 11 min_off (u32 words), 12 w_base (units),
//    13 accumulate (1: out = out + the product, matmul_add)
// Grid: x = row tiles, y = token tiles.

const TM: u32 = 64u;
const TN: u32 = 64u;
const TK: u32 = 16u;

var<workgroup> xs: array<f32, TM * TK>;  // [token][k]
var<workgroup> ws: array<f32, TK * TN>;  // [k][row]

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let T = pu(4);
  let cols = pu(5);
  let nrows = pu(8);
  let wi = WInfo(pu(9), pu(10), pu(11), cols, pu(12));
  let n0 = wid.x * TN;
  let m0 = wid.y * TM;
  let tx = lid % 16u;
  let ty = lid / 16u;
  var acc: array<vec4<f32>, 4>;  // acc[i][j]: token m0 + 4 ty + i, row n0 + 4 tx + j
  for (var k0 = 0u; k0 < cols; k0 += TK) {
    for (var i = 0u; i < 4u; i++) {
      let idx = lid * 4u + i;
      let t = m0 + idx / TK;
      let c = k0 + idx % TK;
      xs[idx] = select(0.0, buf_x[pu(0) + min(t, T - 1u) * cols + min(c, cols - 1u)], t < T && c < cols);
    }
    let n = lid / 4u;
    let kk = (lid % 4u) * 4u;
    var w = vec4<f32>(0.0);
    if (k0 + kk < cols) { w = w_vec4(wi, min(n0 + n, nrows - 1u), k0 + kk); }
    ws[(kk + 0u) * TN + n] = w.x;
    ws[(kk + 1u) * TN + n] = w.y;
    ws[(kk + 2u) * TN + n] = w.z;
    ws[(kk + 3u) * TN + n] = w.w;
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let xv = vec4<f32>(xs[(ty * 4u) * TK + k], xs[(ty * 4u + 1u) * TK + k], xs[(ty * 4u + 2u) * TK + k],
                         xs[(ty * 4u + 3u) * TK + k]);
      let wv = vec4<f32>(ws[k * TN + tx * 4u], ws[k * TN + tx * 4u + 1u], ws[k * TN + tx * 4u + 2u],
                         ws[k * TN + tx * 4u + 3u]);
      acc[0] += xv.x * wv;
      acc[1] += xv.y * wv;
      acc[2] += xv.z * wv;
      acc[3] += xv.w * wv;
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let t = m0 + ty * 4u + i;
    if (t >= T) { break; }
    for (var j = 0u; j < 4u; j++) {
      let r = n0 + tx * 4u + j;
      if (r >= nrows) { break; }
      var v = acc[i][j];
      if (pu(3) != 0u) { v += buf_bias[pu(2) + pu(7) + r]; }
      let o = pu(1) + t * pu(6) + pu(7) + r;
      if (pu(13) != 0u) { v = buf_out[o] + v; }
      buf_out[o] = v;
    }
  }
}
