// The backward of rmsnorm (ref::rmsnorm_backward): for each row, with inv = 1 / sqrt(mean(x^2) +
// eps), xh = x inv and g = dy w:
//   dx (+)= inv (g - xh mean(g xh))
// and inv goes to inv[r] for the weight's gradient (colsum.wgsl: dw += sum_r dy xh). One
// workgroup per row, or with ROW_THREAD (short rows) one invocation per row (no barriers).
// x, dy, dx: [rows, d]; w: [d].

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
  write_inv: u32,
}

// dx of row r from its sums of x^2 and of g x.
fn store_row(r: u32, ss: f32, gx: f32, first: u32, step: u32) {
  let d = P.d;
  let inv = 1.0 / sqrt(ss / f32(d) + P.eps);
  let mean = gx * inv / f32(d);
  let xo = P.x_off + r * d;
  let go = P.dy_off + r * d;
  for (var i = first; i < d; i += step) {
    let xh = buf_x[xo + i] * inv;
    let v = inv * (buf_dy[go + i] * buf_w[P.w_off + i] - xh * mean);
    let o = P.dx_off + r * d + i;
    if (P.accumulate != 0u) { buf_dx[o] = buf_dx[o] + v; } else { buf_dx[o] = v; }
  }
  if (first == 0u && P.write_inv != 0u) { buf_inv[P.inv_off + r] = inv; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let d = P.d;
  if (ROW_THREAD) {
    let r = wg_linear(wid, nwg) * WG + ln.lid;
    if (r < P.rows) {
      var ss = vec4<f32>(0.0);  // four interleaved partial sums of each
      var gx = vec4<f32>(0.0);
      for (var i = 0u; i < d; i++) {
        let x = buf_x[P.x_off + r * d + i];
        ss[i % 4u] += x * x;
        gx[i % 4u] += buf_dy[P.dy_off + r * d + i] * buf_w[P.w_off + i] * x;
      }
      store_row(r, (ss.x + ss.y) + (ss.z + ss.w), (gx.x + gx.y) + (gx.z + gx.w), 0u, 1u);
    }
    return;
  }
  let r = wg_linear(wid, nwg);
  if (r >= P.rows) { return; }
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
  store_row(r, tot.x, tot.y, ln.lid, WG);
}
