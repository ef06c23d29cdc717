// Matrix-vector products for decode (see matvec_common.wgsl): one workgroup per block of NR
// virtual rows of one token (z = token); its invocations stride over the units and the sums
// are reduced over the workgroup (subgroup operations where the tier has them). Used for every
// product on tier "none", and for long rows (down_proj) on tier "subgroups", where a whole
// workgroup per block keeps more loads in flight than one subgroup.

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, ln: Lane) {
  let t = wid.z;
  // With LA the first kA workgroups compute the A rows, the rest the products.
  let kA = select(0u, pu(52), LA);
  let wl = wg_linear(wid, nwg);
  la_sgs = WG;
  if (LA && wl < kA) {
    la_rows_wg(wl, kA, t, ln.lid);
    return;
  }
  let v0 = (wl - kA) * NR;
  if (v0 >= pu(6)) { return; }
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
    let n_w = (pu(6) + NR - 1u) / NR;
    write_normed(xb, t, inv, (wl - kA) * WG + ln.lid, n_w * WG);
  }
  var lx = vec2<f32>(0.0);
  if (LA) {
    la_t_wg(m, t, ln.lid, 0u);
    if (PAIR) { la_t_wg(1u, t, ln.lid, 1u); }
    workgroupBarrier();
    if (ln.lid < NR) {
      let r = min(r0 + ln.lid, A.nrows - 1u);
      lx.x = la_b_dot(m, r, 0u, vec4<f32>(0.0), WG);
      if (PAIR) { lx.y = la_b_dot(1u, r, 1u, vec4<f32>(0.0), WG); }
    }
  }
  if (ln.lid < NR && r0 + ln.lid < A.nrows) {
    finish(m, A, B, r0 + ln.lid, t, tot[ln.lid], tot2[ln.lid], lx);
  }
}

var<workgroup> la_red: array<vec2<f32>, WG>;

// LA: the A workgroups (wl < kA of token t) take rows wl, wl + kA, ...; each invocation is a
// lane of WG, and the lanes' shares are summed in lane order (la_serial's, with la_sgs = WG).
fn la_rows_wg(wl: u32, kA: u32, t: u32, lid: u32) {
  let xb = x_base(0u, t);
  for (var k = wl; k < pu(53); k += kA) {
    let jr = la_row_of(k);
    la_red[lid] = la_partial(jr.x, jr.y, xb, lid, WG);
    workgroupBarrier();
    if (lid == 0u) {
      var s = 0.0;
      var ss = 0.0;
      for (var l = 0u; l < WG; l++) {
        s += la_red[l].x;
        ss += la_red[l].y;
      }
      la_publish(jr, t, s, ss);
    }
    workgroupBarrier();
  }
}

var<workgroup> la_wait: u32;

// LA: t_m for token t into la_red[.][k], word c by invocation c (R <= WG; the whole workgroup
// calls it): all words read at once, again while any is the mark; after LA_SPIN reads the
// invocations still waiting compute theirs.
fn la_t_wg(m: u32, t: u32, lid: u32, k: u32) {
  let b = 40u + 4u * m;
  if (pu(b) == 0xffffffffu) { return; }
  let R = pu(b + 3u);
  let mine = lid < R;
  var w = LA_MARK;
  for (var tries = 0u; tries < LA_SPIN; tries++) {
    if (mine && w == LA_MARK) { w = atomicLoad(&buf_lta[pu(b + 2u) + t * R + lid]); }
    workgroupBarrier();
    if (lid == 0u) { la_wait = 0u; }
    workgroupBarrier();
    if (mine && w == LA_MARK) { la_wait = 1u; }
    if (workgroupUniformLoad(&la_wait) == 0u) { break; }
  }
  if (mine) { la_red[lid][k] = la_word_value(m, lid, t, w); }
}

// Word c of t_m, from la_red[.][k] (la_b_dot's; past R a word la_b_dot leaves out).
fn la_word(c: u32, k: u32, tv: vec4<f32>, sgs: u32) -> f32 { return la_red[min(c, WG - 1u)][k]; }
