// Q8_0 weight rows (GGUF's block format, ops/block_formats.h): 4 signed bytes per u32 (lowest
// column in the low byte), 16 per vec4<u32> unit, so a block of 32 columns is 2 units; one f32
// scale per block (the file's f16 scale, widened) at scale_off + row * blocks + block:
// w = q * d, exact in f32. Same interface as weights_f32.wgsl.

const UNIT: u32 = 16u;
const XN: u32 = 4u;

fn unit_elem(u: u32, j: u32) -> u32 { return u * 16u + j * 4u; }

// The scale of the block holding column c of `row` (wi.stride / 2 blocks per row).
fn q8_0_scale(wi: WeightRef, row: u32, c: u32) -> f32 {
  return bitcast<f32>(w_word(wi.scale_off + row * (wi.stride / 2u) + c / 32u));
}

fn w_unit_dot(wi: WeightRef, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  let w = buf_wq[wi.base + row * wi.stride + u];
  let d = q8_0_scale(wi, row, u * 16u);
  return dot(i8x4(w.x) * d, xv[0]) + dot(i8x4(w.y) * d, xv[1]) + dot(i8x4(w.z) * d, xv[2]) + dot(i8x4(w.w) * d, xv[3]);
}

fn w_vec4(wi: WeightRef, row: u32, c: u32) -> vec4<f32> {
  let w = buf_wq[wi.base + row * wi.stride + c / 16u];
  return i8x4(w[(c / 4u) & 3u]) * q8_0_scale(wi, row, c);
}
