// Int8 weight rows: 4 signed bytes per u32 (lowest column in the low byte), 16 per vec4<u32>
// unit, one f32 scale per row at scale_off: w = q * scale. Same interface as weights_f32.wgsl.

const UNIT: u32 = 16u;
const XN: u32 = 4u;

fn unit_elem(u: u32, j: u32) -> u32 { return u * 16u + j * 4u; }

fn w_unit_dot(wi: WeightRef, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  let w = buf_wq[wi.base + row * wi.stride + u];
  let s = bitcast<f32>(w_word(wi.scale_off + row));
  return s * (dot(i8x4(w.x), xv[0]) + dot(i8x4(w.y), xv[1]) + dot(i8x4(w.z), xv[2]) + dot(i8x4(w.w), xv[3]));
}

fn w_vec4(wi: WeightRef, row: u32, c: u32) -> vec4<f32> {
  let w = buf_wq[wi.base + row * wi.stride + c / 16u];
  let s = bitcast<f32>(w_word(wi.scale_off + row));
  return i8x4(w[(c / 4u) & 3u]) * s;
}
