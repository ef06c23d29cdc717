// Greedy pick on the GPU: out[0] = float(index of the largest of x[0..n)), the lowest index on
// ties (as the sampler's argmax). One workgroup. P: 0 x_off, 1 n, 2 out_off

@compute @workgroup_size(WG)
fn main(ln: Lane) {
  let n = pu(1);
  var best = -3.4028234e38;
  var bi = 0xffffffffu;
  for (var i = ln.lid; i < n; i += WG) {
    let v = buf_x[pu(0) + i];
    if (bi == 0xffffffffu || v > best) {
      best = v;
      bi = i;
    }
  }
  let idx = wg_argmax(best, bi, ln);
  if (ln.lid == 0u) { buf_out[pu(2)] = f32(idx); }
}
