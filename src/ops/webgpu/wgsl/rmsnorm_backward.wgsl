// The backward of rmsnorm (ref::rmsnorm_backward): for each row, with inv = 1 / sqrt(mean(x^2) +
// eps), xh = x inv and g = dy w:
//   dx (+)= inv (g - xh mean(g xh))
// and inv goes to inv[r] for the weight's gradient (colsum.wgsl: dw += sum_r dy xh). One
// workgroup per row. x, dy, dx: [rows, d]; w: [d].

struct Params {
  x_off: u32,
  w_off: u32,
  dy_off: u32,
  dx_off: u32,
  inv_off: u32,
  rows: u32,
  d: u32,
  eps: f32,
  accumulate: u32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let r = wg_linear(wid, nwg);
  if (r >= P.rows) { return; }
  let d = P.d;
  let xo = P.x_off + r * d;
  let go = P.dy_off + r * d;
  var ss = 0.0;
  var gx = 0.0;  // sum g x
  for (var i = ln.lid; i < d; i += WG) {
    let x = buf_x[xo + i];
    ss += x * x;
    gx += buf_dy[go + i] * buf_w[P.w_off + i] * x;
  }
  let tot = wg_sum4(vec4<f32>(ss, gx, 0.0, 0.0), ln);
  let inv = 1.0 / sqrt(tot.x / f32(d) + P.eps);
  let mean = tot.y * inv / f32(d);
  for (var i = ln.lid; i < d; i += WG) {
    let xh = buf_x[xo + i] * inv;
    let v = inv * (buf_dy[go + i] * buf_w[P.w_off + i] - xh * mean);
    let o = P.dx_off + r * d + i;
    if (P.accumulate != 0u) { buf_dx[o] = buf_dx[o] + v; } else { buf_dx[o] = v; }
  }
  if (ln.lid == 0u && INV) { buf_inv[P.inv_off + r] = inv; }
}
