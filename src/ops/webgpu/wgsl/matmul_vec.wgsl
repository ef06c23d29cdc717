// Matrix-vector products for decode, tier "none" (see matvec_common.wgsl): one workgroup per
// block of 4 virtual rows of one token (z = token); its invocations stride over the units and
// the sums are reduced through workgroup memory.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let v0 = wg_linear(wid, nwg) * NR;
  if (v0 >= pu(6)) { return; }
  let t = wid.z;
  let m = mat_of(v0);
  let A = mat(m);
  let B = mat(1u);
  let r0 = v0 - A.vbase;
  let acc = block_dots(A, B, r0, pu(0) + t * pu(2), ln.lid, WG);
  let tot = wg_sum4(acc[0], ln);
  var tot2 = vec4<f32>(0.0);
  if (PAIR) { tot2 = wg_sum4(acc[1], ln); }
  if (ln.lid < NR && r0 + ln.lid < A.nrows) {
    finish(m, A, B, r0 + ln.lid, t, tot[ln.lid], tot2[ln.lid]);
  }
}
