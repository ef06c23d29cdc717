// Matrix-vector products for decode with short rows, subgroup tier (see matvec_common.wgsl):
// each subgroup computes a block of NR virtual rows (its lanes stride over the units,
// subgroupAdd reduces), so there is no workgroup memory and no barrier. Workgroups step over
// groups of blocks, so any grid covers every row whatever the subgroup size. z = token.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32, @builtin(subgroup_invocation_id) lane: u32,
        @builtin(subgroup_size) sg_size: u32) {
  let sgs = min(sg_size, WG);  // a subgroup wider than the workgroup only has WG lanes
  let t = wid.z;
  let rows_per_wg = (WG / sgs) * NR;
  let n_wg = nwg.x * nwg.y;
  let B = mat(1u);
  for (var blk = wg_linear(wid, nwg); blk * rows_per_wg < P.vrows; blk += n_wg) {
    let v0 = blk * rows_per_wg + (lid / sgs) * NR;
    let m = mat_of(v0);
    let A = mat(m);
    let r0 = v0 - A.vbase;
    let xb = x_base(m, t);
    let d = block_dots(m, A, B, r0, xb, lane, sgs);
    var tot = subgroupAdd(d.a);
    var tot2 = vec4<f32>(0.0);
    if (PAIR) { tot2 = subgroupAdd(d.b); }
    if (NORM) {
      let inv = inv_rms(subgroupAdd(d.ss));
      tot *= inv;
      tot2 *= inv;
      // Every subgroup writes its share of h: subgroup w of the n_w that run takes the 4-float
      // chunks w * sgs + lane, then n_w * sgs on (one writer would be the dispatch's tail).
      let n_w = ((P.vrows + rows_per_wg - 1u) / rows_per_wg) * (WG / sgs);
      write_normed(xb, t, inv, (blk * (WG / sgs) + lid / sgs) * sgs + lane, n_w * sgs);
    }
    if (lane < NR && v0 < P.vrows && r0 + lane < A.nrows) {
      finish(m, A, B, r0 + lane, t, tot[lane], tot2[lane]);
    }
  }
}
