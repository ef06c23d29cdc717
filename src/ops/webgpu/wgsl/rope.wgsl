// Rotate-half RoPE in place on x: [T, H, D], token t at position pos0 + t: pairs (i, i + half)
// for i < half = rot_dim / 2; dims past rot_dim pass through. As in ref::rope_cos_sin the
// angle is float(pos) * inv_freq[i] rounded to f32; its cos and sin come from a Cody-Waite
// reduction by pi/2 (rope_common.wgsl), not from the GPU's cos/sin.
// A second tensor x2: [T, H2, D] at the same positions (k beside q) is rotated in the same
// dispatch when H2 > 0. With STORE, the rotated x2 is also written to kc ([T, H2, D] at kc_off:
// the new rows of the K cache; its dims past rot_dim are copied as they are) and n_v floats of
// vs are copied to vc (the V cache), so the attention block's rope and cache stores are one
// dispatch. Invocations: rope pairs, then the k tail dims, then the v copies.

struct Params {
  x_off: u32,
  T: u32,
  H: u32,
  D: u32,
  pos0: u32,
  half: u32,
  scaling: f32,  // multiplies cos and sin (yarn's attention scaling)
  freq_off: u32,
  x2_off: u32,
  H2: u32,
  kc_off: u32,
  v_off: u32,    // the new v rows (copied to vc with STORE)
  vc_off: u32,
  n_v: u32,
  tail: u32,     // D - 2 half: k dims past the rotated ones
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let half = P.half;
  let H = P.H;
  let H2 = P.H2;
  let n_rope = P.T * (H + H2) * half;
  if (i >= n_rope) {
    if (!STORE) { return; }
    let tail = P.tail;
    let n_tail = P.T * H2 * tail;
    let j = i - n_rope;
    if (j < n_tail) {
      let e = (j / tail) * P.D + 2u * half + j % tail;  // [t, h, 2 half + c]
      buf_kc[P.kc_off + e] = buf_x2[P.x2_off + e];
    } else if (j - n_tail < P.n_v) {
      buf_vc[P.vc_off + j - n_tail] = buf_vn[P.v_off + j - n_tail];
    }
    return;
  }
  let k = i % half;
  let th = i / half;
  let t = th / (H + H2);
  let h = th % (H + H2);
  let cs = cos_sin(f32(P.pos0 + t) * buf_freq[P.freq_off + k]) * P.scaling;
  if (h < H) {
    let base = P.x_off + (t * H + h) * P.D;
    let a = buf_x[base + k];
    let b = buf_x[base + k + half];
    buf_x[base + k] = a * cs.x - b * cs.y;
    buf_x[base + k + half] = b * cs.x + a * cs.y;
  } else {
    let rel = (t * H2 + h - H) * P.D;
    let base = P.x2_off + rel;
    let a = buf_x2[base + k];
    let b = buf_x2[base + k + half];
    let ra = a * cs.x - b * cs.y;
    let rb = b * cs.x + a * cs.y;
    buf_x2[base + k] = ra;
    buf_x2[base + k + half] = rb;
    if (STORE) {
      buf_kc[P.kc_off + rel + k] = ra;
      buf_kc[P.kc_off + rel + k + half] = rb;
    }
  }
}
