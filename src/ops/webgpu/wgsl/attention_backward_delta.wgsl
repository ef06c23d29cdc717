// First pass of the attention backward: for each query row and head, delta = dout . out, and
// the row's log-sum-exp copied beside it, so the two passes after it read both from one buffer:
// aux[aux_off + r H + h] = lse, aux[delta_off + r H + h] = delta. One invocation per (row, head).
// out, dout: [rows, H, D]; lse: [rows, H].

struct Params {
  q_off: u32,
  k_off: u32,
  v_off: u32,
  o_off: u32,
  do_off: u32,
  lse_off: u32,
  dq_off: u32,
  dk_off: u32,
  dv_off: u32,
  aux_off: u32,
  delta_off: u32,
  rows: u32,
  T: u32,
  H: u32,
  KV: u32,
  window: u32,
  scale: f32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let n = P.rows * P.H;
  if (i >= n) { return; }
  var acc = 0.0;
  for (var d = 0u; d < D; d++) { acc += buf_dout[P.do_off + i * D + d] * buf_out[P.o_off + i * D + d]; }
  buf_aux[P.aux_off + i] = buf_lse[P.lse_off + i];
  buf_aux[P.delta_off + i] = acc;
}
