// Matrix-vector products for decode, subgroup tier: each subgroup computes NR = 4 whole rows
// (its lanes stride over the rows' units, subgroupAdd reduces), so there is no workgroup
// memory and no barrier. Workgroups step over blocks of rows (WG / subgroup_size * NR rows per
// block), so any grid covers every row whatever the subgroup size. Same parameters as
// matmul_vec.wgsl; z = token.

const NR: u32 = 4u;

fn xl(i: u32, xb: u32, cols: u32) -> f32 {
  return select(0.0, buf_x[xb + min(i, cols - 1u)], i < cols);
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
        @builtin(subgroup_size) sgs: u32) {
  let t = wid.z;
  let nrows = pu(8);
  let cols = pu(5);
  let wi = WInfo(pu(9), pu(10), pu(11), cols);
  let xb = pu(0) + t * cols;
  let units = wi.stride;
  let rows_per_wg = (WG / sgs) * NR;
  let n_wg = nwg.x * nwg.y;
  for (var blk = wg_linear(wid, nwg); blk * rows_per_wg < nrows; blk += n_wg) {
    let r0 = blk * rows_per_wg + (lid / sgs) * NR;
    var acc = vec4<f32>(0.0);
    for (var u = lane; u < units; u += sgs) {
      var xv: array<vec4<f32>, XN>;
      for (var j = 0u; j < XN; j++) {
        let e = unit_elem(u, j);
        xv[j] = vec4<f32>(xl(e, xb, cols), xl(e + 1u, xb, cols), xl(e + 2u, xb, cols), xl(e + 3u, xb, cols));
      }
      for (var r = 0u; r < NR; r++) {
        acc[r] += w_unit_dot(wi, min(r0 + r, nrows - 1u), u, xv);
      }
    }
    let tot = subgroupAdd(acc);
    if (lane < NR && r0 + lane < nrows) {
      let o = pu(7) + r0 + lane;
      var v = tot[lane];
      if (pu(3) != 0u) { v += buf_bias[pu(2) + o]; }
      buf_out[pu(1) + t * pu(6) + o] = v;
    }
  }
}
