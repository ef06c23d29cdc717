// Embedding lookup: out[t, :] = dequant(E)[ids[t], :], for the rows of one weight chunk (ids
// outside [row0, row0 + nrows) belong to another chunk's dispatch). One invocation per 4
// columns of one token. The ids come from the parameters (P[16 + t]) or, when IDS_FROM_BUF,
// from buf_ids (f32 values, as argmax writes them: GPU-resident decode).
// P: 0 out_off, 1 T, 2 cols, 3 row0, 4 nrows, 5 w_stride, 6 scale_off, 7 min_off, 8 ids_off,
//    9 w_base

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let cols = pu(2);
  let c4n = (cols + 3u) / 4u;
  let t = i / c4n;
  let c = (i % c4n) * 4u;
  if (t >= pu(1)) { return; }
  var id: u32;
  if (IDS_FROM_BUF) {
    id = u32(buf_ids[pu(8) + t]);
  } else {
    id = pu(16u + t);
  }
  if (id < pu(3) || id - pu(3) >= pu(4)) { return; }
  let v = w_vec4(WInfo(pu(5), pu(6), pu(7), cols, pu(9)), id - pu(3), c);
  let o = pu(0) + t * cols + c;
  buf_out[o] = v.x;
  if (c + 1u < cols) { buf_out[o + 1u] = v.y; }
  if (c + 2u < cols) { buf_out[o + 2u] = v.z; }
  if (c + 3u < cols) { buf_out[o + 3u] = v.w; }
}
