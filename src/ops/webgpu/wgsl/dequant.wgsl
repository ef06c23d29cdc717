// Rows row0 .. row0 + nrows of a quantized weight matrix, dequantized into f32 rows of a
// scratch buffer for the prefill products: out[r, c] (row stride cols, cols a multiple of 4)
// holds exactly what w_vec4 gives the tiled kernel, so a product over `out` read as F32 weights
// equals the product over the quantized matrix bit for bit.
// out: array<vec4<f32>>; one invocation per 4 columns of a row.

struct Params {
  w: WeightRef,
  row0: u32,
  nrows: u32,
  cols: u32,
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wg_linear(wid, nwg) * WG + lid;
  let per_row = P.cols / 4u;
  if (i >= P.nrows * per_row) { return; }
  let r = i / per_row;
  buf_out[i] = w_vec4(P.w, P.row0 + r, (i - r * per_row) * 4u);
}
