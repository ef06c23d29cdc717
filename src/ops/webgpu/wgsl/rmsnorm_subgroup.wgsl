// RMSNorm, subgroup tier: one subgroup per row (lanes stride over d, subgroupAdd reduces), no
// barriers; workgroups step over blocks of WG / subgroup_size rows. Same semantics and
// parameters as rmsnorm.wgsl (x and out may share a buffer).

struct Params {
  x_off: u32,
  w_off: u32,
  out_off: u32,
  rows: u32,
  d: u32,
  eps: f32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
        @builtin(subgroup_size) sg_size: u32) {
  let sgs = min(sg_size, WG);  // a subgroup wider than the workgroup only has WG lanes
  let rows = P.rows;
  let d = P.d;
  let rows_per_wg = WG / sgs;
  let n_wg = nwg.x * nwg.y;
  for (var blk = wg_linear(wid, nwg); blk * rows_per_wg < rows; blk += n_wg) {
    let r = min(blk * rows_per_wg + lid / sgs, rows - 1u);
    let valid = blk * rows_per_wg + lid / sgs < rows;
    let xo = P.x_off + r * d;
    let oo = P.out_off + r * d;
    var ss = 0.0;
    for (var i = lane; i < d; i += sgs) {
      let v = buf_x[xo + i];
      ss += v * v;
    }
    let inv = 1.0 / sqrt(subgroupAdd(ss) / f32(d) + P.eps);
    if (valid) {
      for (var i = lane; i < d; i += sgs) {
        buf_out[oo + i] = buf_w[P.w_off + i] * (buf_x[xo + i] * inv);
      }
    }
  }
}
