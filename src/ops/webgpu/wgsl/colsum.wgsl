// Column sums for the gradients that add over rows (a bias's, a norm weight's):
//   out[c] += sum_r x[r, c]                  (mul 0)
//   out[c] += sum_r x[r, c] * y[r, c] * s[r]  (mul 1: rmsnorm's dw = sum_r dy xh, s = 1 / rms)
// x, y: [rows, d]. Stage one (stage2 0): one invocation per (column, block of
// rows_per_block rows) sums the block's rows (in four interleaved partial sums, as 4-wide SIMD
// does) into part[block, c], or straight into out
// when there is one block. Stage two (stage2 1): out[c] += the blocks' sums in block order,
// one invocation per column. No barriers. Grid: stage one (column tiles of 64, n_blocks); two:
// column tiles.

struct Params {
  x_off: u32,
  y_off: u32,
  s_off: u32,
  part_off: u32,
  out_off: u32,
  rows: u32,
  d: u32,
  rows_per_block: u32,
  n_blocks: u32,
  mul: u32,
  stage2: u32,
}

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d = P.d;
  let c = wid.x * 64u + lid;
  if (c >= d) { return; }
  if (P.stage2 != 0u) {
    var sum = 0.0;
    for (var b = 0u; b < P.n_blocks; b++) { sum += buf_part[P.part_off + b * d + c]; }
    buf_out[P.out_off + c] = buf_out[P.out_off + c] + sum;
    return;
  }
  let r0 = wid.y * P.rows_per_block;
  let r1 = min(P.rows, r0 + P.rows_per_block);
  // Four interleaved partial sums (rows r0 + 4 i + l in part l), added in order at the end.
  var part = vec4<f32>(0.0);
  for (var r = r0; r < r1; r++) {
    let i = r * d + c;
    var v = buf_x[P.x_off + i];
    if (P.mul != 0u) { v = v * (buf_y[P.y_off + i] * buf_s[P.s_off + r]); }
    part[(r - r0) % 4u] += v;
  }
  let sum = (part.x + part.y) + (part.z + part.w);
  if (P.n_blocks == 1u) {
    buf_out[P.out_off + c] = buf_out[P.out_off + c] + sum;
  } else {
    buf_part[P.part_off + wid.y * d + c] = sum;
  }
}
