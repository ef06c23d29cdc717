// Matrix-vector products for decode (see matvec_common.wgsl): one workgroup per block of NR
// virtual rows of one token (z = token); its invocations stride over the units and the sums
// are reduced over the workgroup (subgroup operations where the tier has them). Used for every
// product on tier "none", and for long rows (down_proj) on tier "subgroups", where a whole
// workgroup per block keeps more loads in flight than one subgroup.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let t = wid.z;
  let wl = wg_linear(wid, nwg);
  let v0 = wl * NR;
  if (v0 >= P.vrows) { return; }
  let m = mat_of(v0);
  let A = mat(m);
  let B = mat(1u);
  let r0 = v0 - A.vbase;
  let xb = x_base(m, t);
  let d = block_dots(m, A, B, r0, xb, ln.lid, WG);
  var tot = wg_sum4(d.a, ln);
  var tot2 = vec4<f32>(0.0);
  if (PAIR) { tot2 = wg_sum4(d.b, ln); }
  if (NORM) {
    let inv = inv_rms(wg_sum(d.ss, ln));
    tot *= inv;
    tot2 *= inv;
    // Every workgroup writes its share of h (4-float chunks, WG at a time, strided by the
    // whole grid's invocations).
    let n_w = (P.vrows + NR - 1u) / NR;
    write_normed(xb, t, inv, wl * WG + ln.lid, n_w * WG);
  }
  if (ln.lid < NR && r0 + ln.lid < A.nrows) {
    finish(m, A, B, r0 + ln.lid, t, tot[ln.lid], tot2[ln.lid]);
  }
}
