// sum_i x[i]^2 in two stages: a workgroup sums per_wg elements (each invocation every WG-th one
// in order, then a tree or subgroup reduction) into part[wg] (square 1), or into out[0] when
// one workgroup covers all; stage two (square 0) sums the parts the same way into out[0].
// Grid: stage one ceil(n / per_wg) workgroups; two: 1.

struct Params {
  x_off: u32,
  n: u32,
  per_wg: u32,
  part_off: u32,
  out_off: u32,
  square: u32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let w = wg_linear(wid, nwg);
  let i0 = w * P.per_wg;
  if (i0 >= P.n && w > 0u) { return; }  // past the last block (the grid is rounded up)
  let i1 = min(P.n, i0 + P.per_wg);
  var acc = 0.0;
  for (var i = i0 + ln.lid; i < i1; i += WG) {
    let v = buf_x[P.x_off + i];
    if (P.square != 0u) { acc += v * v; } else { acc += v; }
  }
  let tot = wg_sum(acc, ln);
  if (ln.lid != 0u) { return; }
  if (P.per_wg >= P.n) {
    buf_out[P.out_off] = tot;
  } else {
    buf_part[P.part_off + w] = tot;
  }
}
