// Q4_0 weight rows (GGUF's block format, ops/block_formats.h): a block of 32 columns is one
// vec4<u32> unit, its 16 bytes as in the file: byte i holds column i in its low nibble and
// column i + 16 in its high nibble. One f32 scale per block (the file's f16 scale, widened) at
// scale_off + row * blocks + block: w = (q - 8) * d, exact in f32. Same interface as
// weights_f32.wgsl.

const UNIT: u32 = 32u;
const XN: u32 = 8u;

fn unit_elem(u: u32, j: u32) -> u32 { return u * 32u + j * 4u; }

// Nibbles at bit `shift` of each byte of w, as q - 8.
fn q4x4(w: u32, shift: u32) -> vec4<f32> {
  return vec4<f32>((vec4<u32>(w) >> (vec4<u32>(0u, 8u, 16u, 24u) + shift)) & vec4<u32>(15u)) - 8.0;
}

fn q4_0_scale(wi: WeightRef, row: u32, block: u32) -> f32 {
  return bitcast<f32>(w_word(wi.scale_off + row * wi.stride + block));
}

fn w_unit_dot(wi: WeightRef, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  let w = buf_wq[wi.base + row * wi.stride + u];
  let d = q4_0_scale(wi, row, u);
  var f = 0.0;
  for (var j = 0u; j < 4u; j++) {
    f += dot(q4x4(w[j], 0u) * d, xv[j]) + dot(q4x4(w[j], 4u) * d, xv[j + 4u]);
  }
  return f;
}

fn w_vec4(wi: WeightRef, row: u32, c: u32) -> vec4<f32> {
  let e = c % 32u;
  let w = buf_wq[wi.base + row * wi.stride + c / 32u];
  return q4x4(w[(e % 16u) / 4u], (e / 16u) * 4u) * q4_0_scale(wi, row, c / 32u);
}
