// RMSNorm over rows: out[r, :] = w * (x[r, :] * (1 / sqrt(mean(x[r, :]^2) + eps))); one
// workgroup per row. Also q/k norm (rows of head_dim, in place: x and out may share a buffer,
// each invocation writes only the elements it read).

struct Params {
  x_off: u32,
  w_off: u32,
  out_off: u32,
  rows: u32,
  d: u32,
  eps: f32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let r = wg_linear(wid, nwg);
  if (r >= P.rows) { return; }
  let d = P.d;
  let xo = P.x_off + r * d;
  let oo = P.out_off + r * d;
  var ss = 0.0;
  for (var i = ln.lid; i < d; i += WG) {
    let v = buf_x[xo + i];
    ss += v * v;
  }
  let tot = wg_sum(ss, ln);
  let inv = 1.0 / sqrt(tot / f32(d) + P.eps);
  for (var i = ln.lid; i < d; i += WG) {
    buf_out[oo + i] = buf_w[P.w_off + i] * (buf_x[xo + i] * inv);
  }
}
