// Int4 g128 weight rows (ops/qmatrix.h): per group of 128 columns 16 u32 words; word k packs
// columns k + 16 j in nibble j. A vec4<u32> unit is words 4m..4m+3 of one group, i.e. 8 chunks
// of 4 consecutive columns (one per nibble). Per (row, group) gi an f32 scale and minimum, as a
// pair at words scale_off + 2 gi (scale_off even; min_off = scale_off + 1): w = minv + q * scale.
// Same interface as weights_f32.wgsl.

const UNIT: u32 = 32u;
const XN: u32 = 8u;

fn unit_elem(u: u32, j: u32) -> u32 { return (u / 4u) * 128u + j * 16u + (u % 4u) * 4u; }

// (scale, minimum) of group gi of the matrix: one 8-byte load.
fn scale_min(wi: WInfo, gi: u32) -> vec2<f32> {
  let i = wi.scale_off + 2u * gi;
  let q = buf_wq[i >> 2u];
  return bitcast<vec2<f32>>(select(q.xy, q.zw, (i & 2u) != 0u));
}

// Nibble j of the four words as floats: OR-ing a nibble into the mantissa of 2^23 and
// subtracting 2^23 is exact and cheaper than an integer-to-float conversion.
fn nib4(w: vec4<u32>, j: u32) -> vec4<f32> {
  let bits = ((w >> vec4<u32>(4u * j)) & vec4<u32>(15u)) | vec4<u32>(0x4B000000u);
  return bitcast<vec4<f32>>(bits) - vec4<f32>(8388608.0);
}

// sum_i (m + q_i s) x_i = s * sum_i q_i x_i + m * sx
fn w_unit_dot(wi: WInfo, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  let w = buf_wq[wi.base + row * wi.stride + u];
  let sm = scale_min(wi, row * (wi.stride / 4u) + u / 4u);
  var x = xv;
  var qx = 0.0;
  for (var j = 0u; j < 8u; j++) { qx += dot(nib4(w, j), x[j]); }
  return sm.x * qx + sm.y * sx;
}

fn w_vec4(wi: WInfo, row: u32, c: u32) -> vec4<f32> {
  let g = c / 128u;
  let e = c % 128u;
  let w = buf_wq[wi.base + row * wi.stride + g * 4u + (e % 16u) / 4u];
  let sm = scale_min(wi, row * (wi.stride / 4u) + g);
  let q = vec4<f32>((w >> vec4<u32>(4u * (e / 16u))) & vec4<u32>(15u));
  return sm.y + q * sm.x;
}
