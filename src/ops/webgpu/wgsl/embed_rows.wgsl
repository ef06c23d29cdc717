// Embedding lookup from a trained table (Backend::embed_rows): out[t, :] = E[ids[t], :]; E:
// [vocab, d] f32, the T ids in the parameters. One invocation per element of out.

struct Params {
  e_off: u32,
  out_off: u32,
  T: u32,
  d: u32,
  ids: array<u32>,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let d = P.d;
  if (i >= P.T * d) { return; }
  let t = i / d;
  buf_out[P.out_off + i] = buf_e[P.e_off + P.ids[t] * d + i % d];
}
