// RoPE of training (Backend::rope_seqs) in place on x: [rows, H, D], row r of a sequence of T
// tokens at position r % T; sign -1 rotates by minus the angle (the transpose, for the
// backward). cos and sin as rope.wgsl computes them (rope_common.wgsl), times the attention
// scaling. One invocation per rotated pair.

struct Params {
  x_off: u32,
  rows: u32,
  T: u32,
  H: u32,
  D: u32,
  half: u32,
  scaling: f32,
  sign: f32,
  freq_off: u32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let half = P.half;
  if (i >= P.rows * P.H * half) { return; }
  let k = i % half;
  let rh = i / half;  // row * H + head
  let pos = (rh / P.H) % P.T;
  let cs = cos_sin(f32(pos) * buf_freq[P.freq_off + k]) * P.scaling;
  let sn = P.sign * cs.y;
  let base = P.x_off + rh * P.D;
  let a = buf_x[base + k];
  let b = buf_x[base + k + half];
  buf_x[base + k] = a * cs.x - b * sn;
  buf_x[base + k + half] = b * cs.x + a * sn;
}
