// Embedding lookup: out[t, :] = dequant(E)[ids[t], :], for the rows of one weight chunk (ids
// outside [row0, row0 + nrows) belong to another chunk's dispatch). One invocation per 4
// columns of one token. The ids come from the parameters (P.ids) or, when IDS_FROM_BUF, from
// buf_ids (f32 values, as argmax writes them: GPU-resident decode).

struct Params {
  out_off: u32,
  T: u32,
  cols: u32,
  row0: u32,
  nrows: u32,
  w: WeightRef,
  ids_off: u32,
  ids: array<u32>,  // T ids, when they come from the parameters
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let cols = P.cols;
  let c4n = (cols + 3u) / 4u;
  let t = i / c4n;
  let c = (i % c4n) * 4u;
  if (t >= P.T) { return; }
  var id: u32;
  if (IDS_FROM_BUF) {
    id = u32(buf_ids[P.ids_off + t]);
  } else {
    id = P.ids[t];
  }
  if (id < P.row0 || id - P.row0 >= P.nrows) { return; }
  let v = w_vec4(P.w, id - P.row0, c);
  let o = P.out_off + t * cols + c;
  buf_out[o] = v.x;
  if (c + 1u < cols) { buf_out[o + 1u] = v.y; }
  if (c + 2u < cols) { buf_out[o + 2u] = v.z; }
  if (c + 3u < cols) { buf_out[o + 3u] = v.w; }
}
