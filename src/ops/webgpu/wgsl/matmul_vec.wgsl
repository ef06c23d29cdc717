// Matrix-vector products for decode (a few tokens): out[t, row0 + r] = sum_i x[t, i] W[r, i]
// (+ bias[row0 + r]) for the rows r of one weight chunk. One workgroup computes NR = 4
// consecutive rows of one token (z = token); its invocations stride over the rows' units (see
// weights_*.wgsl), reusing each x chunk for the 4 rows, and the partial sums are reduced over
// the workgroup. x: [T, cols], out: [T, out_stride].
// P: 0 x_off, 1 out_off, 2 bias_off, 3 has_bias, 4 T, 5 cols, 6 out_stride, 7 row0, 8 nrows,
//    9 w_stride (units per row), 10 scale_off, 11 min_off (u32 words)

const NR: u32 = 4u;

fn xl(i: u32, xb: u32, cols: u32) -> f32 {
  return select(0.0, buf_x[xb + min(i, cols - 1u)], i < cols);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let r0 = wg_linear(wid, nwg) * NR;
  let nrows = pu(8);
  if (r0 >= nrows) { return; }
  let t = wid.z;
  let cols = pu(5);
  let wi = WInfo(pu(9), pu(10), pu(11), cols);
  let xb = pu(0) + t * cols;
  let units = wi.stride;  // int4: whole groups, even where cols ends inside one
  var acc = vec4<f32>(0.0);
  for (var u = ln.lid; u < units; u += WG) {
    var xv: array<vec4<f32>, XN>;
    for (var j = 0u; j < XN; j++) {
      let e = unit_elem(u, j);
      xv[j] = vec4<f32>(xl(e, xb, cols), xl(e + 1u, xb, cols), xl(e + 2u, xb, cols), xl(e + 3u, xb, cols));
    }
    for (var r = 0u; r < NR; r++) {
      // Rows past the chunk's end repeat its last row; they are never stored.
      acc[r] += w_unit_dot(wi, min(r0 + r, nrows - 1u), u, xv);
    }
  }
  let tot = wg_sum4(acc, ln);
  if (ln.lid < min(NR, nrows - r0)) {
    let o = pu(7) + r0 + ln.lid;
    var v = tot[ln.lid];
    if (pu(3) != 0u) { v += buf_bias[pu(2) + o]; }
    buf_out[pu(1) + t * pu(6) + o] = v;
  }
}
