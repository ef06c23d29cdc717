// F16 weight rows: IEEE half bits, 2 per u32 (even column in the low half), 8 per vec4<u32>
// unit; unpacked with unpack2x16float, so the shader-f16 feature is not needed.
// Same interface as weights_f32.wgsl.

const UNIT: u32 = 8u;
const XN: u32 = 2u;

fn unit_elem(u: u32, j: u32) -> u32 { return u * 8u + j * 4u; }

fn w_unit_dot(wi: WeightRef, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  let w = buf_wq[wi.base + row * wi.stride + u];
  let a = vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
  let b = vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
  return dot(a, xv[0]) + dot(b, xv[1]);
}

fn w_vec4(wi: WeightRef, row: u32, c: u32) -> vec4<f32> {
  let w = buf_wq[wi.base + row * wi.stride + c / 8u];
  if (((c / 4u) & 1u) == 0u) {
    return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
  }
  return vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
}
