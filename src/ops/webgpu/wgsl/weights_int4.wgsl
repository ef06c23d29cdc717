// Int4 g128 weight rows (ops/qmatrix.h): per group of 128 columns 16 u32 words; word k packs
// columns k + 16 j in nibble j. A vec4<u32> unit is words 4m..4m+3 of one group, i.e. 8 chunks
// of 4 consecutive columns (one per nibble). Per (row, group) gi an f32 scale and minimum, as a
// pair at words scale_off + 2 gi (scale_off even; min_off = scale_off + 1): w = minv + q * scale.
// Same interface as weights_f32.wgsl.

const UNIT: u32 = 32u;
const XN: u32 = 8u;

fn unit_elem(u: u32, j: u32) -> u32 { return (u / 4u) * 128u + j * 16u + (u % 4u) * 4u; }

// (scale, minimum) of group gi of the matrix: one 8-byte load.
fn scale_min(wi: WeightRef, gi: u32) -> vec2<f32> {
  let i = wi.scale_off + 2u * gi;
  let q = buf_wq[i >> 2u];
  return bitcast<vec2<f32>>(select(q.xy, q.zw, (i & 2u) != 0u));
}

// Nibble j of each word moved to mantissa bits 19..22 of 1.0 reads as 1 + q/16 (one shift and
// one masked OR, exact): b holds the words shifted so that the nibble sits at bits 19..22.
fn one_plus_q16(b: vec4<u32>) -> vec4<f32> {
  return bitcast<vec4<f32>>((b & vec4<u32>(0x00780000u)) | vec4<u32>(0x3F800000u));
}

// sum_i (1 + q_i/16) x_i = sx + qx/16, so sum_i (m + q_i s) x_i = 16 s (f - sx) + m sx.
fn w_unit_dot(wi: WeightRef, row: u32, u: u32, xv: array<vec4<f32>, XN>, sx: f32) -> f32 {
  let w = buf_wq[wi.base + row * wi.stride + u];
  let sm = scale_min(wi, row * (wi.stride / 4u) + u / 4u);
  var f = dot(one_plus_q16(w << vec4<u32>(19u)), xv[0]);
  f += dot(one_plus_q16(w << vec4<u32>(15u)), xv[1]);
  f += dot(one_plus_q16(w << vec4<u32>(11u)), xv[2]);
  f += dot(one_plus_q16(w << vec4<u32>(7u)), xv[3]);
  f += dot(one_plus_q16(w << vec4<u32>(3u)), xv[4]);
  f += dot(one_plus_q16(w >> vec4<u32>(1u)), xv[5]);
  f += dot(one_plus_q16(w >> vec4<u32>(5u)), xv[6]);
  f += dot(one_plus_q16(w >> vec4<u32>(9u)), xv[7]);
  return 16.0 * sm.x * (f - sx) + sm.y * sx;
}

fn w_vec4(wi: WeightRef, row: u32, c: u32) -> vec4<f32> {
  let g = c / 128u;
  let e = c % 128u;
  let w = buf_wq[wi.base + row * wi.stride + g * 4u + (e % 16u) / 4u];
  let sm = scale_min(wi, row * (wi.stride / 4u) + g);
  let q = vec4<f32>((w >> vec4<u32>(4u * (e / 16u))) & vec4<u32>(15u));
  return sm.y + q * sm.x;
}
