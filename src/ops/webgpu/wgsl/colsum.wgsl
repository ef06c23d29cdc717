// Column sums for the gradients that add over rows (a bias's, a norm weight's):
//   out[c] += sum_r x[r, c]                  (MUL false)
//   out[c] += sum_r x[r, c] * y[r, c] * s[r]  (MUL true: rmsnorm's dw = sum_r dy xh, s = 1 / rms)
// x, y: [rows, d]. Stage one (FINAL false): a workgroup of 64 columns x 4 row lanes per (column
// tile, block of rows_per_block rows); each lane sums every fourth row of the block in order,
// the 4 lanes are summed in order, and the block's sums go to part[block, c], or straight into
// out when there is one block. Stage two (FINAL true): out[c] += the blocks' sums in block
// order, one invocation per column. Grid: stage one (column tiles, n_blocks); two: column tiles.

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
}

var<workgroup> lanes: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d = P.d;
  if (FINAL) {
    let c = wid.x * 256u + lid;
    if (c < d) {
      var sum = 0.0;
      for (var b = 0u; b < P.n_blocks; b++) { sum += buf_part[P.part_off + b * d + c]; }
      buf_out[P.out_off + c] = buf_out[P.out_off + c] + sum;
    }
    return;
  }
  let c = wid.x * 64u + lid % 64u;
  let lane = lid / 64u;
  let r0 = wid.y * P.rows_per_block;
  let r1 = min(P.rows, r0 + P.rows_per_block);
  var acc = 0.0;
  if (c < d) {
    for (var r = r0 + lane; r < r1; r += 4u) {
      let i = r * d + c;
      if (MUL) {
        acc += buf_x[P.x_off + i] * (buf_y[P.y_off + i] * buf_s[P.s_off + r]);
      } else {
        acc += buf_x[P.x_off + i];
      }
    }
  }
  lanes[lid] = acc;
  workgroupBarrier();
  if (lane != 0u || c >= d) { return; }
  let sum = ((lanes[lid] + lanes[lid + 64u]) + lanes[lid + 128u]) + lanes[lid + 192u];
  if (P.n_blocks == 1u) {
    buf_out[P.out_off + c] = buf_out[P.out_off + c] + sum;
  } else {
    buf_part[P.part_off + wid.y * d + c] = sum;
  }
}
