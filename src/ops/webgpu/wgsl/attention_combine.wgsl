// Decode attention, pass 2 of 2: merges the per-chunk (m, l, acc) of
// attention_decode_splitk.wgsl: out[t, h, :] = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M),
// M = max_s m_s over chunks that saw a key. One workgroup per (head, query).
// P: 0 part_off, 1 out_off, 2 T, 3 H, 4 D, 5 n_split

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let h = wid.x;
  let t = wid.y;
  let H = pu(3);
  let D = pu(4);
  let ns = pu(5);
  let pb = pu(0) + (t * H + h) * ns * (D + 2u);
  var M = -3.0e38;
  for (var s = 0u; s < ns; s++) {
    if (buf_part[pb + s * (D + 2u) + 1u] > 0.0) { M = max(M, buf_part[pb + s * (D + 2u)]); }
  }
  var L = 0.0;
  for (var s = 0u; s < ns; s++) {
    let l = buf_part[pb + s * (D + 2u) + 1u];
    if (l > 0.0) { L += l * exp(buf_part[pb + s * (D + 2u)] - M); }
  }
  for (var d = lid; d < D; d += WG) {
    var acc = 0.0;
    for (var s = 0u; s < ns; s++) {
      let b = pb + s * (D + 2u);
      if (buf_part[b + 1u] > 0.0) { acc += buf_part[b + 2u + d] * exp(buf_part[b] - M); }
    }
    buf_out[pu(1) + (t * H + h) * D + d] = acc / L;
  }
}
