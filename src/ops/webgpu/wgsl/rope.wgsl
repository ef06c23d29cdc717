// Rotate-half RoPE in place on x: [T, H, D], token t at position pos0 + t: pairs (i, i + half)
// for i < half = rot_dim / 2; dims past rot_dim pass through. As in ref::rope_cos_sin the
// angle is float(pos) * inv_freq[i] rounded to f32; its cos and sin come from a Cody-Waite
// reduction by pi/2 (rope_common.wgsl), not from the GPU's cos/sin.
// A second tensor x2: [T, H2, D] at the same positions (k beside q) is rotated in the same
// dispatch when H2 > 0. With STORE, the rotated x2 is also written to kc ([T, H2, D] at kc_off:
// the new rows of the K cache; its dims past rot_dim are copied as they are) and n_v floats of
// vs are copied to vc (the V cache), so the attention block's rope and cache stores are one
// dispatch. Invocations: rope pairs, then the k tail dims, then the v copies.
// P: 0 x_off, 1 T, 2 H, 3 D, 4 pos0, 5 half, 6 attention_scaling (f32), 7 freq_off, 8 x2_off,
//    9 H2, 10 kc_off, 11 vs_off, 12 vc_off, 13 n_v, 14 tail (D - 2 half)

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let half = pu(5);
  let H = pu(2);
  let H2 = pu(9);
  let n_rope = pu(1) * (H + H2) * half;
  if (i >= n_rope) {
    if (!STORE) { return; }
    let tail = pu(14);
    let n_tail = pu(1) * H2 * tail;
    let j = i - n_rope;
    if (j < n_tail) {
      let e = (j / tail) * pu(3) + 2u * half + j % tail;  // [t, h, 2 half + c]
      buf_kc[pu(10) + e] = buf_x2[pu(8) + e];
    } else if (j - n_tail < pu(13)) {
      buf_vc[pu(12) + j - n_tail] = buf_vs[pu(11) + j - n_tail];
    }
    return;
  }
  let k = i % half;
  let th = i / half;
  let t = th / (H + H2);
  let h = th % (H + H2);
  let cs = cos_sin(f32(pu(4) + t) * buf_freq[pu(7) + k]) * pf(6);
  if (h < H) {
    let base = pu(0) + (t * H + h) * pu(3);
    let a = buf_x[base + k];
    let b = buf_x[base + k + half];
    buf_x[base + k] = a * cs.x - b * cs.y;
    buf_x[base + k + half] = b * cs.x + a * cs.y;
  } else {
    let rel = (t * H2 + h - H) * pu(3);
    let base = pu(8) + rel;
    let a = buf_x2[base + k];
    let b = buf_x2[base + k + half];
    let ra = a * cs.x - b * cs.y;
    let rb = b * cs.x + a * cs.y;
    buf_x2[base + k] = ra;
    buf_x2[base + k + half] = rb;
    if (STORE) {
      buf_kc[pu(10) + rel + k] = ra;
      buf_kc[pu(10) + rel + k + half] = rb;
    }
  }
}
