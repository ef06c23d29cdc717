// The backward of out = silu(gate) * up (ref::swiglu_backward), one invocation per element:
//   dgate = dout * up * sig (1 + gate (1 - sig)), dup = dout * gate * sig, sig = 1 / (1 + e^-gate)
// dgate and dup may be gate and up (each invocation reads its element before writing it).

struct Params {
  gate_off: u32,
  up_off: u32,
  dout_off: u32,
  dgate_off: u32,
  dup_off: u32,
  n: u32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  if (i >= P.n) { return; }
  let g = buf_gate[P.gate_off + i];
  let u = buf_up[P.up_off + i];
  let d = buf_dout[P.dout_off + i];
  let sig = 1.0 / (1.0 + exp(-g));
  buf_dgate[P.dgate_off + i] = d * u * (sig * (1.0 + g * (1.0 - sig)));
  buf_dup[P.dup_off + i] = d * (g * sig);
}
