// Activations through Q8_0 and back, as the products with Q8_0 / Q4_0 weights take them (the
// CPU's quantize_rows_q8_0, ggml's quantizer): per block of 32 values of a row, d = amax / 127,
// q = round(x / d) (halves away from zero, x times 1 / d), and out = q * f16(d), exact in f32.
// x: [rows, cols] from x_off (cols a multiple of 32), out: the same shape from out_off. One
// invocation per block.

// x >= 0 rounded to the nearest f16 (ties to even) as an f32: quantizeToF16 leaves the rounding
// to the implementation.
fn round_f16(x: f32) -> f32 {
  if (x < 6.103515625e-05) { return round(x * 16777216.0) / 16777216.0; }  // f16 subnormals: steps of 2^-24
  let b = bitcast<u32>(x);
  return bitcast<f32>((b + 0xFFFu + ((b >> 13u) & 1u)) & 0xFFFFE000u);
}

struct Params {
  x_off: u32,
  out_off: u32,
  blocks: u32,  // rows * cols / 32
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let b = wg_linear(wid, nwg) * WG + lid;
  if (b >= P.blocks) { return; }
  let x0 = P.x_off + b * 32u;
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) { amax = max(amax, abs(buf_x[x0 + j])); }
  let d = amax / 127.0;
  let id = select(0.0, 1.0 / d, d != 0.0);
  let d16 = round_f16(d);
  for (var j = 0u; j < 32u; j++) {
    let v = buf_x[x0 + j] * id;
    let t = trunc(v);
    let q = select(t, t + sign(v), abs(v - t) >= 0.5);
    buf_out[P.out_off + b * 32u + j] = q * d16;
  }
}
