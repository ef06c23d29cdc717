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
  // With LA the first kA workgroups compute the A rows, the rest the products.
  let kA = select(0u, pu(52), LA);
  let wl = wg_linear(wid, nwg);
  la_sgs = sgs;
  if (wl < kA) {
    la_rows(wl, kA, t, lid / sgs, WG / sgs, lane, sgs);
    return;
  }
  let n_wg = nwg.x * nwg.y - kA;
  let B = mat(1u);
  for (var blk = wl - kA; blk * rows_per_wg < pu(6); blk += n_wg) {
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
      let n_w = ((pu(6) + rows_per_wg - 1u) / rows_per_wg) * (WG / sgs);
      write_normed(xb, t, inv, (blk * (WG / sgs) + lid / sgs) * sgs + lane, n_w * sgs);
    }
    var lx = vec2<f32>(0.0);
    if (LA) {
      // Every lane takes part; those past the block's rows take its last row.
      let r = min(r0 + min(lane, NR - 1u), A.nrows - 1u);
      lx.x = la_b_sg(m, r, t, lane, sgs);
      if (PAIR) { lx.y = la_b_sg(1u, r, t, lane, sgs); }
    }
    if (lane < NR && v0 < pu(6) && r0 + lane < A.nrows) {
      finish(m, A, B, r0 + lane, t, tot[lane], tot2[lane], lx);
    }
  }
}
// LA: the A workgroups (wl < kA of token t); subgroup sub of nsub takes rows sub, sub + nsub,
// ... of its workgroup's share. The lanes' shares are summed in lane order (la_serial's).
fn la_rows(wl: u32, kA: u32, t: u32, sub: u32, nsub: u32, lane: u32, sgs: u32) {
  let nA = pu(53);
  let xb = x_base(0u, t);
  for (var rb = wl; rb * nsub < nA; rb += kA) {
    let k = rb * nsub + sub;
    let jr = la_row_of(min(k, nA - 1u));
    let p = la_partial(jr.x, jr.y, xb, lane, sgs);
    var s = 0.0;
    var ss = 0.0;
    for (var l = 0u; l < sgs; l++) {
      s += subgroupShuffle(p.x, l);
      ss += subgroupShuffle(p.y, l);
    }
    if (lane == 0u && k < nA) { la_publish(jr, t, s, ss); }
  }
}

// LA: the B term of row r of matrix m for token t (the subgroup's lanes all call it, each with
// its row). Lane c holds words c, c + sgs, c + 2 sgs, c + 3 sgs of t_m (R <= 4 sgs), all read
// at once and again while any is the mark; after LA_SPIN reads the lanes still waiting
// compute theirs. The dot takes each word from its lane by shuffle.
@diagnostic(off, subgroup_uniformity)
fn la_b_sg(m: u32, r: u32, t: u32, lane: u32, sgs: u32) -> f32 {
  let b = 40u + 4u * m;
  if (pu(b) == 0xffffffffu) { return 0.0; }
  let R = pu(b + 3u);
  let tb = pu(b + 2u) + t * R;
  var w = vec4<u32>(LA_MARK);
  for (var tries = 0u; tries < LA_SPIN; tries++) {
    var miss = false;
    for (var i = 0u; i < 4u; i++) {
      let c = lane + i * sgs;
      if (c < R && w[i] == LA_MARK) {
        w[i] = atomicLoad(&buf_lta[tb + c]);
        miss = miss || w[i] == LA_MARK;
      }
    }
    if (!subgroupAny(miss)) { break; }
  }
  var tv = vec4<f32>(0.0);
  for (var i = 0u; i < 4u; i++) {
    let c = lane + i * sgs;
    if (c < R) { tv[i] = la_word_value(m, c, t, w[i]); }
  }
  return la_b_dot(m, r, 0u, tv, sgs);
}

// Word c of t from the lane that holds it (la_b_dot's, for la_b_sg).
@diagnostic(off, subgroup_uniformity)
fn la_word(c: u32, k: u32, tv: vec4<f32>, sgs: u32) -> f32 { return subgroupShuffle(tv[min(c / sgs, 3u)], c % sgs); }
