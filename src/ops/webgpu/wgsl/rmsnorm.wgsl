// RMSNorm over rows: out[r, :] = w * (x[r, :] * (1 / sqrt(mean(x[r, :]^2) + eps))); one
// workgroup per row. Also q/k norm (rows of head_dim). With ADD, the residual add before it is
// fused in: x[r, :] += y[r, :] first (x is written back). x, y and out may share a buffer: each
// invocation writes only the elements it read.
// P: 0 x_off, 1 w_off, 2 out_off, 3 rows, 4 d, 5 eps (f32), 6 y_off

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let r = wg_linear(wid, nwg);
  if (r >= pu(3)) { return; }
  let d = pu(4);
  let xo = pu(0) + r * d;
  let oo = pu(2) + r * d;
  var ss = 0.0;
  for (var i = ln.lid; i < d; i += WG) {
    var v = buf_x[xo + i];
    if (ADD) {
      v += buf_y[pu(6) + r * d + i];
      buf_x[xo + i] = v;
    }
    ss += v * v;
  }
  let tot = wg_sum(ss, ln);
  let inv = 1.0 / sqrt(tot / f32(d) + pf(5));
  for (var i = ln.lid; i < d; i += WG) {
    buf_out[oo + i] = buf_w[pu(1) + i] * (buf_x[xo + i] * inv);
  }
}
